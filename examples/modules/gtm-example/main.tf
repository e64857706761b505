# Consuming the module: two nodes, two hostnames.
terraform {
  required_providers {
    pmgtm = {
      source = "pmgtm/pmgtm"
    }
  }
}

provider "pmgtm" {
  cloudflare {} # api_token from CLOUDFLARE_API_TOKEN
  agent {}      # token from PMGTM_AGENT_TOKEN
}

module "gtm" {
  source = "../gtm" # from a registry: source = "pmgtm/gtm/pmgtm"

  zone = "example.com"
  nodes = {
    lb1 = { ipv4 = "198.51.100.10", agent_url = "https://198.51.100.10:8053" }
    lb2 = { ipv4 = "203.0.113.20", ipv6 = "2001:db8:20::20", agent_url = "https://203.0.113.20:8053" }
  }
  hostnames = {
    api = {
      health_check = { type = "https", target = "{ipv4}:443", path = "/healthz" }
    }
    www = {
      answer_ttl = 60
    }
  }
}

output "fqdns" {
  value = module.gtm.fqdns
}

output "failover_budget" {
  value = module.gtm.failover_budget
}
