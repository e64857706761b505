package bind

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// FrontProxy sits between pmgtm and a primary server: it forwards every message, but
// answers UPDATEs itself, unsigned, or (signed) when it knows the key, the
// way a misbehaving secondary or a middlebox would.
func FrontProxy(t testing.TB, backend, secret string) string {
	t.Helper()
	return ServeTCP(t, func(c net.Conn) {
		go func() {
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			client := &dns.Conn{Conn: c}
			raw := make([]byte, dns.MaxMsgSize)
			n, err := client.Read(raw)
			if err != nil {
				return
			}
			req := new(dns.Msg)
			if req.Unpack(raw[:n]) != nil {
				return
			}
			if req.Opcode == dns.OpcodeUpdate {
				resp := new(dns.Msg).SetReply(req)
				out, _ := resp.Pack()
				if sig := req.IsTsig(); sig != nil && secret != "" {
					resp.SetTsig(sig.Hdr.Name, sig.Algorithm, 300, time.Now().Unix())
					out, _, _ = dns.TsigGenerate(resp, secret, sig.MAC, false)
				}
				_, _ = client.Write(out)
				return
			}
			up, err := net.DialTimeout("tcp", backend, 5*time.Second)
			if err != nil {
				return
			}
			defer up.Close()
			_ = up.SetDeadline(time.Now().Add(10 * time.Second))
			server := &dns.Conn{Conn: up}
			if _, err := server.Write(raw[:n]); err != nil {
				return
			}
			for { // relay every message of the answer (AXFR has several)
				m, err := server.Read(raw)
				if err != nil {
					return
				}
				if _, err := client.Write(raw[:m]); err != nil {
					return
				}
			}
		}()
	})
}

// ServeTCP accepts connections on a loopback port until the test ends and
// hands each to handle; it returns the address.
func ServeTCP(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	return ln.Addr().String()
}
