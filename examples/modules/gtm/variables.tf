variable "zone" {
  description = "The parent zone that holds the nodes and delegates the hostnames, e.g. \"example.com\"."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]\\.?$", lower(var.zone)))
    error_message = "zone must be a domain name with at least two labels, such as \"example.com\"."
  }
}

variable "nodes" {
  description = "Load-balancer nodes by name (lb1 -> lb1.<zone>): their addresses and agent API URL."
  type = map(object({
    ipv4      = optional(string)
    ipv6      = optional(string)
    agent_url = string
    ttl       = optional(number, 300)
  }))

  validation {
    condition     = length(var.nodes) >= 2
    error_message = "Give at least two nodes: with one, the hostnames fail when it does."
  }
  validation {
    condition     = alltrue([for n in values(var.nodes) : n.ipv4 != null || n.ipv6 != null])
    error_message = "Every node needs ipv4, ipv6 or both."
  }
}

variable "hostnames" {
  description = "GTM hostnames by name (api -> api.<zone>), each served by every node."
  type = map(object({
    answer_ttl    = optional(number, 30)
    ns_ttl        = optional(number, 300)
    withdraw_mode = optional(string, "redirect")
    drain         = optional(list(string), [])
    health_check = optional(object({
      type          = string
      target        = string
      path          = optional(string)
      expect_status = optional(number)
      interval      = optional(string)
      timeout       = optional(string)
      fall          = optional(number)
      rise          = optional(number)
    }))
  }))

  validation {
    condition     = length(var.hostnames) >= 1
    error_message = "Give at least one hostname."
  }
  validation {
    condition     = alltrue([for h in values(var.hostnames) : h.ns_ttl >= h.answer_ttl])
    error_message = "ns_ttl must be at least answer_ttl for every hostname."
  }
}
