package provider

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// TestAccNodeMoveNotAnswering: a node whose address changes to one where
// it does not answer (the agent stays, so the same agent would serve the
// new address) fails the apply before its A record moves, and the agent
// answers for the hostname with the old address again: the zone it was
// given for the move is taken back, since resolvers still reach it at the
// old one. The plan afterwards is empty: nothing drifted. (The move's
// success path is in TestAccHostnameLifecycle.) It drives the CLI itself,
// so that a failure shows the whole apply output.
func TestAccNodeMoveNotAnswering(t *testing.T) {
	accOnly(t)
	const lb1, lb2, nowhere = "127.0.15.11", "127.0.15.12", "127.0.15.99"
	r := newRig(t, lb1, lb2)
	tf := terraformCLI(t)
	members := []string{"lb1", "lb2"}
	before := r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, members, "")
	if out, err := tf(before, "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	out, err := tf(r.config([]testNode{{"lb1", nowhere, lb1}, {"lb2", lb2, ""}}, members, ""), "apply", "-auto-approve")
	flat := strings.Join(strings.Fields(out), " ")
	if err == nil || !strings.Contains(flat, "does not answer for api.example.test. at its new address") {
		t.Fatalf("the move to an address where the node does not answer: %v\n%s", err, out)
	}
	if strings.Contains(flat, "Move not undone") {
		t.Fatalf("the failed move was not undone:\n%s", out)
	}
	if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); !slices.Equal(got, []string{lb1}) {
		t.Fatalf("lb1 A %v after the failed move, want %s\n%s", got, lb1, out)
	}
	z, _, err := r.client(lb1).GetZone(context.Background(), "api.example.test.")
	if err != nil || !slices.Equal(z.IPv4, []string{lb1}) {
		t.Fatalf("lb1's agent answers api with %v (%v) after the failed move, want %s\n%s\nagent log:\n%s", z.IPv4, err, lb1, out, r.agents[lb1].Logs())
	}
	if out, err := tf(before, "plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after the failed move is not empty: %v\n%s", err, out)
	}
	if out, err := tf(before, "destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy: %v\n%s", err, out)
	}
}
