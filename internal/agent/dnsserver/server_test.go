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

func startServer(t *testing.T, st *store.Store) (udpAddr, tcpAddr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{Table: st.Table, Log: slog.New(slog.DiscardHandler), MaxTCPConns: 8, TCPIdleTimeout: time.Second}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.ServeUDP(pc.(*net.UDPConn)) }()
	go func() { defer wg.Done(); srv.ServeTCP(ln) }()
	t.Cleanup(func() { pc.Close(); ln.Close(); srv.CloseConns(); wg.Wait() })
	return pc.LocalAddr().String(), ln.Addr().String()
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
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, tcpAddr := startServer(t, st)
	var held []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", tcpAddr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	time.Sleep(50 * time.Millisecond) // let the server account for them
	extra, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	_ = extra.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := extra.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection beyond the cap was served")
	}
	for _, c := range held {
		c.Close()
	}
	// Idle connections are closed after the idle timeout (1s here).
	c, _ := net.Dial("tcp", tcpAddr)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); err == nil || time.Since(start) > 4*time.Second {
		t.Fatalf("idle connection not closed by the server: %v after %s", err, time.Since(start))
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
