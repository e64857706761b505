package fence

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/dnsserver"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// node is one agent's zone, fencing and DNS answers, in process: the
// Zones a Runner drives, served over real UDP by the real responder.
type node struct {
	mu    sync.Mutex
	z     zone.Zone
	fence responder.Fence
	table atomic.Pointer[responder.Table]
	addr  string // where its DNS answers
	// withdrawals counts SetFence calls that withdrew the zone.
	withdrawals atomic.Int32
}

func (n *node) Fenced() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.z.Fenced() {
		return nil
	}
	return []string{n.z.Name}
}
func (n *node) Get(name string) (zone.Zone, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.z, name == n.z.Name
}

func (n *node) SetFence(_ string, f responder.Fence) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.Withdraw != "" {
		n.withdrawals.Add(1)
	}
	n.fence = f
	n.table.Store(responder.NewTable([]*responder.Zone{responder.Compile(n.z, nil, f)}, nil))
	return true
}

func (n *node) withdrawn() bool { n.mu.Lock(); defer n.mu.Unlock(); return n.fence.Withdraw != "" }

// startNode serves z on a loopback UDP port until the test ends.
func startNode(t *testing.T, z zone.Zone) *node {
	t.Helper()
	n := &node{z: z}
	n.SetFence(z.Name, responder.Fence{})
	n.withdrawals.Store(0)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &dnsserver.Server{Table: n.table.Load, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	done := make(chan struct{})
	go func() { defer close(done); srv.ServeUDP(conn) }()
	t.Cleanup(func() { conn.Close(); <-done })
	n.addr = conn.LocalAddr().String()
	return n
}

// pairZone is node i's zone of a hostname whose pairNodes nodes are lb1,
// lb2, ... at 127.0.0.1, 127.0.0.2, ...; check is its local health check.
// pairNodes is how many nodes a test hostname has.
const pairNodes = 2

func pairZone(t *testing.T, i int, key string, check *zone.HealthCheckBody) zone.Zone {
	t.Helper()
	self := "lb" + strconv.Itoa(i+1) + ".example.test"
	b := zone.Body{IPv4: []string{"127.0.0." + strconv.Itoa(i+1)}, SOA: &zone.SOABody{MName: self},
		HealthCheck: check, Withdraw: zone.WithdrawRefused, PeerKey: key}
	for j := range pairNodes {
		ns := "lb" + strconv.Itoa(j+1) + ".example.test"
		b.Nameservers = append(b.Nameservers, ns)
		if j != i {
			b.Peers = append(b.Peers, zone.Peer{Name: ns, IPv4: []string{"127.0.0." + strconv.Itoa(j+1)}})
		}
	}
	z, fe := b.Canonical("api.example.test")
	if fe != nil {
		t.Fatal(fe)
	}
	return z
}

// via sends each peer question to the node serving the peer's address,
// with a round trip of rtt (half on the way there, half back).
func via(nodes map[string]*node, rtt time.Duration) func(context.Context, *dns.Msg, string) (*dns.Msg, error) {
	c := &dns.Client{Timeout: time.Second}
	wait := func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rtt / 2):
			return nil
		}
	}
	return func(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
		host, _, _ := net.SplitHostPort(addr)
		if err := wait(ctx); err != nil {
			return nil, err
		}
		resp, _, err := c.ExchangeContext(ctx, m, nodes[host].addr)
		if err == nil {
			err = wait(ctx)
		}
		return resp, err
	}
}

// TestPeerHealthIsAuthenticated: only the peer's own answer, with a MAC
// for this question's nonce under the hostname's key, makes it healthy. A
// spoofer answering "ok" (for the question or any name), a replay of a
// real answer to an earlier question, a peer answering under another key,
// and a zone without a key all leave it unhealthy.
func TestPeerHealthIsAuthenticated(t *testing.T) {
	key := zone.NewPeerKey()
	peer := startNode(t, pairZone(t, 1, key, nil))
	other := startNode(t, pairZone(t, 1, zone.NewPeerKey(), nil))
	asker := pairZone(t, 0, key, nil)

	var recorded atomic.Pointer[dns.Msg]
	spoof := func(owner func(q string) string) func(context.Context, *dns.Msg, string) (*dns.Msg, error) {
		return func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			r := new(dns.Msg).SetReply(m)
			r.Authoritative = true
			name := owner(m.Question[0].Name)
			r.Question[0].Name = name
			r.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: zone.HealthTXT(zone.HealthOK, 1, "")}}
			return r, nil
		}
	}
	real := via(map[string]*node{"127.0.0.2": peer}, 0)
	for _, c := range []struct {
		name     string
		zone     zone.Zone
		exchange func(context.Context, *dns.Msg, string) (*dns.Msg, error)
		healthy  bool
	}{
		{"spoofed, other owner", asker, spoof(func(string) string { return zone.HealthName("other.example.test.") }), false},
		{"spoofed, any name", asker, spoof(func(string) string { return "example.test." }), false},
		{"spoofed, the question", asker, spoof(func(q string) string { return q }), false},
		{"the peer under another key", asker, via(map[string]*node{"127.0.0.2": other}, 0), false},
		{"no key in the asking zone", pairZone(t, 0, "", nil), real, false},
		{"the peer", asker, func(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
			r, err := real(ctx, m, addr)
			recorded.Store(r)
			return r, err
		}, true},
		{"a replay of the peer's answer", asker, func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			r := recorded.Load().Copy()
			r.Id = m.Id
			r.Question[0].Name, r.Answer[0].Header().Name = m.Question[0].Name, m.Question[0].Name
			return r, nil
		}, false},
	} {
		r := &Runner{exchange: c.exchange}
		got := len(r.healthyPeers(context.Background(), c.zone, time.Second)) == 1
		if got != c.healthy {
			t.Errorf("%s: healthy = %v, want %v", c.name, got, c.healthy)
		}
	}
}

// TestSimultaneousFailureNeverWithdrawsAll: every node's load balancer
// fails at the same instant, and a peer's answer takes 150 ms; in every
// trial at least one node keeps answering throughout, because each node
// publishes "failing" before it asks its peers.
func TestSimultaneousFailureNeverWithdrawsAll(t *testing.T) {
	const trials = 10
	for trial := range trials {
		lb, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := lb.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		check := &zone.HealthCheckBody{Type: "tcp", Target: lb.Addr().String(), IntervalMS: ptr(int64(100)), TimeoutMS: ptr(int64(50)),
			Fall: ptr(int64(1)), Rise: ptr(int64(1))}
		key := zone.NewPeerKey()
		byIP := map[string]*node{}
		var all []*node
		for i := range pairNodes {
			n := startNode(t, pairZone(t, i, key, check))
			byIP["127.0.0."+strconv.Itoa(i+1)] = n
			all = append(all, n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, n := range all {
			r := &Runner{Zones: n, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Scan: 20 * time.Millisecond, exchange: via(byIP, 150*time.Millisecond)}
			wg.Add(1)
			go func() { defer wg.Done(); r.Run(ctx) }()
		}
		time.Sleep(250 * time.Millisecond) // every loop running, every node healthy
		lb.Close()                         // every load balancer fails at once
		allOut := 0
		for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			out := 0
			for _, n := range all {
				if n.withdrawn() {
					out++
				}
			}
			if out == pairNodes {
				allOut++
			}
		}
		cancel()
		wg.Wait()
		if allOut > 0 {
			t.Errorf("trial %d: every node withdrawn in %d samples", trial, allOut)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestHealthTXTRoundTrip(t *testing.T) {
	rec, ok := zone.ParseHealthTXT(zone.HealthTXT(zone.HealthDrained, 42, "ab12"))
	if !ok || rec.State != zone.HealthDrained || rec.Serial != 42 || rec.MAC != "ab12" {
		t.Fatalf("%+v %v", rec, ok)
	}
	for _, bad := range [][]string{{"ok"}, {"okay", "serial=1"}, {"ok", "serial=x"}, {"ok", "1"}} {
		if _, ok := zone.ParseHealthTXT(bad); ok {
			t.Errorf("%q parsed as a health record", bad)
		}
	}
}
