# Parent zone on Cloudflare. With zone_id, a token with Zone.DNS:Edit on that
# zone alone is enough (without it, Zone:Read too);
# leave api_token out to read CLOUDFLARE_API_TOKEN.
provider "pmgtm" {
  cloudflare {
    api_token = var.cloudflare_api_token
    zone_id   = var.cloudflare_zone_id
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

variable "cloudflare_zone_id" {
  description = "The zone's id, from its overview page in the dashboard; null looks the zone up by name (needs Zone:Read)."
  type        = string
  default     = null
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
