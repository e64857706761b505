package provider

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestAccOpenTofu runs the hostname lifecycle and the module under OpenTofu
// (PMGTM_TOFU_PATH; `make test` builds tofu with .ci/tofu): create, an
// empty plan, an in-place change, the module with a node removed, and
// destroy, with the delegation checked in the parent after each step.
func TestAccOpenTofu(t *testing.T) {
	accOnly(t)
	bin := os.Getenv("PMGTM_TOFU_PATH")
	if bin == "" {
		t.Skip("PMGTM_TOFU_PATH is not set (make test sets it)")
	}
	const lb1, lb2, lb3 = "127.0.10.11", "127.0.10.12", "127.0.10.13"
	r := newRig(t, lb1, lb2, lb3)
	tofu := cliFor(t, bin)
	run := mustCLI(t, tofu)
	check := func(step string, want ...string) {
		t.Helper()
		if err := r.expectDelegation(want...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	nodes := []testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}
	config := r.config(nodes, []string{"lb1", "lb2"}, "")
	run(config, "apply", "-auto-approve")
	check("create", "lb1", "lb2")
	if out := run(config, "plan", "-detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("plan after apply is not empty:\n%s", out)
	}
	run(strings.Replace(config, "answer_ttl = 5", "answer_ttl = 7", 1), "apply", "-auto-approve")
	if z, _, err := r.client(lb1).GetZone(context.Background(), "api.example.test."); err != nil || z.AnswerTTL != 7 {
		t.Fatalf("in-place change not pushed: %+v %v", z, err)
	}
	run(config, "destroy", "-auto-approve")
	check("destroy")

	r.moduleRemoveNode(cliFor(t, bin), map[string]string{"lb1": lb1, "lb2": lb2, "lb3": lb3})
}
