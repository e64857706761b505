// Package agent is the pmgtm node agent: an authoritative DNS server for
// the GTM hostnames delegated to this node, provisioned through an HTTP API.
package agent
