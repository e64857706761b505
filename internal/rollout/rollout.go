package rollout

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Action is one kind of step.
type Action int

const (
	// Push stores the node's zone on its agent.
	Push Action = iota
	// Verify checks over DNS that the node answers for the hostname with
	// the pushed zone.
	Verify
	// Publish makes the parent's NS set exactly Step.Nameservers.
	Publish
	// Undelegate removes the NS set from the parent. ("Withdraw" is what an
	// agent does when it fences itself; see the glossary in DESIGN.md.)
	Undelegate
	// Remove deletes the node's zone from its agent.
	Remove
)

func (a Action) String() string {
	return [...]string{"push", "verify", "publish", "undelegate", "remove"}[a]
}

// Step is one action; Node is the node's key (its nameserver name and the
// agent that serves it, or whatever the caller keys nodes by) for Push,
// Verify and Remove; Nameservers is the set of keys for Publish.
type Step[K comparable] struct {
	Action      Action
	Node        K
	Nameservers []K
}

func (s Step[K]) String() string {
	var none K
	switch {
	case s.Action == Publish:
		return fmt.Sprintf("publish %v", s.Nameservers)
	case s.Node == none:
		return s.Action.String()
	}
	return fmt.Sprintf("%s %v", s.Action, s.Node)
}

// Change plans the move from the nodes that hold the hostname now (from;
// empty on create) to the wanted nodes (to). Every wanted node is pushed
// and verified, even if it was there before: pushes are idempotent, and
// this repairs a zone lost or changed on an agent.
func Change[K comparable](from, to []K) []Step[K] {
	var steps []Step[K]
	for _, n := range to {
		steps = append(steps, Step[K]{Action: Push, Node: n})
	}
	for _, n := range to {
		steps = append(steps, Step[K]{Action: Verify, Node: n})
	}
	steps = append(steps, Step[K]{Action: Publish, Nameservers: slices.Clone(to)})
	for _, n := range from {
		if !slices.Contains(to, n) {
			steps = append(steps, Step[K]{Action: Remove, Node: n})
		}
	}
	return steps
}

// Move plans a node's move to a new address or agent (to, the node at
// its new place) for one hostname it serves: the zone is pushed there and
// verified there before anything points resolvers at it. The NS set keeps
// the node's name, so nothing is published; the node's own address
// records change once every hostname's Move has succeeded, which is the
// caller's step, and the old place's zone goes with the hostname's next
// Change.
func Move[K comparable](to K) []Step[K] {
	return []Step[K]{{Action: Push, Node: to}, {Action: Verify, Node: to}}
}

// Destroy plans the removal of a hostname: the delegation first, then the
// zones.
func Destroy[K comparable](from []K) []Step[K] {
	return append([]Step[K]{{Action: Undelegate}}, RemoveZones(from)...)
}

// RemoveZones plans the removal of the nodes' zones alone, for a create
// that never reached the parent.
func RemoveZones[K comparable](from []K) []Step[K] {
	steps := make([]Step[K], 0, len(from))
	for _, n := range from {
		steps = append(steps, Step[K]{Action: Remove, Node: n})
	}
	return steps
}

// Executor carries out steps.
type Executor[K comparable] interface {
	Push(ctx context.Context, node K) error
	Verify(ctx context.Context, node K) error
	Publish(ctx context.Context, nodes []K) error
	Undelegate(ctx context.Context) error
	Remove(ctx context.Context, node K) error
}

// StepError is the failure of one step.
type StepError struct {
	Action Action
	Node   any          // the step's node key (zero for Publish and Undelegate)
	Step   fmt.Stringer // the Step, for the message
	Err    error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }
func (e *StepError) Unwrap() error { return e.Err }

// Run carries out steps in order. It stops at the first failed Push,
// Verify, Publish or Undelegate, since what follows depends on it. A failed
// Remove does not stop it: the node is already out of the delegation, so
// its leftover zone harms nobody (the node is often dead, which is why it
// is being removed); those failures come back as leftovers, to be reported
// as warnings.
func Run[K comparable](ctx context.Context, steps []Step[K], ex Executor[K]) (leftovers []*StepError, err error) {
	for _, s := range steps {
		var e error
		switch s.Action {
		case Push:
			e = ex.Push(ctx, s.Node)
		case Verify:
			e = ex.Verify(ctx, s.Node)
		case Publish:
			e = ex.Publish(ctx, s.Nameservers)
		case Undelegate:
			e = ex.Undelegate(ctx)
		case Remove:
			if e = ex.Remove(ctx, s.Node); e != nil {
				leftovers = append(leftovers, &StepError{Action: s.Action, Node: s.Node, Step: s, Err: e})
				continue
			}
		}
		if e != nil {
			return leftovers, &StepError{Action: s.Action, Node: s.Node, Step: s, Err: e}
		}
		if ctx.Err() != nil {
			return leftovers, &StepError{Action: s.Action, Node: s.Node, Step: s, Err: errors.Join(errors.New("stopped after this step"), ctx.Err())}
		}
	}
	return leftovers, nil
}
