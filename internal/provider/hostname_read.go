package provider

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// refresh reads the hostname as it is: the parent's NS set, and the zone on
// each node's agent. What differs from the state becomes a diff: a node
// that lost its zone or left the NS set is dropped from nodes, one whose
// zone changed marks the serial as drifted (see checkNodes; the next apply
// pushes them again); a changed NS TTL or NS set
// shows in ns_ttl and nameservers. It reports gone when the delegation and its
// marker are both gone. An unreachable agent is a warning, not a failure:
// a dead node is exactly what pmgtm is for.
func (r *HostnameResource) refresh(ctx context.Context, state *hostnameModel, req privateReader, resp privateWriter) (gone bool, diags diag.Diagnostics) {
	zoneName := state.Zone.ValueString()
	name := strings.ToLower(state.Name.ValueString())
	z, err := zone.CanonicalName(zoneName)
	if err != nil {
		diags.AddError("Invalid zone in state", err.Error())
		return false, diags
	}
	fqdn := name + "." + z
	s, err := r.clients.Parent.Lookup(ctx, zoneName, name)
	if err != nil {
		diags.AddError("Cannot read the parent zone", err.Error())
		return false, diags
	}
	claim, isImport := readClaim(ctx, &state.InstanceID, req, resp, s, &diags)
	r.clients.planned.sawInState(zoneName, name, state.InstanceID)
	claim.Wrote = state.wroteNS(ctx)
	switch {
	case isImport && len(s.Of("NS")) == 0:
		diags.AddError("Nothing to import", fmt.Sprintf("%s has no NS delegation; create it with terraform apply instead.", fqdn))
		return true, diags
	case !isImport && !s.Marked() && !s.Has(claim.Wrote):
		return true, diags // delegation and marker gone: planned as a create again
	}
	state.OwnerMarker = types.StringValue(s.MarkerText())
	state.FQDN = types.StringValue(fqdn)
	state.ID = types.StringValue(strings.TrimSuffix(z, ".") + "/" + name)
	if r.clients.Parent.Permits(zoneName, name, s, claim) != nil {
		return false, diags // held by someone else now: owner_marker shows it; state keeps what it wrote
	}
	var nsSet []string
	for _, rec := range s.Of("NS") {
		if c, err := zone.CanonicalName(rec.Value); err == nil {
			nsSet = append(nsSet, c)
		}
	}
	slices.Sort(nsSet)

	if isImport {
		diags.Append(r.discover(ctx, state, z, fqdn, nsSet)...)
	} else {
		diags.Append(r.checkNodes(ctx, state, fqdn, nsSet, peerKey(ctx, req), resp)...)
	}
	if ns := s.Of("NS"); len(ns) > 0 {
		state.NSTTL = types.Int64Value(int64(ns[0].TTL))
	}
	state.Nameservers = nameserverList(plainNodes(nsSet))
	if !state.AnswerTTL.IsNull() {
		state.FailoverBudget = budgetMap(state.AnswerTTL.ValueInt64())
	}
	return false, diags
}

func plainNodes(nameservers []string) []model.HostnameNode {
	out := make([]model.HostnameNode, len(nameservers))
	for i, ns := range nameservers {
		out[i].Nameserver = ns
	}
	return out
}

// wroteNS is the NS set the state says this hostname published.
func (m hostnameModel) wroteNS(ctx context.Context) []parentzone.RRSet {
	var ns []string
	if !m.Nameservers.IsNull() && !m.Nameservers.IsUnknown() {
		_ = m.Nameservers.ElementsAs(ctx, &ns, false)
	}
	return []parentzone.RRSet{{Type: "NS", Values: ns}}
}

// checkNodes compares each node's zone with what the state says it should
// be. A node that left the NS set or lost its zone drops out of nodes (the
// next apply adds it again). A node that still serves the hostname but with
// other content (a failed apply, a change on the agent) stays in nodes, so that destroy still
// removes its zone, and marks the serial as drifted (0), so that the next
// plan is an update that pushes every node again with one new serial. The
// content is compared with what the remaining nodes need: a node removed
// out of band (-target) leaves stale peers behind, which is drift too.
func (r *HostnameResource) checkNodes(ctx context.Context, state *hostnameModel, fqdn string, nsSet []string, peerKey string, priv privateWriter) (diags diag.Diagnostics) {
	p, d := state.plain(ctx)
	diags.Append(d...)
	if d.HasError() {
		return diags
	}
	settings, d := p.settings(0)
	diags.Append(d...)
	if d.HasError() {
		return diags
	}
	settings.PeerKey = peerKey
	type found struct {
		value nodeValue // to write the list back
		node  rolloutNode
		have  *zone.Zone
	}
	var kept []found
	for i, n := range p.nodes {
		ns := n.key().nameserver
		if !slices.Contains(nsSet, ns) {
			continue // left the delegation out of band
		}
		have, _, err := r.clients.agent(n.access).GetZone(ctx, fqdn)
		switch {
		case errors.Is(err, agentclient.ErrNotFound):
			continue // the agent lost the zone
		case err != nil:
			diags.AddWarning("Node not reachable", fmt.Sprintf("Could not read %s from the agent of %s (%v); keeping the node as it was. Resolvers skip a dead node, which is what pmgtm is for.", fqdn, ns, err))
			kept = append(kept, found{value: p.values[i], node: n})
			continue
		}
		kept = append(kept, found{value: p.values[i], node: n, have: &have})
	}
	all := make([]model.HostnameNode, len(kept))
	for i, k := range kept {
		all[i] = k.node.HostnameNode
	}
	// A hostname made before peer keys existed has none: its nodes could
	// not vouch for each other, so the next apply gives them one.
	drifted := peerKey == "" && len(kept) > 0
	var highest uint32
	for _, k := range kept {
		if k.have == nil {
			continue
		}
		have := *k.have
		highest = max(highest, have.Serial)
		want, fe := model.NodeZone(fqdn, k.node.HostnameNode, all, settings).Canonical(fqdn)
		if fe != nil {
			drifted = true
			continue
		}
		if have.AnswerTTL != want.AnswerTTL {
			state.AnswerTTL = types.Int64Value(int64(have.AnswerTTL))
			want.AnswerTTL = have.AnswerTTL
		}
		if state.Serial.IsNull() || state.Serial.IsUnknown() {
			state.Serial = types.Int64Value(int64(have.Serial))
		}
		// The serial alone is not compared: an agent bumps it itself when
		// an operator drains the node by hand.
		if !zone.SameContent(have, want) {
			drifted = true
		}
	}
	if drifted {
		// Serials only grow: the next one must pass every serial seen.
		diags.Append(setSerialFloor(ctx, priv, max(highest, uint32(state.Serial.ValueInt64())))...)
		state.Serial = types.Int64Value(0)
	}
	if len(kept) != len(p.nodes) {
		vals := make([]nodeValue, len(kept))
		for i, k := range kept {
			vals[i] = k.value
		}
		list, d := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: nodeObjectTypes}, vals)
		diags.Append(d...)
		state.Nodes = list
	}
	return diags
}

// discover rebuilds the node list of an imported hostname from DNS: the
// NS set, each nameserver's addresses from the parent zone (or the system
// resolver when it lives elsewhere), and the answer TTL and serial from the
// first node that answers. Agent URLs are not in DNS; they come from the
// configuration on the next apply.
func (r *HostnameResource) discover(ctx context.Context, state *hostnameModel, z, fqdn string, nsSet []string) (diags diag.Diagnostics) {
	var nodes []nodeValue
	for _, ns := range nsSet {
		n := nodeValue{Nameserver: types.StringValue(ns), IPv4: types.StringNull(), IPv6: types.StringNull(), AgentURL: types.StringNull()}
		addrs, err := nameserverAddrs(ctx, r.clients.Parent, z, ns)
		if err != nil && strings.HasSuffix(ns, "."+z) {
			diags.AddError("Cannot read the parent zone", err.Error())
			return diags
		}
		for _, a := range addrs {
			if a.Is4() && n.IPv4.IsNull() {
				n.IPv4 = types.StringValue(a.String())
			} else if a.Is6() && n.IPv6.IsNull() {
				n.IPv6 = types.StringValue(a.String())
			}
		}
		nodes = append(nodes, n)
	}
	list, d := types.ListValueFrom(ctx, types.ObjectType{AttrTypes: nodeObjectTypes}, nodes)
	diags.Append(d...)
	state.Nodes = list
	state.AnswerTTL = types.Int64Value(zone.DefaultAnswerTTL)
	for _, n := range nodes {
		addrs, err := nodeAddrs(n.plain())
		if err != nil {
			continue
		}
		server := netip.AddrPortFrom(addrs[0], r.clients.dnsPort())
		qtype := dns.TypeA
		if !addrs[0].Is4() {
			qtype = dns.TypeAAAA
		}
		soa, err1 := probe.Ask(ctx, server, fqdn, dns.TypeSOA)
		ans, err2 := probe.Ask(ctx, server, fqdn, qtype)
		if err1 == nil && err2 == nil && soa.HasSOA && ans.Authoritative && len(ans.Addrs) > 0 {
			state.Serial = types.Int64Value(int64(soa.Serial))
			state.AnswerTTL = types.Int64Value(int64(ans.TTL))
			return diags
		}
	}
	diags.AddWarning("No node answered", fmt.Sprintf("None of %v answered for %s over DNS; answer_ttl is assumed to be %d.", nsSet, fqdn, zone.DefaultAnswerTTL))
	state.Serial = types.Int64Value(0)
	return diags
}
