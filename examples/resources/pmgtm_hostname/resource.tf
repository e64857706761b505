# Two load balancers, each running pmgtm-agent, behind api.example.com.
resource "pmgtm_node" "lb1" {
  zone      = "example.com"
  name      = "lb1"
  ipv4      = "198.51.100.10"
  agent_url = "https://198.51.100.10:8053"
}

resource "pmgtm_node" "lb2" {
  zone      = "example.com"
  name      = "lb2"
  ipv4      = "203.0.113.20"
  ipv6      = "2001:db8:20::20"
  agent_url = "https://203.0.113.20:8053"
}

# api.example.com NS lb1.example.com, lb2.example.com: each node answers
# with its own address; a resolver that cannot reach one node asks the
# other. The zones are pushed and checked before the delegation is made.
resource "pmgtm_hostname" "api" {
  zone       = "example.com"
  name       = "api"
  nodes      = [pmgtm_node.lb1.node, pmgtm_node.lb2.node]
  answer_ttl = 30
  ns_ttl     = 300

  # Served by every node at api.example.com: which CA may issue, and the
  # protocols clients may use (with each node's own address as the hint).
  caa   = [{ tag = "issue", value = "letsencrypt.org" }]
  https = { alpn = ["h2", "http/1.1"] }

  timeouts {
    create = "5m"
  }
}

output "api_failover_budget" {
  description = "Worst-case seconds for new lookups to leave a dead node, per resolver family."
  value       = pmgtm_hostname.api.failover_budget
}
