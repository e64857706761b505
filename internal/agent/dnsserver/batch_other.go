//go:build !(linux && (amd64 || arm64))

package dnsserver

import "net"

const batchSupported = false

func (s *Server) udpBatchLoop(conn *net.UDPConn) { s.udpLoop(conn, false) }
