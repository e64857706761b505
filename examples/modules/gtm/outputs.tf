output "fqdns" {
  description = "Fully qualified hostnames, by hostname key."
  value       = { for k, h in pmgtm_hostname.this : k => h.fqdn }
}

output "nameservers" {
  description = "The NS set each hostname is delegated to, by hostname key."
  value       = { for k, h in pmgtm_hostname.this : k => h.nameservers }
}

output "failover_budget" {
  description = "Worst-case seconds for new lookups to leave a dead node, per resolver family, by hostname key."
  value       = { for k, h in pmgtm_hostname.this : k => h.failover_budget }
}

output "node_nameservers" {
  description = "Each node's nameserver name, by node key."
  value       = { for k, n in pmgtm_node.this : k => n.nameserver }
}
