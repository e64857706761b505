package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
)

// TestAccHostnameFencing: health_check, withdraw_mode and drain reach the
// agents; a drained node redirects to its healthy peer and
// pmgtm_delegation reports it withdrawn.
func TestAccHostnameFencing(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.1.41", "127.0.1.42"
	r := newRig(t, lb1, lb2)
	startLB(t, lb1+":8080")
	startLB(t, lb2+":8080")
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	cfg := func(drain string) string {
		return r.config(nodes, []string{"lb1", "lb2"}, fmt.Sprintf(`
  health_check = {
    type     = "http"
    target   = "{ipv4}:8080"
    path     = "/healthz"
    interval = "100ms"
    fall     = 2
    rise     = 2
  }
  drain = %s
`, drain)) + `
data "pmgtm_delegation" "api" {
  zone       = "example.test"
  name       = "api"
  depends_on = [pmgtm_hostname.api]
}
`
	}
	answer := func(ip string) []string {
		m := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
		resp, _, err := (&dns.Client{}).Exchange(m, ip+":53")
		if err != nil {
			return []string{err.Error()}
		}
		var out []string
		for _, rr := range resp.Answer {
			out = append(out, rr.(*dns.A).A.String())
		}
		return out
	}
	// answerSoon waits (bounded) for the agent's fencing loop, which acts
	// within a few check intervals of the change.
	answerSoon := func(ip, want string) []string {
		var got []string
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got = answer(ip); len(got) == 1 && got[0] == want {
				break
			}
		}
		return got
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{ // invalid settings stop the plan; first, so that destroy uses a valid configuration
				Config:      cfg(`["lb9.example.test"]`),
				ExpectError: regexp.MustCompile(`drain names "lb9.example.test", which is not the nameserver of any node`),
			},
			{
				Config:      r.config(nodes, []string{"lb1", "lb2"}, "health_check = { type = \"http\", target = \"{ipv4}:8080\", interval = \"2 seconds\" }"),
				ExpectError: regexp.MustCompile(`health_check.interval = "2 seconds" is not a duration`),
			},
			{
				Config: cfg("[]"),
				Check: func(*terraform.State) error {
					z, _, err := (&agentclient.Client{BaseURL: r.agents[lb1].APIURL, Token: rigToken}).GetZone(context.Background(), "api.example.test")
					if err != nil {
						return err
					}
					if z.HealthCheck == nil || z.HealthCheck.Target != lb1+":8080" || z.HealthCheck.IntervalMS != 100 || z.Drain ||
						z.EffectiveWithdraw() != "redirect" || len(z.Peers) != 1 || z.Peers[0].IPv4[0] != lb2 {
						return fmt.Errorf("lb1's zone: %+v", z)
					}
					return nil
				},
			},
			{ // drain lb1: it answers with lb2's address
				Config: cfg("[pmgtm_node.lb1.nameserver]"),
				Check: func(*terraform.State) error {
					if got := answerSoon(lb1, lb2); len(got) != 1 || got[0] != lb2 {
						return fmt.Errorf("drained lb1 answers %v, want %s", got, lb2)
					}
					return nil
				},
			},
			{ // the delegation data source, read again, sees it
				Config: cfg("[pmgtm_node.lb1.nameserver]"),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("state"), knownvalue.StringExact("withdrawn")),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("healthy_nodes"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("lb2.example.test.")})),
				},
			},
			{ // undrain
				Config: cfg("[]"),
				Check: func(*terraform.State) error {
					if got := answerSoon(lb1, lb1); len(got) != 1 || got[0] != lb1 {
						return fmt.Errorf("undrained lb1 answers %v", got)
					}
					return nil
				},
			},
		},
	})
}
