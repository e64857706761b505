# The zone lb1 serves for api.example.com, for a node that runs CoreDNS
# instead of pmgtm-agent (write content to /etc/coredns/db.api.example.com
# and the Corefile beside it, e.g. with cloud-init).
data "pmgtm_zone_file" "lb1_api" {
  zone = "example.com"
  name = "api"
  node = {
    nameserver = "lb1.example.com"
    ipv4       = "198.51.100.10"
    ipv6       = null
    agent_url  = "https://198.51.100.10:8053"
  }
  nodes = [
    { nameserver = "lb1.example.com", ipv4 = "198.51.100.10", ipv6 = null, agent_url = "https://198.51.100.10:8053" },
    { nameserver = "lb2.example.com", ipv4 = "203.0.113.20", ipv6 = null, agent_url = "https://203.0.113.20:8053" },
  ]
  answer_ttl = 30
}

output "lb1_zone_file" {
  value = data.pmgtm_zone_file.lb1_api.content
}

output "lb1_corefile" {
  value = data.pmgtm_zone_file.lb1_api.corefile
}
