// Package dnsrig runs real DNS software for the demo and the end-to-end
// tests: a BIND primary for the parent zone (RFC 2136 with TSIG) and an
// Unbound resolver, each in the foreground in its own directory, stopped
// by PID. Only loopback addresses are used.
package dnsrig
