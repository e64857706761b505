# Two or more nodes and N hostnames served by all of them: the nodes'
# records first, then each hostname's zones and delegation.
resource "pmgtm_node" "this" {
  for_each = var.nodes

  zone      = var.zone
  name      = each.key
  ipv4      = each.value.ipv4
  ipv6      = each.value.ipv6
  agent_url = each.value.agent_url
  ttl       = each.value.ttl
}

resource "pmgtm_hostname" "this" {
  for_each = var.hostnames

  zone          = var.zone
  name          = each.key
  nodes         = [for name in sort(keys(var.nodes)) : pmgtm_node.this[name].node]
  answer_ttl    = each.value.answer_ttl
  ns_ttl        = each.value.ns_ttl
  withdraw_mode = each.value.withdraw_mode
  drain         = [for name in each.value.drain : pmgtm_node.this[name].nameserver]
  health_check  = each.value.health_check
}
