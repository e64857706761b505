package fence

import (
	"slices"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Tracker turns check results into a health state with hysteresis: fall
// failures in a row make it unhealthy, rise successes in a row healthy
// again. It starts healthy, so a restarted agent serves at once.
type Tracker struct {
	fall, rise int
	healthy    bool
	streak     int // consecutive results that disagree with the state
}

// NewTracker returns a healthy tracker.
func NewTracker(fall, rise int) *Tracker {
	return &Tracker{fall: max(fall, 1), rise: max(rise, 1), healthy: true}
}

// Healthy is the current state.
func (t *Tracker) Healthy() bool { return t.healthy }

// Observe records one result and reports whether the state changed.
func (t *Tracker) Observe(ok bool) (changed bool) {
	if ok == t.healthy {
		t.streak = 0
		return false
	}
	t.streak++
	need := t.fall
	if !t.healthy {
		need = t.rise
	}
	if t.streak < need {
		return false
	}
	t.healthy, t.streak = ok, 0
	return true
}

// Inputs is what a decision depends on.
type Inputs struct {
	LocalHealthy bool
	Drained      bool
	Mode         string      // the zone's withdraw mode
	HealthyPeers []zone.Peer // peers whose own check passes; asked only when needed
}

// Wants reports whether the inputs call for a withdrawal at all (so the
// caller knows whether to ask the peers).
func (in Inputs) Wants() bool { return !in.LocalHealthy || in.Drained }

// Health is the state the node reports to its peers.
func (in Inputs) Health() string {
	switch {
	case in.Drained:
		return zone.HealthDrained
	case !in.LocalHealthy:
		return zone.HealthFailing
	}
	return zone.HealthOK
}

// Decision is the fencing state to serve and why.
type Decision struct {
	Fence  responder.Fence
	Reason string
}

// Withdrawn reports whether the decision withdraws the zone.
func (d Decision) Withdrawn() bool { return d.Fence.Withdraw != "" }

// Decide picks the fencing state.
func Decide(in Inputs) Decision {
	health := in.Health()
	if !in.Wants() {
		return Decision{Fence: responder.Fence{Health: health}, Reason: "local load balancer healthy"}
	}
	why := "local load balancer fails its health check"
	if in.Drained {
		why = "drained"
	}
	if len(in.HealthyPeers) == 0 {
		return Decision{Fence: responder.Fence{Health: health},
			Reason: why + ", but no peer is healthy: keep answering (withdrawing would take the hostname down)"}
	}
	f := responder.Fence{Withdraw: in.Mode, Health: health}
	if in.Mode == zone.WithdrawRedirect {
		for _, p := range in.HealthyPeers {
			f.IPv4 = append(f.IPv4, p.IPv4...)
			f.IPv6 = append(f.IPv6, p.IPv6...)
		}
		if len(f.IPv4) == 0 && len(f.IPv6) == 0 {
			return Decision{Fence: responder.Fence{Health: health}, Reason: why + ", but healthy peers have no address: keep answering"}
		}
	}
	names := ""
	for i, p := range in.HealthyPeers {
		if i > 0 {
			names += ", "
		}
		names += p.Name
	}
	return Decision{Fence: f, Reason: why + "; withdrawn (" + in.Mode + "), healthy peers: " + names}
}

// Same reports whether two fences serve the same answers.
func Same(a, b responder.Fence) bool {
	return a.Withdraw == b.Withdraw && a.Health == b.Health && slices.Equal(a.IPv4, b.IPv4) && slices.Equal(a.IPv6, b.IPv6)
}
