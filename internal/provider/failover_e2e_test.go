package provider

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// startLB starts a node's stand-in load balancer for the test.
func startLB(t *testing.T, addr string) *dnsrig.LoadBalancer {
	t.Helper()
	lb, err := dnsrig.StartLoadBalancer(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lb.Close)
	return lb
}

// resolver asks Unbound, as a stub resolver would (two tries, 2 s each).
type resolver struct{ addr string }

var freshSeq atomic.Int64

// fresh looks up a name beneath the hostname that no cache holds, and
// returns the rcode and first address.
func (r resolver) fresh() (rcode, addr string) {
	name := fmt.Sprintf("f%d-%d.api.example.test.", os.Getpid(), freshSeq.Add(1))
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	for try := 0; try < 2; try++ {
		resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, r.addr)
		if err != nil {
			continue
		}
		rcode = dns.RcodeToString[resp.Rcode]
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				return rcode, a.A.String()
			}
		}
		return rcode, ""
	}
	return "timeout", ""
}

// lookups makes n fresh lookups and counts answers by address (and
// failures by rcode).
func (r resolver) lookups(n int) map[string]int {
	out := map[string]int{}
	for i := 0; i < n; i++ {
		rcode, addr := r.fresh()
		if rcode != "NOERROR" || addr == "" {
			addr = rcode
		}
		out[addr]++
	}
	return out
}

// TestAccFailoverThroughUnbound is the demo's story with assertions: real
// agents with health checks behind a real BIND parent, resolved through a
// real Unbound. Every fresh lookup after a withdrawal, a drain or a kill
// gets the live node, with no SERVFAIL; recovery brings node 1 back.
func TestAccFailoverThroughUnbound(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.5.11", "127.0.5.12"
	r := newRig(t, lb1, lb2)
	lbs := map[string]*dnsrig.LoadBalancer{lb1: startLB(t, lb1+":8080"), lb2: startLB(t, lb2+":8080")}
	ub := r.unbound("127.0.5.3")
	res := resolver{addr: ub.Addr}
	api := func(ip string) *agentclient.Client {
		return &agentclient.Client{BaseURL: r.agents[ip].APIURL, Token: rigToken}
	}
	// withdrawn waits (bounded) until node ip's agent reports the state.
	withdrawn := func(ip string, want bool) error {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			h, err := api(ip).Health(context.Background())
			if err == nil && len(h.Fencing) == 1 && h.Fencing[0].Withdrawn == want {
				return nil
			}
		}
		return fmt.Errorf("node %s did not reach withdrawn=%v", ip, want)
	}
	onlyLive := func(event string, got map[string]int) error {
		t.Logf("%s: %v", event, got)
		if len(got) != 1 || got[lb2] == 0 {
			return fmt.Errorf("%s: fresh lookups answered %v; every one must get the live node %s", event, got, lb2)
		}
		return nil
	}
	scenarios := func(*terraform.State) error {
		if got := res.lookups(20); got[lb1]+got[lb2] != 20 {
			return fmt.Errorf("baseline: %v", got)
		}
		// (1) node 1's load balancer dies: node 1 withdraws (redirect).
		lbs[lb1].Down.Store(true)
		if err := withdrawn(lb1, true); err != nil {
			return err
		}
		if err := onlyLive("load balancer 1 down", res.lookups(50)); err != nil {
			return err
		}
		// ... and recovers: node 1 gets fresh lookups again.
		lbs[lb1].Down.Store(false)
		if err := withdrawn(lb1, false); err != nil {
			return err
		}
		start := time.Now()
		back := false
		for i := 0; i < 300 && time.Since(start) < 30*time.Second; i++ {
			if _, addr := res.fresh(); addr == lb1 {
				back = true
				break
			}
		}
		if !back {
			return fmt.Errorf("node 1 got no fresh lookup within 30 s of recovering")
		}
		t.Logf("node 1 answered again %.1f s after its load balancer recovered", time.Since(start).Seconds())
		// (2) drain node 1: it gets no fresh lookups.
		if _, err := api(lb1).Drain(context.Background(), "api.example.test", true); err != nil {
			return err
		}
		if err := withdrawn(lb1, true); err != nil {
			return err
		}
		if err := onlyLive("node 1 drained", res.lookups(50)); err != nil {
			return err
		}
		if _, err := api(lb1).Drain(context.Background(), "api.example.test", false); err != nil {
			return err
		}
		if err := withdrawn(lb1, false); err != nil {
			return err
		}
		// (3) node 1 dies entirely: resolvers time out on it and ask node 2.
		r.agents[lb1].Kill()
		if err := ub.Flush(); err != nil {
			return err
		}
		if err := onlyLive("node 1 killed", res.lookups(30)); err != nil {
			return err
		}
		// ... and comes back with its zone from disk.
		old := r.agents[lb1]
		r.agents[lb1] = agentproc.Start(t, agentproc.Options{IP: lb1, DNSPort: 53, APIPort: portOf(old.APIURL), DataDir: old.DataDir, Token: rigToken})
		if err := ub.Flush(); err != nil { // Unbound would avoid the node for minutes otherwise (infra cache)
			return err
		}
		back = false
		for i := 0; i < 300 && !back; i++ {
			_, addr := res.fresh()
			back = addr == lb1
		}
		if !back {
			return fmt.Errorf("restarted node 1 got no fresh lookup")
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{{
			Config: r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, []string{"lb1", "lb2"}, `
  health_check = {
    type     = "http"
    target   = "{ipv4}:8080"
    path     = "/healthz"
    interval = "200ms"
    fall     = 2
    rise     = 2
  }
`),
			Check: scenarios,
		}},
	})
}

func portOf(url string) int {
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "https://"))
	var p int
	fmt.Sscan(port, &p)
	return p
}
