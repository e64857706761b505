// Package dnsserver runs the agent's DNS listeners: UDP read loops and TCP
// connections, each answering through the responder.
package dnsserver

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
)

// Server answers DNS over UDP and TCP.
type Server struct {
	Table          func() *responder.Table
	Log            *slog.Logger
	MaxTCPConns    int           // further connections are closed at once
	TCPIdleTimeout time.Duration // RFC 7766 §6.2.3: a few seconds
	UDPWorkers     int           // readers per UDP socket; 0 means GOMAXPROCS
	// Limiter rate-limits UDP answers per client prefix; nil disables it.
	// TCP is not limited: its clients cannot spoof their address.
	Limiter *rrl.Limiter

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ServeUDP answers on conn until it is closed. A socket bound to one
// address is read in batches by one goroutine (ListenUDP opens one per
// CPU); a wildcard socket is read by UDPWorkers goroutines with packet info.
func (s *Server) ServeUDP(conn *net.UDPConn) {
	local, _ := netip.ParseAddrPort(conn.LocalAddr().String())
	if !local.Addr().IsUnspecified() {
		if batchSupported {
			s.udpBatchLoop(conn)
		} else {
			s.udpLoop(conn, false)
		}
		return
	}
	// Bound to every address: ask the kernel which address each query came
	// to, so the answer leaves from it (resolvers drop answers from an
	// address they did not ask).
	wildcard := true
	if err := enablePacketInfo(conn); err != nil {
		s.Log.Warn("cannot learn query destinations; answers from a wildcard socket may leave from another address", "error", err)
		wildcard = false
	}
	workers := s.UDPWorkers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.udpLoop(conn, wildcard)
		}()
	}
	wg.Wait()
}

func (s *Server) udpLoop(conn *net.UDPConn, wildcard bool) {
	req := make([]byte, 65535)
	buf := make([]byte, 0, responder.MaxTCPMessage)
	oob := make([]byte, 128)
	for {
		var n, oobn int
		var from netip.AddrPort
		var err error
		if wildcard {
			n, oobn, _, from, err = conn.ReadMsgUDPAddrPort(req, oob)
		} else {
			n, from, err = conn.ReadFromUDPAddrPort(req)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. ICMP errors surfaced on the socket
		}
		tab := s.Table()
		resp, out := responder.Respond(tab, req[:n], buf, false)
		if resp == nil {
			if out.Dropped {
				tab.Count(out)
			}
			continue
		}
		tab.Count(out)
		if s.Limiter != nil {
			zone, class := out.LimitKey()
			switch s.Limiter.Allow(from.Addr(), zone, class) {
			case rrl.Drop:
				continue
			case rrl.Slip:
				resp = responder.Truncate(resp)
			}
		}
		if wildcard {
			_, _, err = conn.WriteMsgUDPAddrPort(resp, replySource(oob[:oobn]), from)
		} else {
			_, err = conn.WriteToUDPAddrPort(resp, from)
		}
		if err != nil && !errors.Is(err, net.ErrClosed) {
			s.Log.Debug("udp write failed", "to", from, "error", err)
		}
	}
}

// ServeTCP accepts connections on ln until it is closed.
func (s *Server) ServeTCP(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			time.Sleep(10 * time.Millisecond) // e.g. EMFILE: back off
			continue
		}
		if !s.track(c) {
			c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serveConn(c)
		}()
	}
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || (s.MaxTCPConns > 0 && len(s.conns) >= s.MaxTCPConns) {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// serveConn answers length-prefixed queries (RFC 1035 §4.2.2) in order
// until the client closes, goes idle or sends garbage.
func (s *Server) serveConn(c net.Conn) {
	idle := s.TCPIdleTimeout
	if idle <= 0 {
		idle = 10 * time.Second
	}
	req := make([]byte, 65535)
	buf := make([]byte, 2, 2+responder.MaxTCPMessage)
	for {
		_ = c.SetReadDeadline(time.Now().Add(idle))
		if _, err := io.ReadFull(c, req[:2]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(req))
		if _, err := io.ReadFull(c, req[:n]); err != nil {
			return
		}
		tab := s.Table()
		resp, out := responder.Respond(tab, req[:n], buf[2:2], true)
		if resp == nil {
			if out.Dropped {
				tab.Count(out)
			}
			return
		}
		tab.Count(out)
		msg := buf[:2+len(resp)]
		binary.BigEndian.PutUint16(msg, uint16(len(resp)))
		_ = c.SetWriteDeadline(time.Now().Add(idle))
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

// CloseConns ends every open TCP connection and refuses new ones, then
// waits for their goroutines. Close the listeners first.
func (s *Server) CloseConns() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.wg.Wait()
}
