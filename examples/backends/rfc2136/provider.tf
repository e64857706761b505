# Parent zone on any RFC 2136 server (BIND, Knot DNS, PowerDNS) with a TSIG
# key allowed to update and transfer it. Leave the block's values out to
# read PMGTM_RFC2136_SERVER, _KEY_NAME, _KEY_ALGORITHM and _KEY_SECRET.
provider "pmgtm" {
  owner_id = "team-edge" # several Terraform configurations may share a zone; each owns its names
  rfc2136 {
    server        = "ns1.example.net:53"
    key_name      = "pmgtm."
    key_algorithm = "hmac-sha512"
    key_secret    = var.tsig_secret
    # Where another key transfers the zone, reads are signed with it:
    # transfer_key_name   = "pmgtm-xfr."
    # transfer_key_secret = var.tsig_transfer_secret
  }
  agent {
    token   = var.agent_token
    timeout = "5s"
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
