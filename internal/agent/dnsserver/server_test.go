package dnsserver

import (
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/store"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func testZone(t *testing.T, addr string) zone.Zone {
	t.Helper()
	z, fe := zone.Body{IPv4: []string{addr}, Nameservers: []string{"lb1.example.test"}}.Canonical("api.example.test")
	if fe != nil {
		t.Fatal(fe)
	}
	return z
}

// storeWithZone is a store serving api.example.test at 127.0.0.11.
func storeWithZone(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, _, err := st.Put(testZone(t, "127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	return st
}

// listen opens a UDP socket and a TCP listener on loopback.
func listen(t *testing.T) (*net.UDPConn, net.Listener) {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return pc, ln
}

func startServer(t *testing.T, st *store.Store) (udpAddr, tcpAddr string) {
	t.Helper()
	pc, ln := listen(t)
	// One TCP connection carries every query of a test: no query cap.
	srv := &Server{Table: st.Table, Log: slog.New(slog.DiscardHandler), MaxTCPConns: 8, TCPIdleTimeout: time.Second, TCPMaxQueries: 1 << 30}
	srv.Serve([]*net.UDPConn{pc}, []net.Listener{ln})
	t.Cleanup(srv.Shutdown)
	return pc.LocalAddr().String(), ln.Addr().String()
}

// TestShutdown: Shutdown closes the sockets Serve was given, ends a TCP
// connection a client holds open, and returns once every goroutine has.
func TestShutdown(t *testing.T) {
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pc, ln := listen(t)
	srv := &Server{Table: st.Table, Log: slog.New(slog.DiscardHandler), TCPIdleTimeout: time.Minute}
	srv.Serve([]*net.UDPConn{pc}, []net.Listener{ln})
	held, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	time.Sleep(50 * time.Millisecond) // accepted
	done := make(chan struct{})
	go func() { srv.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return with a client's connection open")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the TCP listener still accepts after Shutdown")
	}
	_ = held.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := held.Read(make([]byte, 1)); err == nil {
		t.Error("the held connection is still open after Shutdown")
	}
}

// TestNoWrongAnswerDuringReplacements queries at full speed while the zone
// is replaced 1,000 times: every answer must be complete and one of the
// two versions, and no query may go unanswered.
func TestNoWrongAnswerDuringReplacements(t *testing.T) {
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	versions := []zone.Zone{testZone(t, "127.0.0.11"), testZone(t, "127.0.0.12")}
	if _, _, err := st.Put(versions[0]); err != nil {
		t.Fatal(err)
	}
	udpAddr, tcpAddr := startServer(t, st)

	var stop atomic.Bool
	var answered, failed atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			netw, addr := "udp", udpAddr
			if i == 3 {
				netw, addr = "tcp", tcpAddr
			}
			c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
			conn, err := c.Dial(addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for n := 0; !stop.Load() && n < 2_000_000; n++ {
				q := new(dns.Msg).SetQuestion(fmt.Sprintf("q%d.api.example.test.", n), dns.TypeA)
				r, _, err := c.ExchangeWithConn(q, conn)
				ok := err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 1
				if ok {
					a := r.Answer[0].(*dns.A).A.String()
					ok = a == "127.0.0.11" || a == "127.0.0.12"
				}
				if ok {
					answered.Add(1)
				} else {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%s: %v %v", netw, err, r))
				}
			}
		}()
	}
	for i := range 1000 {
		if _, _, err := st.Put(versions[(i+1)%2]); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() > 0 || answered.Load() < 1000 {
		t.Fatalf("%d answered, %d failed or wrong; first: %v", answered.Load(), failed.Load(), firstFailure.Load())
	}
	t.Logf("%d queries answered correctly during 1000 replacements", answered.Load())
}

func TestTCPConnectionCap(t *testing.T) {
	st := storeWithZone(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// As the agent's defaults, scaled down: 64 in all, 8 per address.
	srv := &Server{Table: st.Table, Log: slog.New(slog.DiscardHandler), MaxTCPConns: 64, MaxTCPPerPrefix: 8, IPv4Prefix: 32,
		TCPIdleTimeout: 5 * time.Second, TCPMaxQueries: 3}
	done := make(chan struct{})
	go func() { defer close(done); srv.ServeTCP(ln) }()
	defer func() { ln.Close(); srv.CloseConns(); <-done }()
	addr := ln.Addr().String()
	dialFrom := func(src string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
		return d.Dial("tcp", addr)
	}
	// 130 held connections that never send anything, from 13 addresses
	// (more than the cap in all, and than each address may hold).
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range 130 {
		c, err := dialFrom(fmt.Sprintf("127.0.1.%d", 1+i%13))
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(100 * time.Millisecond)
	// A real client from another address is served every time.
	for i := range 25 {
		c, err := dialFrom("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		tc := &dns.Conn{Conn: c}
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		m := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
		if err := tc.WriteMsg(m); err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if r, err := tc.ReadMsg(); err != nil || len(r.Answer) != 1 {
			t.Fatalf("query %d over TCP beside held connections: %v %v", i, r, err)
		}
		c.Close()
	}
	if n := srv.limit.Len(); n > 64 {
		t.Errorf("%d connections admitted, cap 64", n)
	}
	// A connection is closed after TCPMaxQueries queries.
	c, err := dialFrom("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tc := &dns.Conn{Conn: c}
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	answered := 0
	for range 5 {
		if tc.WriteMsg(new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)) != nil {
			break
		}
		if _, err := tc.ReadMsg(); err != nil {
			break
		}
		answered++
	}
	if answered != 3 {
		t.Errorf("%d queries answered on one connection, want the cap of 3", answered)
	}
}

// TestWildcardAnswersFromQueriedAddress binds to every address and queries
// a secondary loopback address: the answer must come from the address that
// was asked, or a connected client (like a resolver) never sees it.
func TestWildcardAnswersFromQueriedAddress(t *testing.T) {
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := st.Put(testZone(t, "127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, bind := range []string{"0.0.0.0:0", "[::]:0"} {
		pc, err := net.ListenPacket("udp", bind)
		if err != nil {
			t.Fatal(err)
		}
		srv := &Server{Table: st.Table, Log: slog.New(slog.DiscardHandler), UDPWorkers: 1}
		done := make(chan struct{})
		go func() { srv.ServeUDP(pc.(*net.UDPConn)); close(done) }()
		port := pc.LocalAddr().(*net.UDPAddr).Port
		c := &dns.Client{Net: "udp", Timeout: time.Second}
		q := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
		r, _, err := c.Exchange(q, fmt.Sprintf("127.0.0.13:%d", port))
		pc.Close()
		<-done
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("bound to %s, asked 127.0.0.13: %v %v", bind, err, r)
		}
	}
}

// TestLargeUDPQuery: a query of 5,000 bytes (EDNS padding) is not dropped
// on the batched path: it gets its question back, truncated, and the
// client's retry over TCP is answered.
func TestLargeUDPQuery(t *testing.T) {
	st := storeWithZone(t)
	udpAddr, _ := startServer(t, st)
	m := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	opt := m.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 5000)})
	c := &dns.Client{Timeout: 2 * time.Second, UDPSize: 65535}
	r, _, err := c.Exchange(m, udpAddr)
	if err != nil || r.Id != m.Id || len(r.Question) != 1 || r.Question[0].Name != "api.example.test." || (!r.Truncated && len(r.Answer) != 1) {
		t.Fatalf("5,000-byte query over UDP: %v %v", r, err)
	}
	if r.Truncated {
		_, tcpAddr := startServer(t, st)
		r, _, err = (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).Exchange(m, tcpAddr)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("the retry over TCP: %v %v", r, err)
		}
	}
}
