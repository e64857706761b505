package provider

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

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

	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
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
	ID            types.String `tfsdk:"id"`
	Zone          types.String `tfsdk:"zone"`
	Name          types.String `tfsdk:"name"`
	IPv4          types.String `tfsdk:"ipv4"`
	IPv6          types.String `tfsdk:"ipv6"`
	AgentURL      types.String `tfsdk:"agent_url"`
	TTL           types.Int64  `tfsdk:"ttl"`
	AdoptExisting types.Bool   `tfsdk:"adopt_existing"`
	Nameserver    types.String `tfsdk:"nameserver"`
	Node          types.Object `tfsdk:"node"`
}

var nodeObjectTypes = map[string]attr.Type{
	"nameserver": types.StringType, "ipv4": types.StringType, "ipv6": types.StringType, "agent_url": types.StringType,
}

func (r *NodeResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_node"
}

func (r *NodeResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "One load-balancer node: its nameserver name (`<name>.<zone>`) and A/AAAA records in the " +
			"parent zone, owned by this resource alone. Hostnames delegate to nodes through the exported `node` object.",
		Attributes: map[string]schema.Attribute{
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
			"node": schema.ObjectAttribute{Computed: true, AttributeTypes: nodeObjectTypes,
				MarkdownDescription: "The node for `pmgtm_hostname.nodes`: `{nameserver, ipv4, ipv6, agent_url}`."},
		},
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
	n := model.Node{Zone: known(m.Zone), Name: known(m.Name), IPv4: known(m.IPv4), IPv6: known(m.IPv6), AgentURL: known(m.AgentURL)}
	n.TTL = knownInt(m.TTL)
	for _, p := range model.ValidateNode(n) {
		resp.Diagnostics.AddAttributeError(path.Root(p.Attribute), p.Summary, p.Detail)
	}
	if m.IPv4.IsNull() && m.IPv6.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("ipv4"), "Node without an address",
			"Set ipv4, ipv6 or both: resolvers reach the node's agent at these addresses.")
	}
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
		"nameserver": m.Nameserver, "ipv4": m.IPv4, "ipv6": m.IPv6, "agent_url": m.AgentURL,
	})
}

func (r *NodeResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan nodeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !r.ensure(ctx, &plan, &resp.Diagnostics, "create") {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// ensure writes the planned records (adding new addresses before deleting
// old ones) and fills the computed attributes.
func (r *NodeResource) ensure(ctx context.Context, plan *nodeModel, diags *diag.Diagnostics, verb string) bool {
	if !r.ready(diags) {
		return false
	}
	err := pause(ctx, r.clients.Parent.Ensure(ctx, plan.Zone.ValueString(), strings.ToLower(plan.Name.ValueString()), plan.sets(),
		parentzone.EnsureOptions{Adopt: plan.AdoptExisting.ValueBool()}))
	if err != nil {
		diags.AddError("Cannot "+verb+" the node's records", err.Error())
		return false
	}
	plan.computed()
	return true
}

func (r *NodeResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state nodeModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	name := strings.ToLower(state.Name.ValueString())
	s, err := r.clients.Parent.Lookup(ctx, state.Zone.ValueString(), name)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the parent zone", err.Error())
		return
	}
	if s.Owner != r.clients.Parent.Owner() {
		// Our marker is gone: the records are not ours any more (or never
		// were). Terraform plans to create them again, which reports a
		// conflict if someone else's records stand there.
		resp.State.RemoveResource(ctx)
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
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) || !r.moveZones(ctx, state, plan, &resp.Diagnostics) ||
		!r.ensure(ctx, &plan, &resp.Diagnostics, "update") {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// ModifyPlan computes the exported node object at plan time whenever its
// inputs are known, so that hostnames using it can be checked in the same
// plan; and before a create it looks for records that would conflict.
func (r *NodeResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan nodeModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, v := range []types.String{plan.Zone, plan.Name, plan.IPv4, plan.IPv6, plan.AgentURL} {
		if v.IsUnknown() {
			return
		}
	}
	plan.computed()
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	if req.State.Raw.IsNull() && r.clients != nil && !plan.AdoptExisting.IsUnknown() {
		err := r.clients.Parent.Check(ctx, plan.Zone.ValueString(), strings.ToLower(plan.Name.ValueString()), []string{"A", "AAAA"},
			parentzone.EnsureOptions{Adopt: plan.AdoptExisting.ValueBool()})
		var conflict *parentzone.ConflictError
		switch {
		case errors.As(err, &conflict):
			resp.Diagnostics.AddAttributeError(path.Root("name"), "Conflicting records in the parent zone", err.Error())
		case err != nil:
			resp.Diagnostics.AddWarning("Could not check the parent zone", "Conflicting records will be reported at apply: "+err.Error())
		}
	}
}

// moveZones makes an address change make-before-break: the hostname zones
// the node serves are put, with the new addresses, on the agent at the new
// address and checked over DNS there, before the node's A/AAAA records
// move. The hostnames' own update, later in the same apply, then finds
// them in place (and removes them from an old agent that is no longer
// used). An old agent that cannot be reached has nothing to preserve.
func (r *NodeResource) moveZones(ctx context.Context, old, planned nodeModel, diags *diag.Diagnostics) bool {
	if old.IPv4.Equal(planned.IPv4) && old.IPv6.Equal(planned.IPv6) && old.AgentURL.Equal(planned.AgentURL) {
		return true
	}
	ns, _ := zone.CanonicalName(old.Nameserver.ValueString())
	from, to := r.clients.agent(old.AgentURL.ValueString()), r.clients.agent(planned.AgentURL.ValueString())
	names, err := from.ListZones(ctx)
	if err != nil {
		diags.AddWarning("Old agent not reachable", fmt.Sprintf("Could not list the zones of %s at %s (%v); the hostnames using this node push their zones to the new address in this apply.", ns, old.AgentURL.ValueString(), err))
		return true
	}
	addrs, err := nodeAddrs(nodeValue{IPv4: planned.IPv4, IPv6: planned.IPv6})
	if err != nil {
		diags.AddError("Cannot move the node", err.Error())
		return false
	}
	for _, name := range names {
		z, _, err := from.GetZone(ctx, name)
		if err != nil || z.SOA.MName != ns {
			continue // not a zone this node serves as itself
		}
		z.IPv4, z.IPv6 = nil, nil
		if v := known(planned.IPv4); v != "" {
			z.IPv4 = []string{v}
		}
		if v := known(planned.IPv6); v != "" {
			z.IPv6 = []string{v}
		}
		if hc := z.HealthCheck; hc != nil {
			// A check of the load balancer on the node's own address
			// ({ipv4} in the hostname) follows the node.
			hc.Target = movedTarget(hc.Target, old, planned)
		}
		z.Serial++
		if _, _, err := to.PutZone(ctx, name, z.Body()); err != nil {
			diags.AddError("Cannot move the node", fmt.Sprintf("putting %s on the agent at %s: %v. The node's records were not changed.", name, planned.AgentURL.ValueString(), err))
			return false
		}
		vctx, cancel := context.WithTimeout(ctx, verifyTimeout)
		err = probe.Check(vctx, r.clients.dnsPort(), probe.Want{FQDN: name, Addrs: addrs, Serial: z.Serial})
		cancel()
		if err != nil {
			diags.AddError("Cannot move the node", fmt.Sprintf("the node does not answer for %s at its new address: %v. The node's records were not changed, so resolvers keep using the old address.", name, err))
			return false
		}
	}
	return true
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
	if err := r.clients.Parent.Release(ctx, state.Zone.ValueString(), strings.ToLower(state.Name.ValueString())); err != nil {
		resp.Diagnostics.AddError("Cannot delete the node's records", err.Error())
	}
}

func (r *NodeResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if importZoneAndName(ctx, req, resp, "example.com/lb1") {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ttl"), int64(300))...)
	}
}
