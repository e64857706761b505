package fence

import (
	"slices"
	"strings"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestTrackerHysteresis(t *testing.T) {
	tr := NewTracker(3, 2)
	steps := []struct {
		ok      bool
		healthy bool
		changed bool
	}{
		{false, true, false}, {false, true, false}, {true, true, false}, // a blip resets the count
		{false, true, false}, {false, true, false}, {false, false, true}, // three in a row
		{true, false, false}, {false, false, false}, {true, false, false}, {true, true, true}, // two in a row
	}
	for i, s := range steps {
		if changed := tr.Observe(s.ok); changed != s.changed || tr.Healthy() != s.healthy {
			t.Fatalf("step %d (ok=%v): healthy=%v changed=%v, want %v %v", i, s.ok, tr.Healthy(), changed, s.healthy, s.changed)
		}
	}
}

func TestDecide(t *testing.T) {
	lb2 := zone.Peer{Name: "lb2.example.com.", IPv4: []string{"203.0.113.20"}, IPv6: []string{"2001:db8::20"}}
	lb3 := zone.Peer{Name: "lb3.example.com.", IPv4: []string{"203.0.113.30"}}
	cases := []struct {
		name   string
		in     Inputs
		want   responder.Fence
		reason string
	}{
		{"healthy", Inputs{LocalHealthy: true, Mode: zone.WithdrawRefused, HealthyPeers: []zone.Peer{lb2}},
			responder.Fence{Health: zone.HealthOK}, "healthy"},
		{"failing, refused", Inputs{Mode: zone.WithdrawRefused, HealthyPeers: []zone.Peer{lb2}},
			responder.Fence{Withdraw: zone.WithdrawRefused, Health: zone.HealthFailing}, "withdrawn (refused), healthy peers: lb2.example.com."},
		{"failing, redirect", Inputs{Mode: zone.WithdrawRedirect, HealthyPeers: []zone.Peer{lb2, lb3}},
			responder.Fence{Withdraw: zone.WithdrawRedirect, Health: zone.HealthFailing, IPv4: []string{"203.0.113.20", "203.0.113.30"}, IPv6: []string{"2001:db8::20"}}, "withdrawn (redirect)"},
		{"drained", Inputs{LocalHealthy: true, Drained: true, Mode: zone.WithdrawSilent, HealthyPeers: []zone.Peer{lb3}},
			responder.Fence{Withdraw: zone.WithdrawSilent, Health: zone.HealthDrained}, "drained; withdrawn"},
		{"guard: no healthy peer", Inputs{Mode: zone.WithdrawRefused},
			responder.Fence{Health: zone.HealthFailing}, "no peer is healthy: keep answering"},
		{"guard: drained last node", Inputs{LocalHealthy: true, Drained: true, Mode: zone.WithdrawRedirect},
			responder.Fence{Health: zone.HealthDrained}, "drained, but no peer is healthy"},
	}
	for _, c := range cases {
		d := Decide(c.in)
		if !Same(d.Fence, c.want) || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: got %+v %q, want %+v %q", c.name, d.Fence, d.Reason, c.want, c.reason)
		}
		if d.Withdrawn() != (c.want.Withdraw != "") {
			t.Errorf("%s: Withdrawn() = %v", c.name, d.Withdrawn())
		}
	}
	if !slices.Equal([]string{"a"}, []string{"a"}) || Same(responder.Fence{IPv4: []string{"a"}}, responder.Fence{IPv4: []string{"b"}}) {
		t.Error("Same compares addresses")
	}
}
