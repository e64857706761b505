package dnsserver

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

// ListenUDP opens the UDP sockets for addr: on Linux one per CPU sharing
// the port (SO_REUSEPORT), so that the kernel spreads queries over CPUs and
// each socket is read by one goroutine; a wildcard address gets a single
// socket read by several goroutines, since answers need packet info.
func ListenUDP(addr string) ([]*net.UDPConn, error) {
	ap, err := netip.ParseAddrPort(addr)
	wildcard := err != nil || ap.Addr().IsUnspecified()
	n := runtime.GOMAXPROCS(0)
	if wildcard || !reusePortSupported {
		n = 1
	}
	lc := net.ListenConfig{}
	if n > 1 {
		lc.Control = setReusePort
	}
	var conns []*net.UDPConn
	for i := range n {
		a := addr
		if i > 0 {
			a = conns[0].LocalAddr().String() // same port when addr asked for port 0
		}
		pc, err := lc.ListenPacket(context.Background(), "udp", a)
		if err != nil {
			for _, c := range conns {
				c.Close()
			}
			return nil, fmt.Errorf("DNS listen udp %s: %w", addr, err)
		}
		uc, ok := pc.(*net.UDPConn)
		if !ok {
			pc.Close()
			return nil, fmt.Errorf("DNS listen udp %s: a %T, not a UDP socket", addr, pc)
		}
		conns = append(conns, uc)
	}
	return conns, nil
}
