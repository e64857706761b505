package provider

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/cloudflare"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/route53"
)

// apiParent is a parent zone behind an API emulator, seen the way a test
// needs it: the values at a name, and out-of-band changes.
type apiParent struct {
	faults  *faults.Injector
	backend string
	values  func(name, rtype string) []string // name relative to example.test
	ttl     func(name, rtype string) int64    // of the first record; 0 when none
	remove  func(name, rtype, value string)   // delete one record out of band
}

// view reads the emulated zone for an observer. Names are made relative to
// example.test, as values wants them; the NS set is sorted.
func (p apiParent) view() parentView {
	rel := func(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".example.test.") }
	return parentView{
		delegation: func(fqdn string) ([]string, error) {
			set := p.values(rel(fqdn), "NS")
			slices.Sort(set)
			return set, nil
		},
		addresses: func(ns string) ([]string, error) { return p.values(rel(ns), "A"), nil },
	}
}

func cloudflareParent(t *testing.T) apiParent {
	t.Helper()
	emu := cloudflare.New("cf-test-token", "example.test")
	t.Cleanup(emu.Close)
	emu.MaxPage = 5 // several pages, as a big zone has
	emu.AddRecord("example.test", cloudflare.Record{Name: "foreign.example.test", Type: "A", Content: "192.0.2.99", TTL: 300})
	return apiParent{
		faults:  &emu.Injector,
		backend: fmt.Sprintf("\n  cloudflare {\n    api_token = \"cf-test-token\"\n    base_url  = %q\n  }", emu.URL()),
		values: func(name, rtype string) []string {
			var out []string
			for _, r := range emu.Records("example.test") {
				if r.Name == name+".example.test" && r.Type == rtype {
					out = append(out, strings.ToLower(strings.TrimSuffix(r.Content, "."))+map[bool]string{true: ".", false: ""}[rtype == "NS"])
				}
			}
			slices.Sort(out)
			return out
		},
		ttl: func(name, rtype string) int64 {
			for _, r := range emu.Records("example.test") {
				if r.Name == name+".example.test" && r.Type == rtype {
					return int64(r.TTL)
				}
			}
			return 0
		},
		remove: func(name, rtype, value string) {
			if emu.DeleteRecords("example.test", func(r cloudflare.Record) bool {
				return r.Name == name+".example.test" && r.Type == rtype && strings.TrimSuffix(r.Content, ".") == strings.TrimSuffix(value, ".")
			}) != 1 {
				t.Fatalf("no %s %s %s to delete", name, rtype, value)
			}
		},
	}
}

func route53Parent(t *testing.T) apiParent {
	t.Helper()
	emu := route53.New("AKIDPMGTMTEST", "example.test")
	t.Cleanup(emu.Close)
	emu.PageSize = 4
	emu.PutSet("example.test", route53.Set("foreign.example.test.", "A", 300, "192.0.2.99"))
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", emu.URL())
	set := func(name, rtype string) (route53.RRSet, bool) {
		for _, s := range emu.Sets("example.test") {
			if s.Name == name+".example.test." && s.Type == rtype {
				return s, true
			}
		}
		return route53.RRSet{}, false
	}
	return apiParent{
		faults:  &emu.Injector,
		backend: "\n  route53 {\n    access_key_id     = \"AKIDPMGTMTEST\"\n    secret_access_key = \"secret\"\n  }",
		values: func(name, rtype string) []string {
			s, _ := set(name, rtype)
			var out []string
			for _, r := range s.Records {
				out = append(out, strings.ToLower(r.Value))
			}
			slices.Sort(out)
			return out
		},
		ttl: func(name, rtype string) int64 {
			s, _ := set(name, rtype)
			return s.TTL
		},
		remove: func(name, rtype, value string) {
			s, ok := set(name, rtype)
			if !ok {
				t.Fatalf("no %s %s set", name, rtype)
			}
			s.Records = slices.DeleteFunc(s.Records, func(r route53.RRRecord) bool { return r.Value == value })
			if len(s.Records) == 0 {
				emu.DeleteSet("example.test", s.Name, rtype)
			} else {
				emu.PutSet("example.test", s)
			}
		},
	}
}

// TestAccHostnameOnAPIEmulators runs the hostname lifecycle with the parent
// zone on the Cloudflare and Route 53 emulators (paged listings), with real
// agents.
func TestAccHostnameOnAPIEmulators(t *testing.T) {
	accOnly(t)
	for i, tc := range []struct {
		name   string
		parent func(*testing.T) apiParent
	}{{"cloudflare", cloudflareParent}, {"route53", route53Parent}} {
		t.Run(tc.name, func(t *testing.T) {
			base := fmt.Sprintf("127.0.%d.", 2+i)
			lb1, lb2, lb3 := base+"11", base+"12", base+"13"
			p := tc.parent(t)
			r := newRigWith(t, p.backend, lb1, lb2, lb3)
			obs := watchNoLame(t, p.view())
			two := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
			three := append(two, testNode{"lb3", lb3, ""})
			expectNS := func(names ...string) error {
				var want []string
				for _, n := range names {
					want = append(want, n+".example.test.")
				}
				if got := p.values("api", "NS"); !slices.Equal(got, want) {
					return fmt.Errorf("parent NS %v, want %v", got, want)
				}
				return nil
			}
			// Every record pmgtm writes for this configuration, to show a
			// refused plan left them as they were.
			snapshot := func() string {
				var b strings.Builder
				for _, name := range []string{"api", "lb1", "lb2", "api._pmgtm", "lb1._pmgtm", "lb2._pmgtm"} {
					for _, rtype := range []string{"A", "NS", "TXT"} {
						fmt.Fprintf(&b, "%s %s %v ttl %d\n", name, rtype, p.values(name, rtype), p.ttl(name, rtype))
					}
				}
				return b.String()
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				CheckDestroy: func(*terraform.State) error {
					for _, name := range []string{"api", "lb1", "lb2", "lb3", "api._pmgtm", "lb1._pmgtm"} {
						for _, rtype := range []string{"A", "NS", "TXT"} {
							if got := p.values(name, rtype); len(got) != 0 {
								return fmt.Errorf("%s %s left after destroy: %v", name, rtype, got)
							}
						}
					}
					if got := p.values("foreign", "A"); !slices.Equal(got, []string{"192.0.2.99"}) {
						return fmt.Errorf("foreign record changed: %v", got)
					}
					for _, ip := range []string{lb1, lb2, lb3} {
						if r.hasZone(ip, "api.example.test.") {
							return fmt.Errorf("agent %s still holds the zone", ip)
						}
					}
					return nil
				},
				Steps: []resource.TestStep{
					{
						Config: r.config(two, []string{"lb1", "lb2"}, ""),
						Check: func(*terraform.State) error {
							if got := p.values("lb1", "A"); !slices.Equal(got, []string{lb1}) {
								return fmt.Errorf("lb1 A %v", got)
							}
							return expectNS("lb1", "lb2")
						},
					},
					{ // another state with the same configuration: refused at plan, nothing changed
						PreConfig: func() {
							before := snapshot()
							out, err := terraformCLI(t)(r.config(two, []string{"lb1", "lb2"}, ""), "plan")
							flat := strings.Join(strings.Fields(out), " ")
							for _, want := range []string{"Name held by another pmgtm resource", "terraform import"} {
								if err == nil || !strings.Contains(flat, want) {
									t.Fatalf("plan in another state: err %v, want %q in:\n%s", err, want, out)
								}
							}
							if after := snapshot(); after != before {
								t.Fatalf("a refused plan changed the zone:\nbefore:\n%s\nafter:\n%s", before, after)
							}
						},
						Config: r.config(two, []string{"lb1", "lb2"}, ""),
					},
					{
						ResourceName: "pmgtm_hostname.api", ImportState: true, ImportStateId: "example.test/api", ImportStateVerify: true,
						ImportStateVerifyIgnore: []string{"nodes.0.agent_url", "nodes.1.agent_url", "timeouts", "instance_id"},
					},
					{
						Config: r.config(three, []string{"lb1", "lb2", "lb3"}, ""),
						Check:  func(*terraform.State) error { return expectNS("lb1", "lb2", "lb3") },
					},
					{
						Config: r.config(three, []string{"lb1", "lb3"}, ""),
						Check: func(*terraform.State) error {
							if r.hasZone(lb2, "api.example.test.") {
								return fmt.Errorf("removed node lb2 still holds the zone")
							}
							return expectNS("lb1", "lb3")
						},
					},
					{ // drift: an NS record and a node's A record deleted out of band
						PreConfig: func() {
							obs.pause() // lb1 without an address is the drift made here
							p.remove("api", "NS", "lb3.example.test.")
							p.remove("lb1", "A", lb1)
						},
						Config: r.config(three, []string{"lb1", "lb3"}, ""),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction("pmgtm_hostname.api", plancheck.ResourceActionUpdate),
							plancheck.ExpectResourceAction("pmgtm_node.lb1", plancheck.ResourceActionUpdate),
						}},
						Check: func(*terraform.State) error {
							if got := p.values("lb1", "A"); !slices.Equal(got, []string{lb1}) {
								return fmt.Errorf("lb1 A not restored: %v", got)
							}
							obs.resume()
							return expectNS("lb1", "lb3")
						},
					},
				},
			})
		})
	}
}
