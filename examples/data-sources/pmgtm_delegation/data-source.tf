# The live delegation of api.example.com: the parent's NS set and what each
# node answers. The check block warns on every plan and apply while a node
# is lame; a postcondition would stop the run instead.
data "pmgtm_delegation" "api" {
  zone = "example.com"
  name = "api"
}

check "api_nodes_answer" {
  assert {
    condition     = length(data.pmgtm_delegation.api.lame_nodes) == 0
    error_message = "Nodes of api.example.com that do not answer: ${join(", ", data.pmgtm_delegation.api.lame_nodes)}"
  }
}

output "api_healthy_nodes" {
  value = data.pmgtm_delegation.api.healthy_nodes
}
