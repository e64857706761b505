# lb1.example.com A/AAAA in the parent zone, owned by this resource.
resource "pmgtm_node" "lb1" {
  zone      = "example.com"
  name      = "lb1"
  ipv4      = "198.51.100.10"
  ipv6      = "2001:db8::10"
  agent_url = "https://198.51.100.10:8053"
  ttl       = 300

  # This node's own agent credentials (no node holds another's): its token
  # (/etc/pmgtm-agent/token on the node) and its API certificate, pinned by
  # the fingerprint `pmgtm-agent fingerprint` prints there.
  agent_token           = var.lb1_agent_token
  agent_tls_fingerprint = "5B:3D:9A:41:0C:7E:22:F8:61:AE:93:04:B7:1F:C2:58:6D:E0:39:A4:11:8B:72:CF:05:D6:4E:90:2A:17:BB:63"
}

variable "lb1_agent_token" {
  description = "lb1's agent token; null falls back to the provider's agent.token."
  type        = string
  sensitive   = true
  default     = null
}
