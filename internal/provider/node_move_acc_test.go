package provider

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/miekg/dns"
)

// TestAccNodeMoveNotAnswering: a node whose address changes to one where
// it does not answer (the agent stays, so the same agent would serve the
// new address) fails the apply before its A record moves, and the agent
// answers for the hostname with the old address again: the zone it was
// given for the move is taken back, since resolvers still reach it at the
// old one. The plan afterwards is empty: nothing drifted. (The move's
// success path is in TestAccHostnameLifecycle.)
func TestAccNodeMoveNotAnswering(t *testing.T) {
	accOnly(t)
	const lb1, lb2, nowhere = "127.0.15.11", "127.0.15.12", "127.0.15.99"
	r := newRig(t, lb1, lb2)
	members := []string{"lb1", "lb2"}
	before := r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, members, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: protoV6Providers,
		Steps: []resource.TestStep{
			{Config: before},
			{
				Config:      r.config([]testNode{{"lb1", nowhere, lb1}, {"lb2", lb2, ""}}, members, ""),
				ExpectError: regexp.MustCompile(`does not\s+answer\s+for\s+api\.example\.test\.\s+at\s+its\s+new\s+address`),
			},
			{
				PreConfig: func() {
					if got := lookup(t, r.srv, "lb1.example.test.", dns.TypeA); !slices.Equal(got, []string{lb1}) {
						t.Fatalf("lb1 A %v after the failed move, want %s", got, lb1)
					}
					z, _, err := r.client(lb1).GetZone(context.Background(), "api.example.test.")
					if err != nil || !slices.Equal(z.IPv4, []string{lb1}) {
						t.Fatalf("lb1's agent answers api with %v (%v) after the failed move, want %s", z.IPv4, err, lb1)
					}
				},
				Config:   before,
				PlanOnly: true,
			},
		},
	})
}
