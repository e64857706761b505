# Parent zone on Cloudflare. The token needs Zone.DNS:Edit on the zone;
# leave api_token out to read CLOUDFLARE_API_TOKEN.
provider "pmgtm" {
  cloudflare {
    api_token = var.cloudflare_api_token
  }
  agent {
    token       = var.agent_token
    ca_cert_pem = var.agents_ca_pem # e.g. file("agents-ca.pem")
  }
}

variable "cloudflare_api_token" {
  type      = string
  sensitive = true
}

variable "agent_token" {
  type      = string
  sensitive = true
}

variable "agents_ca_pem" {
  description = "PEM CA that signs the agents' TLS certificates."
  type        = string
  default     = null
}
