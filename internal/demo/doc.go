// Package demo is `make demo`: the whole product on loopback, end to end.
// It starts a BIND parent zone, two nodes (a tiny load balancer and a
// pmgtm-agent each) and an Unbound resolver, applies examples/demo with the
// real terraform CLI, and then breaks node 1 in two ways while it resolves
// fresh names through Unbound, printing a timeline. Everything it starts is
// stopped by PID, and its directory removed, on the way out.
package demo
