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

func keyOf(n nodeValue) nodeKey {
	ns, err := zone.CanonicalName(n.Nameserver.ValueString())
	if err != nil {
		ns = n.Nameserver.ValueString()
	}
	return nodeKey{nameserver: ns, agentURL: n.AgentURL.ValueString()}
}

func nodeKeys(nodes []nodeValue) []nodeKey {
	keys := make([]nodeKey, 0, len(nodes))
	for _, n := range nodes {
		if k := keyOf(n); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// hostnameExecutor carries out rollout steps for one hostname.
type hostnameExecutor struct {
	clients          *Clients
	zone, name, fqdn string
	settings         model.ZoneSettings
	claim            parentzone.EnsureOptions // who acts on the parent's name
	planned          []model.HostnameNode
	byKey            map[nodeKey]nodeValue // planned and old nodes
	plannedAgents    map[string]bool       // agent URLs of planned nodes
}

func (r *HostnameResource) executor(ctx context.Context, m *hostnameModel, serial uint32, claim parentzone.EnsureOptions, planned, old []nodeValue) (*hostnameExecutor, diag.Diagnostics) {
	z, _ := zone.CanonicalName(m.Zone.ValueString())
	name := strings.ToLower(m.Name.ValueString())
	settings, diags := m.settings(ctx, serial)
	ex := &hostnameExecutor{clients: r.clients, zone: z, name: name, fqdn: name + "." + z, settings: settings, claim: claim,
		byKey: map[nodeKey]nodeValue{}, plannedAgents: map[string]bool{}}
	for _, n := range old {
		ex.byKey[keyOf(n)] = n
	}
	for _, n := range planned {
		ex.byKey[keyOf(n)] = n
		ex.planned = append(ex.planned, n.plain())
		ex.plannedAgents[n.AgentURL.ValueString()] = true
	}
	return ex, diags
}

// settings are the zone settings the model asks for.
func (m hostnameModel) settings(ctx context.Context, serial uint32) (model.ZoneSettings, diag.Diagnostics) {
	h, diags := m.hostname(ctx)
	s := model.ZoneSettings{AnswerTTL: m.AnswerTTL.ValueInt64(), NSTTL: m.NSTTL.ValueInt64(), Serial: serial,
		Withdraw: h.Withdraw, Drained: h.Drain, ACMEChallenge: known(m.ACMETarget)}
	if h.HealthCheck != nil {
		body, problems := h.HealthCheck.Body()
		addProblems(&diags, problems, nil)
		s.HealthCheck = body
	}
	if h.StaticKnown {
		s.Static, _ = h.Static.Zone() // ValidateHostname reported any fault at plan time
	}
	return s, diags
}

func (ex *hostnameExecutor) Push(ctx context.Context, key nodeKey) error {
	logStep(ctx, "push", ex.fqdn, key.String())
	n := ex.byKey[key]
	body := model.NodeZone(ex.fqdn, n.plain(), ex.planned, ex.settings)
	_, _, err := ex.clients.agent(n.access()).PutZone(ctx, ex.fqdn, body)
	return pause(ctx, err)
}

func (ex *hostnameExecutor) Verify(ctx context.Context, key nodeKey) error {
	logStep(ctx, "verify", ex.fqdn, key.String())
	ctx, cancel := context.WithTimeout(ctx, verifyTimeout)
	defer cancel()
	addrs, err := nodeAddrs(ex.byKey[key])
	if err != nil {
		return err
	}
	start := time.Now()
	err = probe.Check(ctx, ex.clients.dnsPort(), probe.Want{FQDN: ex.fqdn, Addrs: addrs, Serial: ex.settings.Serial,
		PeerKey: zone.DecodePeerKey(ex.settings.PeerKey), Node: key.nameserver})
	ex.clients.logVerification(ctx, ex.fqdn, key.nameserver, addrs, ex.settings.Serial, start, err)
	return err
}

func nodeAddrs(n nodeValue) ([]netip.Addr, error) {
	var addrs []netip.Addr
	for _, s := range []string{known(n.IPv4), known(n.IPv6)} {
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
		name, _ := zone.CanonicalName(ex.byKey[k].Nameserver.ValueString())
		if !slices.Contains(ns, name) {
			ns = append(ns, name)
		}
	}
	return pause(ctx, ex.clients.Parent.Ensure(ctx, ex.zone, ex.name,
		[]parentzone.RRSet{{Type: "NS", TTL: uint32(ex.settings.NSTTL), Values: ns}}, ex.claim))
}

func (ex *hostnameExecutor) Undelegate(ctx context.Context) error {
	logStep(ctx, "undelegate", ex.fqdn, nil)
	return pause(ctx, ex.clients.Parent.Release(ctx, ex.zone, ex.name, ex.claim))
}

func (ex *hostnameExecutor) Remove(ctx context.Context, key nodeKey) error {
	logStep(ctx, "remove", ex.fqdn, key.String())
	n := ex.byKey[key]
	if ex.plannedAgents[n.AgentURL.ValueString()] {
		return nil // the same agent serves a planned node: its zone is the new one
	}
	return pause(ctx, ex.clients.agent(n.access()).DeleteZone(ctx, ex.fqdn))
}
