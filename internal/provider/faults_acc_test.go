package provider

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// TestAccFaultsDuringApply: the parent API fails in the middle of an apply
// (persistent 5xx after the ownership marker, then a 429 storm), and a node's
// agent is down during another. Each failed apply names what failed and
// publishes no delegation it has not verified; each following apply
// converges, with no duplicate or orphaned records.
func TestAccFaultsDuringApply(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.6.11", "127.0.6.12"
	p := cloudflareParent(t)
	r := newRigWith(t, p.backend, lb1, lb2)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	// Faults at the parent and a failed apply must never publish a
	// delegation to a node that does not answer.
	obs := watchNoLame(t, p.view())
	withTTL := func(ttl int) string {
		return r.config(nodes, []string{"lb1", "lb2"}, fmt.Sprintf("ns_ttl = %d", ttl))
	}
	noDelegation := func() {
		if got := p.values("api", "NS"); len(got) != 0 {
			t.Fatalf("a failed create left NS records: %v", got)
		}
	}
	expectNS := func(ttl int) func(*terraform.State) error {
		return func(*terraform.State) error {
			if got := p.values("api", "NS"); !slices.Equal(got, []string{"lb1.example.test.", "lb2.example.test."}) {
				return fmt.Errorf("NS %v", got)
			}
			if got := p.ttl("api", "NS"); got != int64(ttl) {
				return fmt.Errorf("NS TTL %d, want %d", got, ttl)
			}
			if got := p.values("api._pmgtm", "TXT"); len(got) != 1 {
				return fmt.Errorf("markers %v, want exactly one", got)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{Config: r.config(nodes, nil, "")},
			{ // the API fails for good when the hostname's marker and NS set are written (one batch)
				PreConfig: func() {
					p.faults.Inject(faults.Fault{Method: "POST", PathSuffix: "/dns_records/batch", Count: 1000, Status: 500, Code: "10000"})
				},
				Config:      withTTL(300),
				ExpectError: regexp.MustCompile(`(?s)Cannot apply api\.example\.test\..*publish`),
			},
			{ // faults gone: the next apply converges (the failed batch left nothing)
				PreConfig: func() { noDelegation(); p.faults.Clear() },
				Config:    withTTL(300),
				Check:     expectNS(300),
			},
			{ // a storm of 429s with Retry-After during an update is waited out
				PreConfig: func() {
					p.faults.Inject(faults.Fault{Skip: 0, Count: 5, Status: 429, Code: "10000", RetryAfter: 100 * time.Millisecond})
				},
				Config: withTTL(600),
				Check: func(s *terraform.State) error {
					if err := expectNS(600)(s); err != nil {
						return err
					}
					if got := s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["ns_ttl"]; got != "600" {
						return fmt.Errorf("ns_ttl %s", got)
					}
					return nil
				},
			},
			{ // a node's agent is down: the update stops at that node and says so
				// The node is down on purpose: not a lame delegation pmgtm made.
				PreConfig:   func() { p.faults.Clear(); obs.pause(); r.agents[lb2].Kill() },
				Config:      r.config(nodes, []string{"lb1", "lb2"}, "ns_ttl = 600\n  answer_ttl = 10"),
				ExpectError: regexp.MustCompile(`(?s)push lb2\.example\.test\. at http://127\.0\.6\.12:\d+.*agent did not accept the zone`),
			},
			{ // back: the same apply converges
				PreConfig: func() {
					old := r.agents[lb2]
					r.agents[lb2] = agentproc.Start(t, agentproc.Options{IP: lb2, DNSPort: 53, APIPort: portOf(old.APIURL), DataDir: old.DataDir, Token: rigToken})
					obs.resume()
				},
				Config: r.config(nodes, []string{"lb1", "lb2"}, "ns_ttl = 600\n  answer_ttl = 10"),
				Check:  expectNS(600),
			},
		},
	})
}

// TestAccTimeoutStopsBeforeDelegating: a node that holds its zone but does
// not answer DNS at its address (a firewall, a wrong ipv4) makes create
// run into its timeout, as an interrupted run would: nothing is delegated,
// no hostname lands in the state, and once the address is right the next
// apply converges.
func TestAccTimeoutStopsBeforeDelegating(t *testing.T) {
	accOnly(t)
	const lb1, lb2, nowhere = "127.0.6.21", "127.0.6.22", "127.0.6.99"
	r := newRig(t, lb1, lb2)
	cfg := func(lb2Addr string) string {
		return r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2Addr, lb2}}, []string{"lb1", "lb2"}, `
  timeouts {
    create = "3s"
  }`)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config:      cfg(nowhere),
				ExpectError: regexp.MustCompile(`(?s)verify lb2\.example\.test\..*127\.0\.6\.99:53.*gave up: context deadline exceeded`),
			},
			{
				PreConfig: func() {
					if got, _ := delegation(r.srv.Addr, "api.example.test."); len(got) != 0 {
						t.Fatalf("delegated after a timed-out create: %v", got)
					}
				},
				Config: cfg(lb2),
				Check: func(*terraform.State) error {
					return r.expectDelegation("lb1", "lb2")
				},
			},
		},
	})
}
