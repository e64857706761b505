// Package failoverbench measures failover through real recursive resolvers
// (Unbound, Knot Resolver, PowerDNS Recursor): for node 1 killed,
// blackholed, or withdrawn by self-fencing in each mode, the latency of the
// first fresh lookup (cold and warm resolver), the share of fresh lookups
// that reach the live node, and the time until a recovered node gets
// lookups again. It runs inside a network namespace that .ci/bench-failover
// creates, so it may bind port 53 anywhere on loopback and use iptables.
package failoverbench
