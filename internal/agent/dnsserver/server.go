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

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/connlimit"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
)

// Server answers DNS over UDP and TCP.
type Server struct {
	Table func() *responder.Table
	Log   *slog.Logger
	// TCP connections (RFC 7766 §6.2.3): at most MaxTCPConns in all and
	// MaxTCPPerPrefix per client prefix (the rate limiter's prefix
	// lengths); when either is reached the oldest idle connection makes
	// room. Each closes when idle for TCPIdleTimeout, after
	// TCPMaxQueries queries or after TCPMaxLifetime.
	MaxTCPConns     int
	MaxTCPPerPrefix int
	TCPIdleTimeout  time.Duration
	TCPMaxQueries   int
	TCPMaxLifetime  time.Duration
	IPv4Prefix      int
	IPv6Prefix      int
	UDPWorkers      int // readers per UDP socket; 0 means GOMAXPROCS
	// Limiter rate-limits UDP answers per client prefix; nil disables it.
	// TCP is not limited: its clients cannot spoof their address.
	Limiter *rrl.Limiter

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	limit  *connlimit.Limiter
	closed bool
	wg     sync.WaitGroup // TCP connections

	// What Serve was given, for Shutdown.
	udps    []*net.UDPConn
	tcps    []net.Listener
	serving sync.WaitGroup
}

// Serve answers on every socket, each in goroutines of its own, and
// returns at once; the Server owns the sockets from then on, and Shutdown
// closes them.
func (s *Server) Serve(udps []*net.UDPConn, tcps []net.Listener) {
	s.mu.Lock()
	s.udps, s.tcps = append(s.udps, udps...), append(s.tcps, tcps...)
	s.mu.Unlock()
	for _, u := range udps {
		s.serving.Go(func() { s.ServeUDP(u) })
	}
	for _, t := range tcps {
		s.serving.Go(func() { s.ServeTCP(t) })
	}
}

// Shutdown closes the sockets Serve was given, ends open TCP connections,
// and returns when every goroutine of the Server has.
func (s *Server) Shutdown() {
	s.mu.Lock()
	udps, tcps := s.udps, s.tcps
	s.mu.Unlock()
	for _, u := range udps {
		u.Close()
	}
	for _, t := range tcps {
		t.Close()
	}
	s.CloseConns()
	s.serving.Wait()
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
		resp := s.answer(s.Table(), req[:n], buf, from.Addr(), false, false)
		if resp == nil {
			continue
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

// answer is the one answer path of every listener: the responder's
// answer, counted, then (over UDP) rate-limited, which may drop it or
// send it truncated. tooLarge marks a UDP query that did not fit the
// receive buffer: it gets its question back, truncated, so that the
// client asks again over TCP. A nil result means send nothing (a silent
// withdrawal, a malformed query, a limited answer); a non-nil one may
// return to the caller's TCP connection.
func (s *Server) answer(tab *responder.Table, req, buf []byte, client netip.Addr, tcp, tooLarge bool) []byte {
	resp, out := responder.Respond(tab, req, buf, tcp)
	if resp == nil {
		if out.Dropped {
			tab.Count(out)
		}
		return nil
	}
	tab.Count(out)
	if tooLarge {
		resp = responder.Truncate(resp)
	}
	if s.Limiter != nil && !tcp {
		zone, class := out.LimitKey()
		switch s.Limiter.Allow(client, zone, class) {
		case rrl.Drop:
			return nil
		case rrl.Slip:
			resp = responder.Truncate(resp)
		}
	}
	return resp
}

// ServeTCP accepts connections on ln until it is closed.
func (s *Server) ServeTCP(ln net.Listener) {
	var warned time.Time
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
			if time.Since(warned) > time.Second { // at most once a second
				s.Log.Warn("dns tcp accept failed", "error", err)
				warned = time.Now()
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
	if s.closed {
		return false
	}
	if s.limit == nil {
		s.limit = &connlimit.Limiter{Max: s.MaxTCPConns, PerSource: s.MaxTCPPerPrefix, IPv4Prefix: s.IPv4Prefix, IPv6Prefix: s.IPv6Prefix}
		s.conns = make(map[net.Conn]struct{})
	}
	if !s.limit.Admit(c) {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.limit.Release(c)
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
	maxQueries, lifetime := s.TCPMaxQueries, s.TCPMaxLifetime
	if maxQueries <= 0 {
		maxQueries = 1000
	}
	if lifetime <= 0 {
		lifetime = 2 * time.Minute
	}
	end := time.Now().Add(lifetime)
	req := make([]byte, 65535)
	buf := make([]byte, 2, 2+responder.MaxTCPMessage)
	for range maxQueries {
		deadline := time.Now().Add(idle)
		if end.Before(deadline) {
			deadline = end
		}
		_ = c.SetReadDeadline(deadline)
		if _, err := io.ReadFull(c, req[:2]); err != nil {
			return
		}
		s.limit.Busy(c)
		n := int(binary.BigEndian.Uint16(req))
		if _, err := io.ReadFull(c, req[:n]); err != nil {
			return
		}
		resp := s.answer(s.Table(), req[:n], buf[2:2], netip.Addr{}, true, false)
		if resp == nil {
			return
		}
		msg := buf[:2+len(resp)]
		binary.BigEndian.PutUint16(msg, uint16(len(resp)))
		_ = c.SetWriteDeadline(time.Now().Add(idle))
		if _, err := c.Write(msg); err != nil {
			return
		}
		s.limit.Idle(c)
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
