package provider

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/rollout"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// simWorld simulates the agents (by URL), the addresses they answer at and
// the parent's NS set for one hostname, and checks after every parent
// change and every zone removal that each delegated nameserver's address
// reaches an agent serving the hostname with that address.
type simWorld struct {
	t      *testing.T
	agents map[string]map[string]zone.Body // agent URL -> fqdn -> zone
	at     map[string]string               // address -> agent URL answering there
	addrOf map[string]string               // nameserver -> address (its A record)
	ns     []string                        // the parent's NS set
}

func newSimWorld(t *testing.T, nodes ...rolloutNode) *simWorld {
	t.Helper()
	w := &simWorld{t: t, agents: map[string]map[string]zone.Body{}, at: map[string]string{}, addrOf: map[string]string{}}
	for _, n := range nodes {
		w.agents[n.AgentURL] = map[string]zone.Body{}
		w.at[n.IPv4] = n.AgentURL
		w.addrOf[n.Nameserver] = n.IPv4
	}
	return w
}

func (w *simWorld) deps() rolloutDeps {
	return rolloutDeps{agent: func(a agentAccess) zoneAgent { return simAgent{w, a.URL} }, verify: w.verify, parent: w}
}

func (w *simWorld) serves(ns, fqdn string) error {
	addr := w.addrOf[ns]
	z, ok := w.agents[w.at[addr]][fqdn]
	if !ok || !slices.Contains(z.IPv4, addr) {
		return fmt.Errorf("%s (%s) does not answer for %s with its own address (zone %+v)", ns, addr, fqdn, z)
	}
	return nil
}

func (w *simWorld) checkNotLame(after string) {
	for _, ns := range w.ns {
		if err := w.serves(ns, "api.example.test."); err != nil {
			w.t.Fatalf("lame delegation after %s: %v", after, err)
		}
	}
}

func (w *simWorld) verify(_ context.Context, want probe.Want) error {
	return w.serves(want.Node, want.FQDN)
}

func (w *simWorld) Ensure(_ context.Context, _, _ string, want []parentzone.RRSet, _ parentzone.EnsureOptions) error {
	w.ns = slices.Clone(want[0].Values)
	w.checkNotLame(fmt.Sprintf("publish %v", w.ns))
	return nil
}

func (w *simWorld) Release(context.Context, string, string, parentzone.EnsureOptions) error {
	w.ns = nil
	return nil
}

type simAgent struct {
	w   *simWorld
	url string
}

func (a simAgent) PutZone(_ context.Context, name string, body zone.Body) (zone.Zone, []byte, error) {
	zones, ok := a.w.agents[a.url]
	if !ok {
		return zone.Zone{}, nil, errors.New("no agent at " + a.url)
	}
	zones[name] = body
	return zone.Zone{}, nil, nil
}

func (a simAgent) DeleteZone(_ context.Context, name string) error {
	delete(a.w.agents[a.url], name)
	a.w.checkNotLame("remove at " + a.url)
	return nil
}

func simNode(name, ip, agent string) rolloutNode {
	n := model.HostnameNode{Nameserver: name + ".example.test.", IPv4: ip, AgentURL: agent}
	return rolloutNode{HostnameNode: n, access: agentAccess{URL: agent}}
}

// TestHostnameExecutor runs the hostname's rollouts through the executor
// against a simulated world: create, a node replaced by another on the
// same agent (the old key's removal must not take the new zone), a node
// moved to another agent, and destroy, never leaving a delegated node
// without the zone.
func TestHostnameExecutor(t *testing.T) {
	lb1, lb2, lb3 := simNode("lb1", "192.0.2.1", "a1"), simNode("lb2", "192.0.2.2", "a2"), simNode("lb3", "192.0.2.3", "a3")
	lb3OnA2 := simNode("lb3", "192.0.2.2", "a2")
	w := newSimWorld(t, lb1, lb2, lb3)
	settings := model.ZoneSettings{AnswerTTL: 30, NSTTL: 300, Serial: 7}
	run := func(step string, steps func(old, planned []nodeKey) []rollout.Step[nodeKey], old, planned []rolloutNode) {
		t.Helper()
		ex := newHostnameExecutor(w.deps(), "example.test", "api", settings, parentzone.EnsureOptions{}, planned, old)
		if _, err := rollout.Run(context.Background(), steps(keysOf(old), keysOf(planned)), ex); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	const fqdn = "api.example.test."

	run("create", rollout.Change[nodeKey], nil, []rolloutNode{lb1, lb2})
	if !slices.Equal(w.ns, []string{"lb1.example.test.", "lb2.example.test."}) {
		t.Fatalf("create published %v", w.ns)
	}
	if z := w.agents["a1"][fqdn]; !slices.Equal(z.Nameservers, w.ns) || len(z.Peers) != 1 || z.Peers[0].Name != "lb2.example.test." {
		t.Errorf("lb1's zone names %v with peers %+v, want both nodes and lb2 as its peer", z.Nameservers, z.Peers)
	}

	// lb3 replaces lb2 on lb2's agent and address: removing the old key
	// at that agent must not delete the zone the planned lb3 now has there.
	w.addrOf["lb3.example.test."] = "192.0.2.2"
	run("lb3 in lb2's place", rollout.Change[nodeKey], []rolloutNode{lb1, lb2}, []rolloutNode{lb1, lb3OnA2})
	if err := w.serves("lb3.example.test.", fqdn); err != nil || !slices.Equal(w.ns, []string{"lb1.example.test.", "lb3.example.test."}) {
		t.Fatalf("after lb3 took lb2's place: %v; NS %v", err, w.ns)
	}

	// lb3 moves to an agent of its own: the zone goes with it and leaves a2.
	w.addrOf["lb3.example.test."] = "192.0.2.3"
	run("lb3 to a3", rollout.Change[nodeKey], []rolloutNode{lb1, lb3OnA2}, []rolloutNode{lb1, lb3})
	if _, left := w.agents["a2"][fqdn]; left {
		t.Fatal("after lb3 moved to a3, a2 still holds the zone")
	}

	run("destroy", func(old, _ []nodeKey) []rollout.Step[nodeKey] { return rollout.Destroy(old) }, []rolloutNode{lb1, lb3}, nil)
	for url, zones := range w.agents {
		if _, left := zones[fqdn]; left || w.ns != nil {
			t.Errorf("after destroy: agent %s holds the zone: %v; NS %v", url, left, w.ns)
		}
	}
}
