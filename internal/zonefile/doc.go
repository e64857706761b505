// Package zonefile renders a node's zone as RFC 1035 master-file text and
// a CoreDNS Corefile that serves it, for users who run CoreDNS (or another
// authoritative server) instead of pmgtm-agent, or provision with
// cloud-init. The text answers exactly as the agent does: the node's own
// addresses at the apex and at every name beneath it.
package zonefile
