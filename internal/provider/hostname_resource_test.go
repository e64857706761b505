package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// TestAccHostnameLifecycle drives the real terraform CLI through create,
// import, grow, shrink, an address move, drift and destroy, while an
// observer checks that the parent never delegates to a node that does not
// answer.
func TestAccHostnameLifecycle(t *testing.T) {
	accOnly(t)
	const lb1, lb2, lb3, lb1b = "127.0.1.11", "127.0.1.12", "127.0.1.13", "127.0.1.14"
	r := newRig(t, lb1, lb2, lb3, lb1b)
	two := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	three := append(two, testNode{"lb3", lb3, ""})
	moved := []testNode{{"lb1", lb1b, ""}, {"lb2", lb2, ""}, {"lb3", lb3, ""}}
	const fqdn = "api.example.test."
	stepPause = 250 * time.Millisecond
	defer func() { stepPause = 0 }()
	obs := watchNoLame(t, dnsParent(r.srv.Addr))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy: func(*terraform.State) error {
			if got, _ := delegation(r.srv.Addr, fqdn); len(got) != 0 {
				return fmt.Errorf("delegation left after destroy: %v", got)
			}
			if got := lookup(t, r.srv, "api._pmgtm.example.test.", dns.TypeTXT); len(got) != 0 {
				return fmt.Errorf("marker left after destroy: %v", got)
			}
			for _, ip := range []string{lb1, lb2, lb3, lb1b} {
				if r.hasZone(ip, fqdn) {
					return fmt.Errorf("agent %s still holds the zone after destroy", ip)
				}
			}
			if got := lookup(t, r.srv, "foreign.example.test.", dns.TypeA); len(got) != 1 {
				return fmt.Errorf("foreign record changed: %v", got)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create: two nodes, then the hostname
				Config: r.config(two, []string{"lb1", "lb2"}, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					// Known at plan time: the node objects come from configuration.
					plancheck.ExpectKnownValue("pmgtm_hostname.api", tfjsonpath.New("nameservers"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("lb1.example.test."), knownvalue.StringExact("lb2.example.test.")})),
					plancheck.ExpectKnownValue("pmgtm_hostname.api", tfjsonpath.New("failover_budget").AtMapKey("unbound"), knownvalue.Float64Exact(5.4)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("pmgtm_hostname.api", tfjsonpath.New("id"), knownvalue.StringExact("example.test/api")),
					statecheck.ExpectKnownValue("pmgtm_hostname.api", tfjsonpath.New("fqdn"), knownvalue.StringExact(fqdn)),
					statecheck.ExpectKnownValue("pmgtm_hostname.api", tfjsonpath.New("failover_budget").AtMapKey("bind"), knownvalue.Float64Exact(5.8)),
				},
				Check: func(s *terraform.State) error {
					if err := r.expectDelegation("lb1", "lb2"); err != nil {
						return err
					}
					serial := s.RootModule().Resources["pmgtm_hostname.api"].Primary.Attributes["serial"]
					for _, ip := range []string{lb1, lb2} {
						z, _, err := (&agentclient.Client{BaseURL: r.agents[ip].APIURL, Token: rigToken}).GetZone(context.Background(), fqdn)
						if err != nil {
							return fmt.Errorf("agent %s: %w", ip, err)
						}
						if fmt.Sprint(z.Serial) != serial || len(z.IPv4) != 1 || z.IPv4[0] != ip || len(z.Nameservers) != 2 || z.AnswerTTL != 5 {
							return fmt.Errorf("agent %s serves %+v; want its own address, both nameservers, serial %s", ip, z, serial)
						}
					}
					return nil
				},
			},
			{ // import: everything but the agent URLs is read back from DNS
				ResourceName: "pmgtm_hostname.api", ImportState: true, ImportStateId: "example.test/api", ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"nodes.0.agent_url", "nodes.1.agent_url", "timeouts", "instance_id"},
			},
			{ // add a third node
				Config: r.config(three, []string{"lb1", "lb2", "lb3"}, ""),
				Check: func(*terraform.State) error {
					if !r.hasZone(lb3, fqdn) {
						return fmt.Errorf("lb3 has no zone")
					}
					return r.expectDelegation("lb1", "lb2", "lb3")
				},
			},
			{ // remove a node: it leaves the NS set, then loses its zone
				Config: r.config(three, []string{"lb1", "lb3"}, ""),
				Check: func(*terraform.State) error {
					if r.hasZone(lb2, fqdn) {
						return fmt.Errorf("the removed node lb2 still holds the zone")
					}
					return r.expectDelegation("lb1", "lb3")
				},
			},
			{ // move lb1 to another address and agent: make-before-break; a zone
				// planted on the old agent, with a fake peer, is not carried over
				PreConfig: func() {
					old := r.agents[lb1]
					planted := zone.Body{Name: "planted.example.test.", IPv4: []string{lb1}, Nameservers: []string{"lb1.example.test.", "evil.example.net."},
						SOA: &zone.SOABody{MName: "lb1.example.test."}, Peers: []zone.Peer{{Name: "evil.example.net.", IPv4: []string{"192.0.2.66"}}}}
					if _, _, err := (&agentclient.Client{BaseURL: old.APIURL, Token: rigToken}).PutZone(context.Background(), planted.Name, planted); err != nil {
						t.Fatal(err)
					}
				},
				Config: r.config(moved, []string{"lb1", "lb3"}, ""),
				Check: func(*terraform.State) error {
					if r.hasZone(lb1b, "planted.example.test.") {
						return fmt.Errorf("the move carried a zone this configuration does not manage to the new agent")
					}
					if !r.hasZone(lb1, "planted.example.test.") {
						return fmt.Errorf("the move deleted a zone this configuration does not manage from the old agent")
					}
					// The test planted it, so the test takes it away.
					if err := r.client(lb1).DeleteZone(context.Background(), "planted.example.test."); err != nil {
						return err
					}
					if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); len(got) != 1 || got[0] != lb1b {
						return fmt.Errorf("lb1 A %v, want %s", got, lb1b)
					}
					if !r.hasZone(lb1b, fqdn) || r.hasZone(lb1, fqdn) {
						return fmt.Errorf("zone not moved: new agent %v, old agent %v", r.hasZone(lb1b, fqdn), r.hasZone(lb1, fqdn))
					}
					return authoritative(lb1b, fqdn)
				},
			},
			{ // drift: a zone deleted on an agent and an NS record deleted in the parent come back
				PreConfig: func() {
					obs.pause() // the sabotage below is lame on purpose
					a := r.agents[lb3]
					if err := (&agentclient.Client{BaseURL: a.APIURL, Token: rigToken}).DeleteZone(context.Background(), fqdn); err != nil {
						t.Fatal(err)
					}
					update(t, r.srv, false, "api.example.test. 60 IN NS lb1.example.test.")
				},
				Config: r.config(moved, []string{"lb1", "lb3"}, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pmgtm_hostname.api", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if !r.hasZone(lb3, fqdn) {
						return fmt.Errorf("lb3's zone not restored")
					}
					obs.resume()
					return r.expectDelegation("lb1", "lb3")
				},
			},
			{ // a hostname over a foreign record stops at plan time and leaves it
				Config: r.config(moved, []string{"lb1", "lb3"}, "") + `
resource "pmgtm_hostname" "www" {
  zone  = "example.test"
  name  = "www"
  nodes = [pmgtm_node.lb1.node, pmgtm_node.lb3.node]
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`www\.example\.test\. 300 A 192\.0\.2\.80`),
			},
		},
	})
}

// TestAccHostnameValidation: every plan-time rule stops the plan with a
// message naming the attribute, the bad value and the fix, and writes
// nothing.
func TestAccHostnameValidation(t *testing.T) {
	accOnly(t)
	r := newRig(t, "127.0.1.21")
	update(t, r.srv, true, "deleg.example.test. 300 IN NS ns.elsewhere.example.net.")
	node := []testNode{{"lb1", "127.0.1.21", ""}}
	cases := map[string]struct{ hostname, err string }{
		"apex":            {`zone = "example.test"` + "\n name = \"@\"\n nodes = [pmgtm_node.lb1.node]", `the zone apex cannot be delegated`},
		"bad label":       {`zone = "example.test"` + "\n name = \"a_b c\"\n nodes = [pmgtm_node.lb1.node]", `contains " "`},
		"long name":       {`zone = "example.test"` + "\n name = \"" + longLabel(64) + "\"\n nodes = [pmgtm_node.lb1.node]", `at most 63`},
		"answer ttl":      {`zone = "example.test"` + "\n name = \"api\"\n answer_ttl = 0\n nodes = [pmgtm_node.lb1.node]", `answer_ttl = 0; use 1 to 86400`},
		"ns ttl":          {`zone = "example.test"` + "\n name = \"api\"\n ns_ttl = 10\n nodes = [pmgtm_node.lb1.node]", `ns_ttl = 10; use 60 to 86400`},
		"no nodes":        {`zone = "example.test"` + "\n name = \"api\"\n nodes = []", `nodes is empty`},
		"duplicate":       {`zone = "example.test"` + "\n name = \"api\"\n nodes = [pmgtm_node.lb1.node, pmgtm_node.lb1.node]", `are both lb1.example.test`},
		"ns beneath host": {`zone = "example.test"` + "\n name = \"api\"\n nodes = [{nameserver = \"ns1.api.example.test\", ipv4 = \"127.0.1.21\", ipv6 = null, agent_url = \"http://127.0.1.21:1\"}]", `ns1.api.example.test lies at or beneath api.example.test`},
		"name with zone":  {`zone = "example.test"` + "\n name = \"api.example.test\"\n nodes = [pmgtm_node.lb1.node]", `api.example.test.example.test; names are relative to the zone`},
		"no agent url":    {`zone = "example.test"` + "\n name = \"api\"\n nodes = [{nameserver = \"lb1.example.test\", ipv4 = \"127.0.1.21\", ipv6 = null, agent_url = null}]", `nodes[0] (lb1.example.test) has no agent_url`},
		"nested":          {`zone = "example.test"` + "\n name = \"x.deleg\"\n nodes = [pmgtm_node.lb1.node]", `deleg.example.test. 300 NS ns.elsewhere.example.net.`},
		"bad node":        {`zone = "example.test"` + "\n name = \"api\"\n nodes = [{nameserver = \"lb9.example.test\", ipv4 = \"300.1.1.1\", ipv6 = null, agent_url = \"http://127.0.1.21:1\"}]", `"300.1.1.1" is not an IP address`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				Steps: []resource.TestStep{{
					Config:      r.config(node, nil, "") + "\nresource \"pmgtm_hostname\" \"h\" {\n " + c.hostname + "\n}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(regexp.QuoteMeta(c.err)),
				}},
			})
		})
	}
	if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); len(got) != 0 {
		t.Fatalf("a rejected plan wrote records: %v", got)
	}
	if r.hasZone("127.0.1.21", "api.example.test.") {
		t.Fatal("a rejected plan pushed a zone")
	}
}

func longLabel(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}
