# The demo's configuration: `make demo` applies it against a BIND parent
# zone and two agents, all on loopback. With real addresses and a real DNS
# host it is also the smallest useful pmgtm setup.
terraform {
  required_providers {
    pmgtm = { source = "pmgtm/pmgtm" }
  }
}

variable "rfc2136_server" {
  description = "host:port of the parent zone's primary server."
  type        = string
  default     = "127.0.0.1:53"
}

variable "tsig_secret" {
  description = "TSIG secret (hmac-sha256, base64) allowed to update example.test."
  type        = string
  sensitive   = true
}

variable "agent_token" {
  description = "Bearer token of the agents' API."
  type        = string
  sensitive   = true
}

provider "pmgtm" {
  rfc2136 {
    server     = var.rfc2136_server
    key_name   = "pmgtm-test."
    key_secret = var.tsig_secret
  }
  agent {
    token = var.agent_token
  }
}

resource "pmgtm_node" "lb1" {
  zone      = "example.test"
  name      = "lb1"
  ipv4      = "127.0.0.11"
  agent_url = "http://127.0.0.11:8053"
  ttl       = 60
}

resource "pmgtm_node" "lb2" {
  zone      = "example.test"
  name      = "lb2"
  ipv4      = "127.0.0.12"
  agent_url = "http://127.0.0.12:8053"
  ttl       = 60
}

resource "pmgtm_hostname" "api" {
  zone       = "example.test"
  name       = "api"
  nodes      = [pmgtm_node.lb1.node, pmgtm_node.lb2.node]
  answer_ttl = 5
  ns_ttl     = 60

  # Each agent checks the load balancer on its own node and withdraws the
  # hostname while it fails (answering with the healthy node's address).
  health_check = {
    type     = "http"
    target   = "{ipv4}:8080"
    path     = "/healthz"
    interval = "250ms"
    fall     = 2
    rise     = 2
  }
}

data "pmgtm_delegation" "api" {
  zone       = "example.test"
  name       = "api"
  depends_on = [pmgtm_hostname.api]
}

check "api_nodes_answer" {
  assert {
    condition     = length(data.pmgtm_delegation.api.lame_nodes) == 0
    error_message = "Nodes that do not answer: ${join(", ", data.pmgtm_delegation.api.lame_nodes)}"
  }
}

output "nameservers" {
  value = pmgtm_hostname.api.nameservers
}

output "failover_budget" {
  value = pmgtm_hostname.api.failover_budget
}
