package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/rollout"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

var (
	_ resource.Resource                   = &NodeResource{}
	_ resource.ResourceWithConfigure      = &NodeResource{}
	_ resource.ResourceWithImportState    = &NodeResource{}
	_ resource.ResourceWithValidateConfig = &NodeResource{}
	_ resource.ResourceWithModifyPlan     = &NodeResource{}
)

// NewNodeResource is the pmgtm_node constructor.
func NewNodeResource() resource.Resource { return &NodeResource{} }

// NodeResource manages one node's nameserver name (A/AAAA) in the parent zone.
type NodeResource struct {
	clients *Clients
}

type nodeModel struct {
	ID       types.String `tfsdk:"id"`
	Zone     types.String `tfsdk:"zone"`
	Name     types.String `tfsdk:"name"`
	IPv4     types.String `tfsdk:"ipv4"`
	IPv6     types.String `tfsdk:"ipv6"`
	AgentURL types.String `tfsdk:"agent_url"`
	agentCredentials
	TTL           types.Int64  `tfsdk:"ttl"`
	AdoptExisting types.Bool   `tfsdk:"adopt_existing"`
	Nameserver    types.String `tfsdk:"nameserver"`
	Node          types.Object `tfsdk:"node"`
	InstanceID    types.String `tfsdk:"instance_id"`
	OwnerMarker   types.String `tfsdk:"owner_marker"`
}

// nodeTypes are the record types a node writes at its name.
var nodeTypes = []string{"A", "AAAA"}

func (r *NodeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node"
}

func (r *NodeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	attrs := map[string]schema.Attribute{
		"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<zone>/<name>`, also the import id.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"zone": schema.StringAttribute{Required: true, PlanModifiers: replace,
			MarkdownDescription: "The parent zone, e.g. `example.com`."},
		"name": schema.StringAttribute{Required: true, PlanModifiers: replace,
			MarkdownDescription: "Name relative to the zone, e.g. `lb1` for `lb1.example.com`."},
		"ipv4": schema.StringAttribute{Optional: true, MarkdownDescription: "The node's public IPv4 address."},
		"ipv6": schema.StringAttribute{Optional: true, MarkdownDescription: "The node's public IPv6 address."},
		"agent_url": schema.StringAttribute{Required: true,
			MarkdownDescription: "URL of the node's agent API, e.g. `https://198.51.100.10:8053`. Not stored in DNS."},
		"ttl": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(300),
			MarkdownDescription: "TTL of the A/AAAA records, 60 to 86400 seconds. Default 300."},
		"adopt_existing": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
			MarkdownDescription: "Take over existing A/AAAA records at the name instead of failing on them. Records of other types are never touched."},
		"nameserver": schema.StringAttribute{Computed: true, MarkdownDescription: "Fully qualified nameserver name.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"node": schema.SingleNestedAttribute{Computed: true, Attributes: nodeAttributes(true),
			MarkdownDescription: "The node for `pmgtm_hostname.nodes`: its nameserver, addresses, agent URL and agent credentials."},
		"instance_id":  instanceIDAttribute(),
		"owner_marker": ownerMarkerAttribute(),
	}
	for name, a := range credentialAttributes(false) {
		attrs[name] = a
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "One load-balancer node: its nameserver name (`<name>.<zone>`) and A/AAAA records in the " +
			"parent zone, owned by this resource alone. Hostnames delegate to nodes through the exported `node` object.",
		Attributes: attrs,
	}
}

func (r *NodeResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.clients = clientsFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *NodeResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m nodeModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	errs, warns := model.ValidateNode(model.Node{Zone: known(m.Zone), Name: known(m.Name), IPv4: known(m.IPv4), IPv6: known(m.IPv6),
		AgentURL: known(m.AgentURL), TTL: knownInt(m.TTL), NoAddress: m.IPv4.IsNull() && m.IPv6.IsNull(), Credentials: m.plain()})
	addProblems(&resp.Diagnostics, errs, warns)
}

// knownInt returns an integer value, or nil when it is null or not yet known.
func knownInt(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	x := v.ValueInt64()
	return &x
}

// known returns a string value, or "" when it is null or not yet known.
func known(v types.String) string {
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

func (r *NodeResource) ready(diags *diag.Diagnostics) bool { return ready(r.clients, diags) }

// sets returns the wanted A and AAAA sets; an unset family is "none".
func (m nodeModel) sets() []parentzone.RRSet {
	ttl := uint32(m.TTL.ValueInt64())
	a := parentzone.RRSet{Type: "A", TTL: ttl}
	if v := known(m.IPv4); v != "" {
		a.Values = []string{v}
	}
	aaaa := parentzone.RRSet{Type: "AAAA", TTL: ttl}
	if v := known(m.IPv6); v != "" {
		aaaa.Values = []string{v}
	}
	return []parentzone.RRSet{a, aaaa}
}

// computed fills the attributes derived from zone and name.
func (m *nodeModel) computed() {
	z, _ := zone.CanonicalName(m.Zone.ValueString())
	n := strings.ToLower(m.Name.ValueString())
	m.ID = types.StringValue(strings.TrimSuffix(z, ".") + "/" + n)
	m.Nameserver = types.StringValue(n + "." + z)
	m.Node = types.ObjectValueMust(nodeObjectTypes, map[string]attr.Value{
		"nameserver": m.Nameserver, "ipv4": m.IPv4, "ipv6": m.IPv6, attrAgentURL: m.AgentURL,
		attrAgentFingerprint: m.Fingerprint, attrAgentToken: m.Token, attrAgentClientCert: m.ClientCertPEM, attrAgentClientKey: m.ClientKeyPEM,
	})
}

func (m nodeModel) access() agentAccess {
	return m.agentCredentials.access(m.AgentURL)
}

func (r *NodeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan nodeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	plan.InstanceID = types.StringValue(parentzone.NewInstanceID())
	claim := parentzone.EnsureOptions{Adopt: plan.AdoptExisting.ValueBool(), Instance: plan.InstanceID.ValueString()}
	switch err := r.ensure(ctx, &plan, claim, &resp.Diagnostics, "create"); {
	case err == nil:
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	case !parentzone.Refused(err):
		// The parent may hold part of the records: keep the resource in
		// state (tainted), so the next apply or a destroy removes exactly
		// what it wrote. Deleting here could take adopted records with it.
		plan.computed()
		plan.OwnerMarker = types.StringValue("")
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

func (m nodeModel) relName() string { return strings.ToLower(m.Name.ValueString()) }

// ensure writes the planned records (adding new addresses before deleting
// old ones) and fills the computed attributes.
func (r *NodeResource) ensure(ctx context.Context, plan *nodeModel, claim parentzone.EnsureOptions, diags *diag.Diagnostics, verb string) error {
	err := pause(ctx, r.clients.Parent.Ensure(ctx, plan.Zone.ValueString(), plan.relName(), plan.sets(), claim))
	if err != nil {
		diags.AddAttributeError(path.Root("name"), "Cannot "+verb+" the node's records", err.Error())
		return err
	}
	plan.computed()
	plan.OwnerMarker = types.StringValue(r.clients.Parent.MarkerFor(claim.Instance, nodeTypes...))
	return nil
}

func (r *NodeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state nodeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	s, err := r.clients.Parent.Lookup(ctx, state.Zone.ValueString(), state.relName())
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the parent zone", err.Error())
		return
	}
	claim, importing := readClaim(ctx, &state.InstanceID, req.Private, resp.Private, s, &resp.Diagnostics)
	r.clients.planned.sawInState(state.Zone.ValueString(), state.relName(), state.InstanceID)
	claim.Wrote = state.sets()
	switch {
	case importing && !s.Marked() && len(s.Of("A"))+len(s.Of("AAAA")) == 0:
		resp.Diagnostics.AddError("Nothing to import", fmt.Sprintf("%s holds no A or AAAA records; create the node with terraform apply instead.", state.relName()+"."+state.Zone.ValueString()))
		return
	case !importing && !s.Marked() && !s.Has(claim.Wrote):
		// Marker and records are gone: Terraform plans to create them
		// again, which reports a conflict if someone else's stand there.
		resp.State.RemoveResource(ctx)
		return
	}
	state.OwnerMarker = types.StringValue(s.MarkerText())
	if r.clients.Parent.Permits(state.Zone.ValueString(), state.relName(), s, claim) != nil {
		// Held by someone else now: shown as drift of owner_marker; the
		// records are theirs, so the state keeps what this resource wrote.
		state.computed()
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	// Drift shows as a diff: a changed or deleted address is read as it is.
	state.IPv4, state.IPv6 = types.StringNull(), types.StringNull()
	if a := s.Of("A"); len(a) > 0 {
		state.IPv4 = types.StringValue(a[0].Value)
		state.TTL = types.Int64Value(int64(a[0].TTL))
	}
	if aaaa := s.Of("AAAA"); len(aaaa) > 0 {
		state.IPv6 = types.StringValue(aaaa[0].Value)
		state.TTL = types.Int64Value(int64(aaaa[0].TTL))
	}
	if state.AdoptExisting.IsNull() {
		state.AdoptExisting = types.BoolValue(false)
	}
	state.computed()
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *NodeResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state nodeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	claim := stateClaim(ctx, state.InstanceID, req.Private, state.sets())
	claim.Adopt = plan.AdoptExisting.ValueBool()
	plan.InstanceID = state.InstanceID
	if !r.moveZones(ctx, state, plan, &resp.Diagnostics) || r.ensure(ctx, &plan, claim, &resp.Diagnostics, "update") != nil {
		return
	}
	resp.Diagnostics.Append(setTakeOver(ctx, resp.Private, nil)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// ModifyPlan computes the exported node object at plan time whenever its
// inputs are known, so that hostnames using it can be checked in the same
// plan; and before a create it looks for records that would conflict.
func (r *NodeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan, state nodeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []types.String{plan.Zone, plan.Name, plan.IPv4, plan.IPv6, plan.AgentURL} {
		if v.IsUnknown() {
			return
		}
	}
	plan.computed()
	if !creating && r.clients != nil {
		r.clients.planned.sawInState(state.Zone.ValueString(), state.relName(), state.InstanceID)
		plan.OwnerMarker = planOwnerMarker(ctx, r.clients.Parent, state.InstanceID, state.OwnerMarker, req.Private, &resp.Diagnostics, nodeTypes...)
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	if creating && r.clients != nil && !plan.AdoptExisting.IsUnknown() {
		planCreate(ctx, r.clients, "pmgtm_node", plan.Zone.ValueString(), plan.relName(), nodeTypes, plan.AdoptExisting.ValueBool(), &resp.Diagnostics)
	}
}

// moveZones makes an address change make-before-break: the hostname zones
// the node serves are put, with the new addresses, on the agent at the new
// address and checked over DNS there, before the node's A/AAAA records
// move. The hostnames' own update, later in the same apply, then pushes
// them again from their configuration (and removes them from an old agent
// that is no longer used). Which zones, and which peers each has, come from
// the parent zone (the NS sets of this owner id that name the node), never
// from the old agent: a zone planted on a compromised old node, or a fake
// peer in it, is not carried to the new one. An old agent that cannot be
// reached has nothing to preserve.
func (r *NodeResource) moveZones(ctx context.Context, old, planned nodeModel, diags *diag.Diagnostics) bool {
	if old.IPv4.Equal(planned.IPv4) && old.IPv6.Equal(planned.IPv6) && old.AgentURL.Equal(planned.AgentURL) {
		return true
	}
	zoneName := old.Zone.ValueString()
	ns, _ := zone.CanonicalName(old.Nameserver.ValueString())
	refs, err := r.clients.Parent.Referrals(ctx, zoneName, ns)
	if err != nil {
		diags.AddError("Cannot read the parent zone", err.Error())
		return false
	}
	from, to := r.clients.agent(old.access()), r.clients.agent(planned.access())
	addrs, err := nodeAddrs(model.HostnameNode{IPv4: known(planned.IPv4), IPv6: known(planned.IPv6)})
	if err != nil {
		diags.AddError("Cannot move the node", err.Error())
		return false
	}
	z, _ := zone.CanonicalName(zoneName)
	var done []*moveExecutor
	for _, ref := range refs {
		if !ownedHere(ref.State, r.clients.Parent.Owner()) {
			continue // not a pmgtm hostname of this owner id
		}
		name := ref.Name + "." + z
		have, _, err := from.GetZone(ctx, name)
		if err != nil {
			if !errors.Is(err, agentclient.ErrNotFound) {
				diags.AddWarning("Old agent not reachable", fmt.Sprintf("Could not read %s from the agent of %s at %s (%v); the hostname's update in this apply pushes it to the new address.", name, ns, old.AgentURL.ValueString(), err))
			}
			continue
		}
		moved, err := r.movedZone(ctx, have, ref, z, ns, old, planned)
		if err != nil {
			diags.AddError("Cannot move the node", err.Error())
			undoMoves(ctx, done, diags)
			return false
		}
		ex := &moveExecutor{clients: r.clients, to: to, name: name, zone: moved, addrs: addrs}
		done = append(done, ex)
		if _, err := rollout.Run(ctx, rollout.Move(nodeKey{nameserver: ns, agentURL: planned.AgentURL.ValueString()}), ex); err != nil {
			diags.AddError("Cannot move the node", err.Error()+".")
			undoMoves(ctx, done, diags)
			return false
		}
	}
	return true
}

// undoMoves puts back what the agent at the new place held before a
// failed move, newest first: when it is the same agent (only the address
// changes), the zones it serves at the old address must keep answering
// with the old address, which the node's records still point resolvers to.
func undoMoves(ctx context.Context, done []*moveExecutor, diags *diag.Diagnostics) {
	// Also after a cancelled apply: leaving the new address in service is
	// what must not happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	for i := len(done) - 1; i >= 0; i-- {
		if err := done[i].undo(ctx); err != nil {
			diags.AddWarning("Move not undone", fmt.Sprintf("Could not restore %s on the agent at its new place: %v. The next apply of the hostname pushes it again.", done[i].name, err))
		}
	}
}

// moveExecutor carries out one hostname's Move: the zone as the node
// serves it at its new place, put on the agent there and checked over DNS.
// It remembers what that agent held before, to undo a failed move.
type moveExecutor struct {
	clients *Clients
	to      *agentclient.Client
	name    string
	zone    zone.Zone
	addrs   []netip.Addr

	pushed bool
	prior  *zone.Zone // the agent's copy before the push; nil: it had none
}

var errNotAMoveStep = errors.New("not a step of a node's move")

func (m *moveExecutor) Push(ctx context.Context, key nodeKey) error {
	prior, _, err := m.to.GetZone(ctx, m.name)
	switch {
	case err == nil:
		m.prior = &prior
	case !errors.Is(err, agentclient.ErrNotFound):
		return fmt.Errorf("reading %s on the agent at %s: %w. The node's records were not changed", m.name, key.agentURL, err)
	}
	if _, _, err := m.to.PutZone(ctx, m.name, m.zone.Body()); err != nil {
		return fmt.Errorf("putting %s on the agent at %s: %w. The node's records were not changed", m.name, key.agentURL, err)
	}
	m.pushed = true
	return nil
}

// undo restores the agent's copy from before Push, or removes the zone if
// the agent had none.
func (m *moveExecutor) undo(ctx context.Context) error {
	switch {
	case !m.pushed:
		return nil
	case m.prior != nil:
		_, _, err := m.to.PutZone(ctx, m.name, m.prior.Body())
		return err
	}
	return m.to.DeleteZone(ctx, m.name)
}

func (m *moveExecutor) Verify(ctx context.Context, _ nodeKey) error {
	err := m.clients.verify(ctx, probe.Want{FQDN: m.name, Addrs: m.addrs, Serial: m.zone.Serial,
		PeerKey: zone.DecodePeerKey(m.zone.PeerKey), Node: m.zone.SOA.MName})
	if err != nil {
		return fmt.Errorf("the node does not answer for %s at its new address: %w. The node's records were not changed, so resolvers keep using the old address", m.name, err)
	}
	return nil
}

func (m *moveExecutor) Publish(context.Context, []nodeKey) error { return errNotAMoveStep }
func (m *moveExecutor) Undelegate(context.Context) error         { return errNotAMoveStep }
func (m *moveExecutor) Remove(context.Context, nodeKey) error    { return errNotAMoveStep }

// ownedHere reports whether every marker of a name carries owner.
func ownedHere(s parentzone.NameState, owner string) bool {
	for _, mk := range s.Markers {
		if mk.Holder.Owner != owner {
			return false
		}
	}
	return s.Marked()
}

// movedZone is the zone the node serves for a hostname at its new address:
// nameservers and peers as the parent zone delegates the hostname, the
// node's planned addresses, and the hostname's settings (TTLs, check,
// withdraw mode) as the old copy had them.
func (r *NodeResource) movedZone(ctx context.Context, have zone.Zone, ref parentzone.Referral, z, self string, old, planned nodeModel) (zone.Zone, error) {
	moved := have
	moved.Nameservers, moved.Peers = nil, nil
	for _, rec := range ref.State.Of("NS") {
		moved.Nameservers = append(moved.Nameservers, rec.Value)
		if rec.Value == self {
			continue
		}
		peerAddrs, err := nameserverAddrs(ctx, r.clients.Parent, z, rec.Value)
		if err != nil {
			return zone.Zone{}, err
		}
		p := zone.Peer{Name: rec.Value}
		for _, a := range peerAddrs {
			if a.Is4() {
				p.IPv4 = append(p.IPv4, a.String())
			} else {
				p.IPv6 = append(p.IPv6, a.String())
			}
		}
		moved.Peers = append(moved.Peers, p)
	}
	moved.SOA.MName = self
	moved.IPv4, moved.IPv6 = nil, nil
	if v := known(planned.IPv4); v != "" {
		moved.IPv4 = []string{v}
	}
	if v := known(planned.IPv6); v != "" {
		moved.IPv6 = []string{v}
	}
	if hc := have.HealthCheck; hc != nil {
		// A check of the load balancer on the node's own address
		// ({ipv4} in the hostname) follows the node.
		c := *hc
		c.Target = movedTarget(c.Target, old, planned)
		moved.HealthCheck = &c
	}
	moved.Serial++
	return moved, nil
}

// movedTarget rewrites a health-check target that names the node's old
// address to name its new one.
func movedTarget(target string, old, planned nodeModel) string {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return target
	}
	switch host {
	case known(old.IPv4):
		if v := known(planned.IPv4); v != "" {
			return net.JoinHostPort(v, port)
		}
	case known(old.IPv6):
		if v := known(planned.IPv6); v != "" {
			return net.JoinHostPort(v, port)
		}
	}
	return target
}

func (r *NodeResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state nodeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	claim := stateClaim(ctx, state.InstanceID, req.Private, state.sets())
	s, err := r.clients.Parent.Lookup(ctx, state.Zone.ValueString(), state.relName())
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the parent zone", err.Error())
		return
	}
	if err := r.clients.Parent.Permits(state.Zone.ValueString(), state.relName(), s, claim); err != nil {
		releaseState(err, "the node's records", &resp.Diagnostics) // moved to another state: its delegations are that state's
		return
	}
	if !r.leaveDelegations(ctx, state, &resp.Diagnostics) {
		return
	}
	releaseState(r.clients.Parent.Release(ctx, state.Zone.ValueString(), state.relName(), claim), "the node's records", &resp.Diagnostics)
}

// leaveDelegations takes the node out of every NS set that names it, before
// its address goes, so that no order Terraform picks (a node removed from
// the configuration is deleted before its hostnames are updated; -target;
// -replace) ever leaves a delegation to a name without an address. It never
// empties an NS set and never edits a delegation that is not pmgtm's under
// this owner id: it refuses, naming them, instead. The node's zones for
// those hostnames are then deleted from its agent.
func (r *NodeResource) leaveDelegations(ctx context.Context, state nodeModel, diags *diag.Diagnostics) bool {
	zoneName := state.Zone.ValueString()
	ns := state.Nameserver.ValueString()
	refs, err := r.clients.Parent.Referrals(ctx, zoneName, ns)
	if err != nil {
		diags.AddError("Cannot read the parent zone", err.Error())
		return false
	}
	var refused []string
	var left []string
	for _, ref := range refs {
		err := pause(ctx, r.clients.Parent.RemoveNameserver(ctx, zoneName, ref.Name, ns))
		var last *parentzone.LastNameserverError
		var held *parentzone.HeldError
		switch {
		case errors.As(err, &last):
			refused = append(refused, fmt.Sprintf("%s.%s: %s is its only nameserver; add another node to it, or destroy the hostname first", ref.Name, zoneName, ns))
		case errors.As(err, &held):
			refused = append(refused, fmt.Sprintf("%s.%s: its NS set names %s but is not a pmgtm hostname of this owner id, so pmgtm will not edit it; remove %s from it first", ref.Name, zoneName, ns, ns))
		case err != nil:
			diags.AddError("Cannot take the node out of "+ref.Name+"."+zoneName, err.Error())
			return false
		default:
			left = append(left, ref.Name)
		}
	}
	if len(refused) > 0 {
		diags.AddError("Node still delegated to",
			fmt.Sprintf("Deleting %s would leave these delegations naming a nameserver without an address (a lame delegation):\n  %s\nNothing of the node was deleted.", ns, strings.Join(refused, "\n  ")))
		return false
	}
	if len(left) > 0 && !state.AgentURL.IsNull() && state.AgentURL.ValueString() != "" {
		agent := r.clients.agent(state.access())
		for _, name := range left {
			fqdn, _ := zone.CanonicalName(name + "." + zoneName)
			if err := agent.DeleteZone(ctx, fqdn); err != nil {
				diags.AddWarning("Zone left on a removed node", fmt.Sprintf("%s left the delegation of %s, but its agent did not delete the zone: %v. Nothing is served from it; delete it when the agent is back (DELETE /v1/zones/%s).", ns, fqdn, err, fqdn))
			}
		}
	}
	return true
}

func (r *NodeResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if importZoneAndName(ctx, req, resp, "example.com/lb1") {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ttl"), int64(300))...)
	}
}
