// Package fence is the agent's self-fencing: it checks the node's local
// load balancer for each zone that has a health check, and withdraws the
// zone while the check fails or the zone is drained, unless no peer of the
// zone is healthy (then a withdrawal would take the hostname down, so the
// node keeps answering). The decisions are pure functions; Runner does the
// checking and the timing.
package fence
