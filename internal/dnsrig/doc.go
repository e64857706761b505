// Package dnsrig runs real DNS software for the demo, the tests and the
// benchmarks: primaries for the parent zone (BIND, Knot DNS, PowerDNS;
// RFC 2136 with TSIG, signed or not) and resolvers (Unbound, Knot
// Resolver, PowerDNS Recursor), each in the foreground in its own
// directory, stopped by PID. Only loopback addresses are used.
package dnsrig
