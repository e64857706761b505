# Parent zone on Amazon Route 53, with credentials from the standard AWS
# chain (environment, shared config and credentials files, instance role).
provider "pmgtm" {
  route53 {
    region  = "us-east-1"
    profile = "dns-admin"
    # hosted_zone_id = "Z0123456789ABCDEFGHIJ"  # when several hosted zones share the name
  }
  agent {} # token from PMGTM_AGENT_TOKEN
}
