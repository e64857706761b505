package dnsrig

import (
	"errors"
	"net"
	"strconv"
)

// FreePort returns a port free for both UDP and TCP on ip right now, as a
// DNS server needs.
func FreePort(ip string) (int, error) {
	for range 50 {
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, err
		}
		ua, ok := u.LocalAddr().(*net.UDPAddr)
		u.Close()
		if !ok {
			return 0, errors.New("not a UDP address: " + u.LocalAddr().String())
		}
		port := ua.Port
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err == nil {
			l.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both UDP and TCP on " + ip)
}
