package provider

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

// TestAccOwnershipAcrossStates: a second configuration (another directory,
// the same default owner id), a second workspace of it and a duplicate
// name inside one configuration all stop at plan time naming the holder,
// and touch nothing; a lost marker is drift that apply repairs; import
// moves the names to the second state, after which the first state's
// destroy deletes nothing and the second's removes everything.
func TestAccOwnershipAcrossStates(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.7.11", "127.0.7.12"
	r := newRig(t, lb1, lb2)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	cfg := r.config(nodes, []string{"lb1", "lb2"}, "")
	const fqdn = "api.example.test."
	other := terraformCLI(t) // another directory: its own state
	before := ""
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		CheckDestroy: func(*terraform.State) error {
			// The names moved to the other state by import: the first
			// state's destroy leaves them all in place.
			if got, _ := delegation(r.srv.Addr, fqdn); len(got) != 2 {
				return fmt.Errorf("the old state's destroy changed the moved delegation: %v", got)
			}
			if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); len(got) != 1 {
				return fmt.Errorf("the old state's destroy deleted lb1: %v", got)
			}
			if !r.hasZone(lb1, fqdn) || !r.hasZone(lb2, fqdn) {
				return fmt.Errorf("the old state's destroy removed the zones the new state serves")
			}
			if out, err := other(cfg, "destroy", "-auto-approve"); err != nil {
				return fmt.Errorf("destroy in the new state: %w\n%s", err, out)
			}
			if got, _ := delegation(r.srv.Addr, fqdn); len(got) != 0 {
				return fmt.Errorf("delegation left: %v", got)
			}
			for _, n := range []string{"lb1", "lb2", "api"} {
				if got := lookup(t, r.srv, n+"._pmgtm.example.test.", dns.TypeTXT); len(got) != 0 {
					return fmt.Errorf("marker of %s left: %v", n, got)
				}
			}
			if r.hasZone(lb1, fqdn) || r.hasZone(lb2, fqdn) {
				return fmt.Errorf("zones left on the agents")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{Config: cfg},
			{ // another configuration and another workspace: refused at plan, nothing touched
				PreConfig: func() {
					before = zoneText(t, r.srv)
					moved := r.config([]testNode{{"lb1", lb2, ""}, {"lb2", lb1, ""}}, []string{"lb1"}, "")
					// The hostname alone, on literal node objects: its own check.
					hostOnly := r.provider() + fmt.Sprintf(`
resource "pmgtm_hostname" "api" {
  zone  = "example.test"
  name  = "api"
  nodes = [{ nameserver = "lb1.example.test.", ipv4 = %q, ipv6 = null, agent_url = %q }]
}
`, lb1, r.agents[lb1].APIURL)
					for _, run := range []struct {
						config string
						args   []string
						want   string
					}{
						{moved, []string{"plan"}, `lb1._pmgtm.example.test. TXT`},
						{hostOnly, []string{"plan"}, `api._pmgtm.example.test. TXT`},
						{moved, []string{"workspace", "new", "second"}, ""},
						{moved, []string{"plan"}, `lb2._pmgtm.example.test. TXT`},
						{hostOnly, []string{"plan"}, `api._pmgtm.example.test. TXT`},
					} {
						out, err := other(run.config, run.args...)
						if run.want == "" {
							if err != nil {
								t.Fatalf("%v: %v\n%s", run.args, err, out)
							}
							continue
						}
						flat := strings.Join(strings.Fields(out), " ")
						for _, want := range []string{"Name held by another pmgtm resource", run.want, "terraform import"} {
							if err == nil || !strings.Contains(flat, want) {
								t.Fatalf("%v in another state: err %v, want %q in:\n%s", run.args, err, want, out)
							}
						}
					}
					if _, err := other(moved, "workspace", "select", "-no-color", "default"); err != nil {
						t.Fatal(err)
					}
					if after := zoneText(t, r.srv); after != before {
						t.Fatalf("a refused plan changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
					}
				},
				Config: cfg,
			},
			{ // two resources with one name in one configuration
				Config: cfg + `
resource "pmgtm_node" "copy" {
  zone      = "example.test"
  name      = "lb9"
  ipv4      = "127.0.7.19"
  agent_url = "http://127.0.7.19:1"
}
resource "pmgtm_node" "copy2" {
  zone      = "example.test"
  name      = "LB9"
  ipv4      = "127.0.7.20"
  agent_url = "http://127.0.7.20:1"
}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Name planned twice.*also creates lb9\.example\.test\.`),
			},
			{ // a marker lost out of band is drift: an update writes it again
				PreConfig: func() {
					for _, mk := range lookup(t, r.srv, "api._pmgtm.example.test.", dns.TypeTXT) {
						update(t, r.srv, false, fmt.Sprintf("api._pmgtm.example.test. 300 IN TXT %q", mk))
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("pmgtm_hostname.api", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if got := lookup(t, r.srv, "api._pmgtm.example.test.", dns.TypeTXT); len(got) != 1 {
						return fmt.Errorf("marker after repair: %v", got)
					}
					return r.expectDelegation("lb1", "lb2")
				},
			},
			{ // import moves the names to the other state, which takes them over on apply
				PreConfig: func() {
					for _, imp := range [][]string{{"pmgtm_node.lb1", "example.test/lb1"}, {"pmgtm_node.lb2", "example.test/lb2"}, {"pmgtm_hostname.api", "example.test/api"}} {
						if out, err := other(cfg, "import", "-no-color", imp[0], imp[1]); err != nil {
							t.Fatalf("import %s: %v\n%s", imp[0], err, out)
						}
					}
					if out, err := other(cfg, "apply", "-auto-approve"); err != nil {
						t.Fatalf("apply after import: %v\n%s", err, out)
					}
					if out, err := other(cfg, "plan", "-detailed-exitcode"); err != nil {
						t.Fatalf("plan after the takeover is not empty: %v\n%s", err, out)
					}
				},
				Config: cfg,
				// The first state now sees markers naming the new holder.
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
		},
	})
}

// TestAccDestroyDeletesOnlyState: a marker widened by hand to claim MX and
// TXT, with foreign MX and TXT records at the node's name, does not widen
// what destroy deletes: only the A record the state says pmgtm wrote.
func TestAccDestroyDeletesOnlyState(t *testing.T) {
	accOnly(t)
	const lb1 = "127.0.7.21"
	r := newRig(t, lb1)
	cfg := r.config([]testNode{{"lb1", lb1, ""}}, nil, "")
	leftAfterDestroy := func() error {
		if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); len(got) != 0 {
			return fmt.Errorf("A left: %v", got)
		}
		if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeTXT); !slices.Equal(got, []string{"foreign verification"}) {
			return fmt.Errorf("destroy deleted a foreign TXT: %v", got)
		}
		if got := mxCount(t, r.srv, "lb1.example.test."); got != 1 {
			return fmt.Errorf("destroy deleted a foreign MX (%d left)", got)
		}
		return nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					mk := lookup(t, r.srv, "lb1._pmgtm.example.test.", dns.TypeTXT)
					if len(mk) != 1 {
						t.Fatalf("markers %v", mk)
					}
					update(t, r.srv, false, fmt.Sprintf("lb1._pmgtm.example.test. 300 IN TXT %q", mk[0]))
					update(t, r.srv, true, fmt.Sprintf("lb1._pmgtm.example.test. 300 IN TXT %q", strings.Replace(mk[0], "types=A+AAAA", "types=A+AAAA+MX+TXT", 1)))
					update(t, r.srv, true, "lb1.example.test. 300 IN MX 10 mail.example.net.")
					update(t, r.srv, true, `lb1.example.test. 300 IN TXT "foreign verification"`)
				},
				Config:  cfg,
				Destroy: true,
			},
			{ // after the destroy: only what the state said was written is gone
				PreConfig: func() {
					if err := leftAfterDestroy(); err != nil {
						t.Fatal(err)
					}
				},
				Config:   r.provider(),
				PlanOnly: true,
			},
		},
	})
}

func mxCount(t *testing.T, srv *bind.Server, name string) int {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, dns.TypeMX)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Answer)
}
