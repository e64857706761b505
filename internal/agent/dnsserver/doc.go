// Package dnsserver runs the agent's DNS listeners: UDP read loops and TCP
// connections, each answering through the responder.
package dnsserver
