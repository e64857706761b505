# The parent zone on an RFC 2136 server (BIND, Knot, PowerDNS) with TSIG.
# Alternatives: cloudflare { api_token = ... } or route53 { region = ... }.
provider "pmgtm" {
  rfc2136 {
    server     = "ns1.example.net:53"
    key_name   = "pmgtm."
    key_secret = var.tsig_secret
  }

  agent {
    token = var.agent_token
  }
}

variable "tsig_secret" {
  type      = string
  sensitive = true
}

variable "agent_token" {
  type      = string
  sensitive = true
}
