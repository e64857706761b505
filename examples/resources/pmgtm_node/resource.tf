# lb1.example.com A/AAAA in the parent zone, owned by this resource.
resource "pmgtm_node" "lb1" {
  zone      = "example.com"
  name      = "lb1"
  ipv4      = "198.51.100.10"
  ipv6      = "2001:db8::10"
  agent_url = "https://198.51.100.10:8053"
  ttl       = 300
}
