package provider

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// verifyTimeout bounds the DNS check of one node, so that one silent node
// fails the apply with its own name long before the operation timeout.
const verifyTimeout = time.Minute

// stepPause holds each rollout step's result for a while before the next
// step. Tests set it, so that an observer sees every intermediate state of
// the parent and the agents, however brief it would be otherwise.
var stepPause time.Duration

func pause(ctx context.Context, err error) error {
	if stepPause > 0 && err == nil {
		select {
		case <-ctx.Done():
		case <-time.After(stepPause):
		}
	}
	return err
}

// nodeKey identifies a node in a rollout: its nameserver name and the
// agent that serves it, so that moving a node to another agent is a
// make-before-break of two keys.
type nodeKey struct {
	nameserver, agentURL string
}

func (k nodeKey) String() string { return k.nameserver + " at " + k.agentURL }

func (n rolloutNode) key() nodeKey {
	ns, err := zone.CanonicalName(n.Nameserver)
	if err != nil {
		ns = n.Nameserver
	}
	return nodeKey{nameserver: ns, agentURL: n.AgentURL}
}

// keysOf is the nodes' rollout keys, each once.
func keysOf(nodes []rolloutNode) []nodeKey {
	keys := make([]nodeKey, 0, len(nodes))
	for _, n := range nodes {
		if k := n.key(); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// zoneAgent is what a rollout needs of one node's agent.
type zoneAgent interface {
	PutZone(ctx context.Context, name string, body zone.Body) (zone.Zone, []byte, error)
	DeleteZone(ctx context.Context, name string) error
}

// delegator is what a rollout needs of the parent zone.
type delegator interface {
	Ensure(ctx context.Context, zone, name string, want []parentzone.RRSet, opts parentzone.EnsureOptions) error
	Release(ctx context.Context, zone, name string, opts parentzone.EnsureOptions) error
}

// rolloutDeps are the outside world of a rollout: agents, DNS checks and
// the parent. The provider gives the real ones (rolloutDeps of Clients);
// tests give a simulated world.
type rolloutDeps struct {
	agent  func(agentAccess) zoneAgent
	verify func(ctx context.Context, want probe.Want) error
	parent delegator
}

// rolloutDeps connects a rollout to the real agents, DNS and parent.
func (c *Clients) rolloutDeps() rolloutDeps {
	return rolloutDeps{agent: func(a agentAccess) zoneAgent { return c.agent(a) }, verify: c.verify, parent: c.Parent}
}

// verify checks over DNS that a node serves want (probe.Check within
// verifyTimeout), and logs the check.
func (c *Clients) verify(ctx context.Context, want probe.Want) error {
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	start := time.Now()
	err := probe.Check(ctx, c.dnsPort(), want)
	c.logVerification(ctx, want.FQDN, want.Node, want.Addrs, want.Serial, start, err)
	return err
}

// rolloutNode is a node as a rollout uses it: what goes in its zone and
// how to reach its agent, plain Go.
type rolloutNode struct {
	model.HostnameNode
	access agentAccess
}

func (n nodeValue) rollout() rolloutNode {
	return rolloutNode{HostnameNode: n.plain(), access: n.access()}
}

// hostnameExecutor carries out rollout steps for one hostname.
type hostnameExecutor struct {
	deps             rolloutDeps
	zone, name, fqdn string
	settings         model.ZoneSettings
	claim            parentzone.EnsureOptions // who acts on the parent's name
	planned          []model.HostnameNode
	byKey            map[nodeKey]rolloutNode // planned and old nodes
	plannedAgents    map[string]bool         // agent URLs of planned nodes
}

func (r *HostnameResource) executor(p plainHostname, serial uint32, claim parentzone.EnsureOptions, planned, old []rolloutNode) (*hostnameExecutor, diag.Diagnostics) {
	settings, diags := p.settings(serial)
	return newHostnameExecutor(r.clients.rolloutDeps(), p.Zone, p.Name, settings, claim, planned, old), diags
}

// newHostnameExecutor is the executor for the hostname name in zoneName,
// moving from the old nodes to the planned ones.
func newHostnameExecutor(deps rolloutDeps, zoneName, name string, settings model.ZoneSettings, claim parentzone.EnsureOptions, planned, old []rolloutNode) *hostnameExecutor {
	z, _ := zone.CanonicalName(zoneName)
	name = strings.ToLower(name)
	ex := &hostnameExecutor{deps: deps, zone: z, name: name, fqdn: name + "." + z, settings: settings, claim: claim,
		byKey: map[nodeKey]rolloutNode{}, plannedAgents: map[string]bool{}}
	for _, n := range old {
		ex.byKey[n.key()] = n
	}
	for _, n := range planned {
		ex.byKey[n.key()] = n
		ex.planned = append(ex.planned, n.HostnameNode)
		ex.plannedAgents[n.AgentURL] = true
	}
	return ex
}

// settings are the zone settings the model asks for.
func (p plainHostname) settings(serial uint32) (model.ZoneSettings, diag.Diagnostics) {
	var diags diag.Diagnostics
	s := model.ZoneSettings{AnswerTTL: valueOr0(p.AnswerTTL), NSTTL: valueOr0(p.NSTTL), Serial: serial,
		Withdraw: p.Withdraw, Drained: p.Drain, ACMEChallenge: p.acmeTarget}
	if p.HealthCheck != nil {
		body, problems := p.HealthCheck.Body()
		addProblems(&diags, problems, nil)
		s.HealthCheck = body
	}
	if p.StaticKnown {
		s.Static, _ = p.Static.Zone() // ValidateHostname reported any fault at plan time
	}
	return s, diags
}

func valueOr0(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

func (ex *hostnameExecutor) Push(ctx context.Context, key nodeKey) error {
	logStep(ctx, "push", ex.fqdn, key.String())
	n := ex.byKey[key]
	body := model.NodeZone(ex.fqdn, n.HostnameNode, ex.planned, ex.settings)
	_, _, err := ex.deps.agent(n.access).PutZone(ctx, ex.fqdn, body)
	return pause(ctx, err)
}

func (ex *hostnameExecutor) Verify(ctx context.Context, key nodeKey) error {
	logStep(ctx, "verify", ex.fqdn, key.String())
	addrs, err := nodeAddrs(ex.byKey[key].HostnameNode)
	if err != nil {
		return err
	}
	return ex.deps.verify(ctx, probe.Want{FQDN: ex.fqdn, Addrs: addrs, Serial: ex.settings.Serial,
		PeerKey: zone.DecodePeerKey(ex.settings.PeerKey), Node: key.nameserver})
}

func nodeAddrs(n model.HostnameNode) ([]netip.Addr, error) {
	var addrs []netip.Addr
	for _, s := range []string{n.IPv4, n.IPv6} {
		if s == "" {
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", s, err)
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 {
		return nil, errors.New("the node has no address")
	}
	return addrs, nil
}

func (ex *hostnameExecutor) Publish(ctx context.Context, keys []nodeKey) error {
	logStep(ctx, "delegate", ex.fqdn, keys)
	var ns []string
	for _, k := range keys {
		if !slices.Contains(ns, k.nameserver) {
			ns = append(ns, k.nameserver)
		}
	}
	return pause(ctx, ex.deps.parent.Ensure(ctx, ex.zone, ex.name,
		[]parentzone.RRSet{{Type: "NS", TTL: uint32(ex.settings.NSTTL), Values: ns}}, ex.claim))
}

func (ex *hostnameExecutor) Undelegate(ctx context.Context) error {
	logStep(ctx, "undelegate", ex.fqdn, nil)
	return pause(ctx, ex.deps.parent.Release(ctx, ex.zone, ex.name, ex.claim))
}

func (ex *hostnameExecutor) Remove(ctx context.Context, key nodeKey) error {
	logStep(ctx, "remove", ex.fqdn, key.String())
	n := ex.byKey[key]
	if ex.plannedAgents[n.AgentURL] {
		return nil // the same agent serves a planned node: its zone is the new one
	}
	return pause(ctx, ex.deps.agent(n.access).DeleteZone(ctx, ex.fqdn))
}
