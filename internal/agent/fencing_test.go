package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// newLocalLB starts a node's stand-in load balancer on a loopback port.
func newLocalLB(t *testing.T) *dnsrig.LoadBalancer {
	t.Helper()
	lb, err := dnsrig.StartLoadBalancer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lb.Close)
	return lb
}

// fencedPair runs two agents, each answering DNS on port 53 of its own
// loopback address, with a zone health-checking its own local LB.
type fencedPair struct {
	ips    [2]string
	agents [2]*agentproc.Agent
	lbs    [2]*dnsrig.LoadBalancer
	key    string // the hostname's peer key, on both nodes
}

func startFencedPair(t *testing.T, base string) *fencedPair {
	t.Helper()
	p := &fencedPair{ips: [2]string{base + "11", base + "12"}, key: zone.NewPeerKey()}
	for i := range p.agents {
		p.agents[i] = agentproc.Start(t, agentproc.Options{IP: p.ips[i], DNSPort: 53, Token: "fencing-test-token-0123456789"})
		p.lbs[i] = newLocalLB(t)
	}
	return p
}

func (p *fencedPair) put(t *testing.T, i int, withdraw string) {
	t.Helper()
	other := 1 - i
	b := zone.Body{IPv4: []string{p.ips[i]}, AnswerTTL: ptr(int64(5)),
		Nameservers: []string{"lb1.example.test", "lb2.example.test"},
		SOA:         &zone.SOABody{MName: fmt.Sprintf("lb%d.example.test", i+1)},
		HealthCheck: &zone.HealthCheckBody{Type: "http", Target: p.lbs[i].Addr, Path: "/healthz",
			IntervalMS: ptr(int64(100)), TimeoutMS: ptr(int64(100)), Fall: ptr(int64(2)), Rise: ptr(int64(2))},
		Withdraw: withdraw, PeerKey: p.key,
		Peers: []zone.Peer{{Name: fmt.Sprintf("lb%d.example.test", other+1), IPv4: []string{p.ips[other]}}},
	}
	if _, _, err := client(p.agents[i]).PutZone(context.Background(), "api.example.test", b); err != nil {
		t.Fatal(err)
	}
}

// answer asks node i for the hostname: the rcode and the addresses.
func (p *fencedPair) answer(i int) string {
	m := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 300 * time.Millisecond}).Exchange(m, p.ips[i]+":53")
	if err != nil {
		return "timeout"
	}
	out := dns.RcodeToString[r.Rcode]
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out += " " + a.A.String()
		} else {
			out += " " + rr.String()
		}
	}
	return out
}

// eventually waits (bounded) until node i answers want.
func (p *fencedPair) eventually(t *testing.T, i int, want, why string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = p.answer(i); got == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: node %d answers %q, want %q\nlogs:\n%s", why, i+1, got, want, p.agents[i].Logs())
}

func TestSelfFencingRedirectGuardAndDrain(t *testing.T) {
	p := startFencedPair(t, "127.0.4.")
	p.put(t, 0, "")
	p.put(t, 1, "")
	own1, own2 := "NOERROR "+p.ips[0], "NOERROR "+p.ips[1]
	p.eventually(t, 0, own1, "both healthy")
	p.eventually(t, 1, own2, "both healthy")

	p.lbs[0].Down.Store(true)
	p.eventually(t, 0, own2, "lb1's load balancer fails: redirect to lb2")
	// The runner records its state just after it swaps the answers, so a
	// scrape at the moment the answer changes may still see the old state.
	withdrawn := func(m string) bool {
		return strings.Contains(m, `pmgtm_zone_withdrawn{zone="api.example.test.",mode="redirect"} 1`) &&
			strings.Contains(m, `pmgtm_zone_local_healthy{zone="api.example.test."} 0`)
	}
	metrics := get(t, p.agents[0], "/metrics")
	for deadline := time.Now().Add(2 * time.Second); !withdrawn(metrics) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		metrics = get(t, p.agents[0], "/metrics")
	}
	if !withdrawn(metrics) {
		t.Fatalf("metrics do not show the withdrawal:\n%s", metrics)
	}
	h, err := client(p.agents[0]).Health(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^pmgtm_api_connections_total [1-9]`).MatchString(metrics) {
		t.Fatalf("metrics do not count the API connections made:\n%s", metrics)
	}
	if !strings.Contains(p.agents[0].Logs(), `"msg":"fencing state changed"`) || !strings.Contains(p.agents[0].Logs(), "fails its health check") {
		t.Fatalf("the transition is not logged with its reason:\n%s", p.agents[0].Logs())
	}
	if len(h.Fencing) != 1 || !h.Fencing[0].Withdrawn || h.Fencing[0].Local != "failing" || !strings.Contains(h.Fencing[0].Reason, "healthy peers: lb2.example.test.") {
		t.Fatalf("/v1/health fencing: %+v", h.Fencing)
	}

	p.lbs[0].Down.Store(false)
	p.eventually(t, 0, own1, "lb1 recovers: its own address again")

	// Guard: both load balancers fail. Neither node may withdraw, since
	// neither has a healthy peer; both keep answering with their own.
	p.lbs[0].Down.Store(true)
	p.lbs[1].Down.Store(true)
	time.Sleep(800 * time.Millisecond) // several check intervals
	for i, want := range []string{own1, own2} {
		if got := p.answer(i); got != want {
			t.Fatalf("guard: node %d answers %q with no healthy peer, want %q", i+1, got, want)
		}
	}
	p.lbs[1].Down.Store(false)
	p.eventually(t, 0, own2, "lb2 healthy again: lb1 (still failing) withdraws")
	p.lbs[0].Down.Store(false)
	p.eventually(t, 0, own1, "lb1 healthy")

	// Drain through the API: the node redirects while lb2 is healthy.
	if _, err := client(p.agents[0]).Drain(context.Background(), "api.example.test", true); err != nil {
		t.Fatal(err)
	}
	p.eventually(t, 0, own2, "drained")
	if z, _, _ := client(p.agents[0]).GetZone(context.Background(), "api.example.test"); !z.Drain {
		t.Fatal("drain not stored in the zone")
	}
	if _, err := client(p.agents[0]).Drain(context.Background(), "api.example.test", false); err != nil {
		t.Fatal(err)
	}
	p.eventually(t, 0, own1, "undrained")
}

func TestSelfFencingModes(t *testing.T) {
	p := startFencedPair(t, "127.0.4.")
	p.put(t, 1, "")
	for _, c := range []struct{ mode, want string }{
		{zone.WithdrawRefused, "REFUSED"},
		{zone.WithdrawServFail, "SERVFAIL"},
		{zone.WithdrawSilent, "timeout"},
	} {
		p.lbs[0].Down.Store(false)
		p.put(t, 0, c.mode)
		p.eventually(t, 0, "NOERROR "+p.ips[0], c.mode+": healthy")
		p.lbs[0].Down.Store(true)
		p.eventually(t, 0, c.want, c.mode+": withdrawn")
	}
	// Removing the health check ends the withdrawal.
	if _, _, err := client(p.agents[0]).PutZone(context.Background(), "api.example.test", zone.Body{IPv4: []string{p.ips[0]},
		Nameservers: []string{"lb1.example.test", "lb2.example.test"}}); err != nil {
		t.Fatal(err)
	}
	p.eventually(t, 0, "NOERROR "+p.ips[0], "health check removed")
}

func get(t *testing.T, a *agentproc.Agent, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.APIURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.Token)
	resp, err := a.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return b.String()
}
