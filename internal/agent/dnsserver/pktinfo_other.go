//go:build !linux

package dnsserver

import (
	"errors"
	"net"
)

// enablePacketInfo is implemented for Linux only, where the agent runs in
// production; elsewhere bind the agent to explicit addresses.
func enablePacketInfo(*net.UDPConn) error {
	return errors.New("answering from a wildcard address needs Linux; set --dns-listen to explicit addresses")
}

func replySource([]byte) []byte { return nil }
