package provider

import (
	"fmt"
	"strings"
	"testing"
)

// TestAccNodeRemovalNeverLame removes nodes in every way Terraform can
// order it: from the configuration (the node's delete runs before its
// hostnames' update), by renaming, with -replace, with -target of the
// removed node, and through the module. An observer queries the parent and
// the nodes all along; a delegation to a nameserver without an address, or
// to one that does not answer, is a violation.
func TestAccNodeRemovalNeverLame(t *testing.T) {
	accOnly(t)
	const lb1, lb2, lb3 = "127.0.8.11", "127.0.8.12", "127.0.8.13"
	r := newRig(t, lb1, lb2, lb3)
	const fqdn = "api.example.test."
	watchNoLame(t, dnsParent(r.srv.Addr))
	cli := terraformCLI(t)
	tf := mustCLI(t, cli)
	node := func(name, ip string) testNode { return testNode{name, ip, ""} }
	check := func(step string, want ...string) {
		t.Helper()
		if err := r.expectDelegation(want...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	three := r.config([]testNode{node("lb1", lb1), node("lb2", lb2), node("lb3", lb3)}, []string{"lb1", "lb2", "lb3"}, "")
	tf(three, "apply", "-auto-approve")
	check("create", "lb1", "lb2", "lb3")

	// Removed from the configuration: Terraform deletes the node first.
	two := r.config([]testNode{node("lb1", lb1), node("lb2", lb2)}, []string{"lb1", "lb2"}, "")
	tf(two, "apply", "-auto-approve")
	check("removed", "lb1", "lb2")
	if r.hasZone(lb3, fqdn) {
		t.Fatal("the removed node lb3 still holds the zone")
	}

	// Renamed: a replacement, whose delete leaves the NS set first.
	renamed := strings.Replace(two, `name      = "lb2"`, `name      = "lb2b"`, 1)
	tf(renamed, "apply", "-auto-approve")
	check("renamed", "lb1", "lb2b")

	// -replace: the node leaves and comes back; the next apply re-joins it.
	tf(renamed, "apply", "-auto-approve", "-replace=pmgtm_node.lb1")
	check("replaced", "lb2b")
	tf(renamed, "apply", "-auto-approve")
	check("re-joined", "lb1", "lb2b")

	// -target of a node removed from the configuration.
	one := r.config([]testNode{node("lb1", lb1)}, []string{"lb1"}, "")
	tf(one, "apply", "-auto-approve", "-target=pmgtm_node.lb2")
	check("targeted", "lb1")
	if r.hasZone(lb2, fqdn) {
		t.Fatal("the targeted node lb2 still holds the zone")
	}
	tf(one, "apply", "-auto-approve")
	tf(one, "plan", "-detailed-exitcode")

	// The last nameserver of a hostname is never taken away: a node whose
	// hostname names it only by value is refused, and stays.
	literal := r.provider() + fmt.Sprintf(`
resource "pmgtm_hostname" "api" {
  zone       = "example.test"
  name       = "api"
  answer_ttl = 5
  ns_ttl     = 60
  nodes      = [{ nameserver = "lb1.example.test.", ipv4 = %q, ipv6 = null, agent_url = %q }]
}
`, lb1, r.agents[lb1].APIURL)
	tf(one, "state", "rm", "pmgtm_hostname.api")
	tf(literal, "import", "-no-color", "pmgtm_hostname.api", "example.test/api")
	out, err := cli(literal, "apply", "-auto-approve")
	if flat := strings.Join(strings.Fields(out), " "); err == nil || !strings.Contains(flat, "lb1.example.test. is its only nameserver") {
		t.Fatalf("deleting the last nameserver: %v\n%s", err, out)
	}
	check("refused", "lb1")
	// The hostname and the node no longer depend on each other in state:
	// the hostname goes first, as a user would do after that error.
	tf(literal, "destroy", "-auto-approve", "-target=pmgtm_hostname.api")
	tf(literal, "destroy", "-auto-approve")
	if got, _ := delegation(r.srv.Addr, fqdn); len(got) != 0 {
		t.Fatalf("delegation left: %v", got)
	}

	// The module, with a node removed.
	r.moduleRemoveNode(terraformCLI(t), map[string]string{"lb1": lb1, "lb2": lb2, "lb3": lb3})
}
