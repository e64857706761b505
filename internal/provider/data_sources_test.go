package provider

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccDataSources: pmgtm_delegation reports a live delegation and a
// node that dies, and works in a postcondition; pmgtm_zone_file renders
// the zone the agent serves.
func TestAccDataSources(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.1.31", "127.0.1.32"
	r := newRig(t, lb1, lb2)
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	data := func(postcondition bool) string {
		cond := ""
		if postcondition {
			cond = `
  lifecycle {
    postcondition {
      condition     = length(self.lame_nodes) == 0
      error_message = "lame nodes in the delegation of api: ${join(", ", self.lame_nodes)}"
    }
  }`
		}
		return r.config(nodes, []string{"lb1", "lb2"}, "") + fmt.Sprintf(`
data "pmgtm_delegation" "api" {
  zone       = "example.test"
  name       = "api"
  depends_on = [pmgtm_hostname.api]
  %s
}

data "pmgtm_zone_file" "lb1_api" {
  zone       = "example.test"
  name       = "api"
  node       = pmgtm_node.lb1.node
  nodes      = [pmgtm_node.lb1.node, pmgtm_node.lb2.node]
  answer_ttl = 5
  ns_ttl     = 60
  acme_challenge_target = "api._acme-challenge.example.test"
}
`, cond)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{
				Config: data(true),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("all_healthy"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("healthy_nodes"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("lb1.example.test."), knownvalue.StringExact("lb2.example.test.")})),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("nodes").AtSliceIndex(0).AtMapKey("answers"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(lb1)})),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("ns_ttl"), knownvalue.Int64Exact(60)),
					statecheck.ExpectKnownValue("data.pmgtm_zone_file.lb1_api", tfjsonpath.New("filename"), knownvalue.StringExact("db.api.example.test")),
				},
				Check: func(s *terraform.State) error {
					a := s.RootModule().Resources["data.pmgtm_zone_file.lb1_api"].Primary.Attributes
					for _, want := range []string{"$ORIGIN api.example.test.", "@\t60\tIN\tNS\tlb2.example.test.", "*\t5\tIN\tA\t" + lb1,
						"_acme-challenge\t5\tIN\tCNAME\tapi._acme-challenge.example.test."} {
						if !strings.Contains(a["content"], want) {
							return fmt.Errorf("zone file lacks %q:\n%s", want, a["content"])
						}
					}
					if !strings.Contains(a["corefile"], "file /etc/coredns/db.api.example.test") || !strings.Contains(a["agent_json"], `"ipv4":["`+lb1+`"]`) {
						return fmt.Errorf("corefile/agent_json: %s %s", a["corefile"], a["agent_json"])
					}
					return nil
				},
			},
			{ // lb2 dies: the delegation reports it lame; nothing fails
				PreConfig: func() { r.agents[lb2].Kill() },
				Config:    data(false),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("all_healthy"), knownvalue.Bool(false)),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("lame_nodes"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("lb2.example.test.")})),
					statecheck.ExpectKnownValue("data.pmgtm_delegation.api", tfjsonpath.New("nodes").AtSliceIndex(1).AtMapKey("state"), knownvalue.StringExact("lame")),
				},
			},
			{ // in a postcondition it stops the run and names the node
				Config:      data(true),
				ExpectError: regexp.MustCompile(`lame nodes in the delegation of api: lb2\.example\.test\.`),
			},
			{ // pmgtm_zone_file refuses a node that is not in nodes
				Config: r.config(nodes, nil, "") + `
data "pmgtm_zone_file" "bad" {
  zone  = "example.test"
  name  = "api"
  node  = pmgtm_node.lb2.node
  nodes = [pmgtm_node.lb1.node]
}
`,
				ExpectError: regexp.MustCompile(`node lb2\.example\.test\. is not in nodes`),
			},
		},
	})
}
