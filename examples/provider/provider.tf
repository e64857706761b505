# The parent zone is hosted on an RFC 2136 server (BIND, Knot, PowerDNS);
# cloudflare and route53 blocks are the alternatives.
provider "pmgtm" {}
