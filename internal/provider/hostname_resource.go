package provider

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/rollout"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

var (
	_ resource.Resource                   = &HostnameResource{}
	_ resource.ResourceWithConfigure      = &HostnameResource{}
	_ resource.ResourceWithImportState    = &HostnameResource{}
	_ resource.ResourceWithValidateConfig = &HostnameResource{}
	_ resource.ResourceWithModifyPlan     = &HostnameResource{}
)

// Default operation timeouts; verification over DNS dominates create and
// update.
const (
	hostnameCreateTimeout = 10 * time.Minute
	hostnameReadTimeout   = 2 * time.Minute
	hostnameUpdateTimeout = 10 * time.Minute
	hostnameDeleteTimeout = 5 * time.Minute
)

// NewHostnameResource is the pmgtm_hostname constructor.
func NewHostnameResource() resource.Resource { return &HostnameResource{} }

// HostnameResource is one GTM hostname: a zone on every node's agent and
// the NS delegation to those nodes in the parent zone.
type HostnameResource struct {
	clients *Clients
}

type hostnameModel struct {
	ID             types.String   `tfsdk:"id"`
	Zone           types.String   `tfsdk:"zone"`
	Name           types.String   `tfsdk:"name"`
	Nodes          types.List     `tfsdk:"nodes"`
	AnswerTTL      types.Int64    `tfsdk:"answer_ttl"`
	NSTTL          types.Int64    `tfsdk:"ns_ttl"`
	AdoptExisting  types.Bool     `tfsdk:"adopt_existing"`
	FQDN           types.String   `tfsdk:"fqdn"`
	Nameservers    types.List     `tfsdk:"nameservers"`
	Serial         types.Int64    `tfsdk:"serial"`
	HealthCheck    types.Object   `tfsdk:"health_check"`
	WithdrawMode   types.String   `tfsdk:"withdraw_mode"`
	ACMEChallenge  types.Bool     `tfsdk:"acme_challenge"`
	ACMETarget     types.String   `tfsdk:"acme_challenge_target"`
	Drain          types.Set      `tfsdk:"drain"`
	CAA            types.List     `tfsdk:"caa"`
	TXT            types.List     `tfsdk:"txt"`
	HTTPS          types.Object   `tfsdk:"https"`
	FailoverBudget types.Map      `tfsdk:"failover_budget"`
	InstanceID     types.String   `tfsdk:"instance_id"`
	OwnerMarker    types.String   `tfsdk:"owner_marker"`
	Timeouts       timeouts.Value `tfsdk:"timeouts"`
}

type healthCheckValue struct {
	Type         types.String `tfsdk:"type"`
	Target       types.String `tfsdk:"target"`
	Path         types.String `tfsdk:"path"`
	ExpectStatus types.Int64  `tfsdk:"expect_status"`
	Interval     types.String `tfsdk:"interval"`
	Timeout      types.String `tfsdk:"timeout"`
	Fall         types.Int64  `tfsdk:"fall"`
	Rise         types.Int64  `tfsdk:"rise"`
}

// nodeValue is one element of nodes, as pmgtm_node exports it.
type nodeValue struct {
	Nameserver types.String `tfsdk:"nameserver"`
	IPv4       types.String `tfsdk:"ipv4"`
	IPv6       types.String `tfsdk:"ipv6"`
	AgentURL   types.String `tfsdk:"agent_url"`
	agentCredentials
}

func (n nodeValue) access() agentAccess { return n.agentCredentials.access(n.AgentURL) }

func (r *HostnameResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_hostname"
}

func (r *HostnameResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A GTM hostname (`<name>.<zone>`) served by several nodes. pmgtm pushes a zone to every " +
			"node's agent, checks over DNS that each node answers for the hostname with its own address, and only " +
			"then delegates the hostname to the nodes with NS records in the parent zone. Nodes join the delegation " +
			"after they answer and leave it before their zone is removed; destroy removes the delegation first.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<zone>/<name>`, also the import id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"zone": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "The parent zone, e.g. `example.com`."},
			"name": schema.StringAttribute{Required: true, PlanModifiers: replace,
				MarkdownDescription: "Name relative to the zone, e.g. `api` for `api.example.com`. The zone apex cannot be delegated."},
			"nodes": schema.ListNestedAttribute{Required: true, NestedObject: schema.NestedAttributeObject{Attributes: nodeAttributes(false)},
				MarkdownDescription: "The nodes that answer for the hostname: `pmgtm_node.<name>.node` values. Two or more for failover."},
			"answer_ttl": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(zone.DefaultAnswerTTL),
				MarkdownDescription: "TTL of the A/AAAA answers the nodes give, 1 to 86400 seconds. It bounds how long clients keep a dead node's address. Default 30."},
			"ns_ttl": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(zone.DefaultNSTTL),
				MarkdownDescription: "TTL of the NS delegation in the parent zone (and at the nodes), 60 to 86400 seconds. Default 300."},
			"adopt_existing": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Take over an existing NS delegation at the name instead of failing on it. Other records at or beneath the name still stop the apply."},
			"fqdn": schema.StringAttribute{Computed: true, MarkdownDescription: "Fully qualified hostname, with the trailing dot.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"nameservers": schema.ListAttribute{Computed: true, ElementType: types.StringType,
				MarkdownDescription: "The NS set in the parent zone, sorted."},
			"serial": schema.Int64Attribute{Computed: true,
				MarkdownDescription: "SOA serial of the hostname's zone, the same on every node; it changes when the zone does."},
			"health_check": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Self-fencing: each agent checks its OWN local load balancer, and withdraws the hostname " +
					"(see `withdraw_mode`) while the check fails, as long as another node is healthy.",
				Attributes: map[string]schema.Attribute{
					"type":          schema.StringAttribute{Required: true, MarkdownDescription: "`tcp` (connect), `http` or `https` (GET; the certificate is not verified)."},
					"target":        schema.StringAttribute{Required: true, MarkdownDescription: "`host:port` of the load balancer as seen from the node, e.g. `127.0.0.1:443`. `{ipv4}` and `{ipv6}` stand for the node's own address, for load balancers that listen on it: `{ipv4}:443`."},
					"path":          schema.StringAttribute{Optional: true, MarkdownDescription: "Request path for http(s), default `/`."},
					"expect_status": schema.Int64Attribute{Optional: true, MarkdownDescription: "Status that means healthy; default any 2xx or 3xx."},
					"interval":      schema.StringAttribute{Optional: true, MarkdownDescription: "Time between checks, 100ms to 1h. Default `1s`."},
					"timeout":       schema.StringAttribute{Optional: true, MarkdownDescription: "Time one check may take, at most the interval. Default `1s` (or the interval)."},
					"fall":          schema.Int64Attribute{Optional: true, MarkdownDescription: "Failures in a row that make the node unhealthy. Default 3."},
					"rise":          schema.Int64Attribute{Optional: true, MarkdownDescription: "Successes in a row that make it healthy again. Default 2."},
				}},
			"withdraw_mode": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(zone.WithdrawRedirect),
				MarkdownDescription: "What a withdrawn node answers: `redirect` (default: the healthy peers' addresses; resolvers see no " +
					"failure), `refused`, `servfail` (resolvers ask the next node at once) or `silent` (like a dead node). " +
					"See BENCHMARKS.md for the measurements behind the default."},
			"acme_challenge": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Let ACME clients prove control of the hostname by DNS-01: every node answers `_acme-challenge.<fqdn>` " +
					"with a CNAME to `acme_challenge_target`, a name outside the delegation the ACME client writes its TXT record at " +
					"(lego, certbot's hooks, acme.sh's alias mode and cert-manager follow it). Certificates for `*.<fqdn>` use the same name. " +
					"See the TLS certificates guide."},
			"acme_challenge_target": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Where `_acme-challenge.<fqdn>` points, fully qualified. Default `<name>._acme-challenge.<zone>.`, " +
					"beside the hostname in the parent zone (at the same DNS host, so the ACME client can use the same API). " +
					"Must lie outside the hostname. Null while `acme_challenge` is false."},
			"drain": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Nameservers of nodes to drain for maintenance, e.g. `[pmgtm_node.lb1.nameserver]`: they withdraw " +
					"as if their check failed (never the last healthy node). Draining keeps the node in the delegation."},
			"caa": schema.ListNestedAttribute{Optional: true,
				MarkdownDescription: "CAA records at the hostname (RFC 8659), the same on every node: which CAs may issue for it. " +
					"A CA looks for CAA at the hostname first, and the nodes answer for it, not the parent zone.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"flags": schema.Int64Attribute{Optional: true, MarkdownDescription: "0 (default), or 128: a CA that does not understand the tag must not issue."},
					"tag":   schema.StringAttribute{Required: true, MarkdownDescription: "`issue`, `issuewild`, `iodef`, or another property tag."},
					"value": schema.StringAttribute{Required: true, MarkdownDescription: "E.g. `letsencrypt.org`, or `mailto:security@example.com` for `iodef`."},
				}}},
			"txt": schema.ListAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "TXT records at the hostname, the same on every node (domain verifications, for example). " +
					"Each value is one record, up to 2,048 bytes."},
			"https": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "An HTTPS record at the hostname (RFC 9460, service mode, target the hostname itself): the " +
					"protocols it speaks, and as address hints each node's own addresses (the healthy node's while it redirects), " +
					"so that a client using the hints lands where the A/AAAA answer sends it.",
				Attributes: map[string]schema.Attribute{
					"priority": schema.Int64Attribute{Optional: true, MarkdownDescription: "1 (default) or more."},
					"alpn":     schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Protocol ids, e.g. `[\"h3\", \"h2\"]`."},
					"port":     schema.Int64Attribute{Optional: true, MarkdownDescription: "Port, when not the scheme's default."},
				}},
			"failover_budget": schema.MapAttribute{Computed: true, ElementType: types.Float64Type,
				MarkdownDescription: "Worst-case seconds for new lookups to move off a dead node, by resolver family " +
					"(`unbound`, `knot_resolver`, `bind`, `powerdns_recursor`): the answer TTL plus the resolver's first timeout."},
			"instance_id":  instanceIDAttribute(),
			"owner_marker": ownerMarkerAttribute(),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Read: true, Update: true, Delete: true}),
		},
	}
}

func (r *HostnameResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.clients = clientsFrom(req.ProviderData, &resp.Diagnostics)
}

// plainHostname is a hostname model as plain Go, converted once per call:
// what the model checks, the nodes as a rollout uses them, and (to write
// the node list back) the nodes' framework values.
type plainHostname struct {
	model.Hostname
	nodes      []rolloutNode // nil while the list is not known
	values     []nodeValue
	acmeTarget string
}

// hostname converts the model for validation; unknown parts stay empty.
func (m hostnameModel) hostname(ctx context.Context) (model.Hostname, diag.Diagnostics) {
	p, diags := m.plain(ctx)
	return p.Hostname, diags
}

// plain converts the model; unknown parts stay empty.
func (m hostnameModel) plain(ctx context.Context) (plainHostname, diag.Diagnostics) {
	h := model.Hostname{Zone: known(m.Zone), Name: known(m.Name)}
	h.AnswerTTL, h.NSTTL = knownInt(m.AnswerTTL), knownInt(m.NSTTL)
	h.Withdraw = known(m.WithdrawMode)
	var diags diag.Diagnostics
	if !m.HealthCheck.IsNull() && !m.HealthCheck.IsUnknown() {
		var hc healthCheckValue
		diags.Append(m.HealthCheck.As(ctx, &hc, basetypes.ObjectAsOptions{})...)
		h.HealthCheck = &model.HealthCheck{Type: known(hc.Type), Target: known(hc.Target), Path: known(hc.Path),
			Interval: known(hc.Interval), Timeout: known(hc.Timeout), ExpectStatus: knownInt(hc.ExpectStatus),
			Fall: knownInt(hc.Fall), Rise: knownInt(hc.Rise)}
		if hc.Type.IsUnknown() || hc.Target.IsUnknown() {
			h.HealthCheck = nil // checked at apply
		}
	}
	if !m.Drain.IsNull() && !m.Drain.IsUnknown() {
		drain := []types.String{}
		diags.Append(m.Drain.ElementsAs(ctx, &drain, true)...)
		h.Drain = []string{}
		for _, d := range drain {
			if d.IsUnknown() {
				h.Drain = nil
				break
			}
			h.Drain = append(h.Drain, d.ValueString())
		}
	}
	h.Static, h.StaticKnown = m.static()
	p := plainHostname{acmeTarget: known(m.ACMETarget)}
	nodes, isKnown, d := m.nodes()
	diags.Append(d...)
	if isKnown {
		h.Nodes = make([]model.HostnameNode, 0, len(nodes))
		p.nodes = make([]rolloutNode, 0, len(nodes))
		for _, n := range nodes {
			r := n.rollout()
			h.Nodes = append(h.Nodes, r.HostnameNode)
			p.nodes = append(p.nodes, r)
		}
		p.values = nodes
	}
	p.Hostname = h
	return p, diags
}

// static returns the CAA, TXT and HTTPS records as configured, and
// whether all of them are known; model.StaticRecords checks them.
func (m hostnameModel) static() (model.StaticRecords, bool) {
	return staticRecords(m.CAA, m.TXT, m.HTTPS)
}

// staticRecords converts the caa, txt and https attributes (of
// pmgtm_hostname and pmgtm_zone_file alike).
func staticRecords(caa, txt types.List, https types.Object) (model.StaticRecords, bool) {
	var s model.StaticRecords
	if caa.IsUnknown() || txt.IsUnknown() || https.IsUnknown() {
		return s, false
	}
	for _, e := range caa.Elements() {
		o, ok := e.(types.Object)
		if !ok || o.IsUnknown() {
			return s, false
		}
		a := o.Attributes()
		flags, ok1 := a["flags"].(types.Int64)
		tag, ok2 := a["tag"].(types.String)
		value, ok3 := a["value"].(types.String)
		if !ok1 || !ok2 || !ok3 || flags.IsUnknown() || tag.IsUnknown() || value.IsUnknown() {
			return s, false
		}
		s.CAA = append(s.CAA, model.CAA{Flags: knownInt(flags), Tag: tag.ValueString(), Value: value.ValueString()})
	}
	texts, ok := stringElements(txt)
	if !ok {
		return s, false
	}
	s.TXT = texts
	if !https.IsNull() {
		a := https.Attributes()
		prio, ok1 := a["priority"].(types.Int64)
		port, ok2 := a["port"].(types.Int64)
		alpnList, ok3 := a["alpn"].(types.List)
		alpn, ok4 := stringElements(alpnList)
		if !ok1 || !ok2 || !ok3 || !ok4 || prio.IsUnknown() || port.IsUnknown() {
			return s, false
		}
		s.HTTPS = &model.HTTPS{Priority: knownInt(prio), Port: knownInt(port), ALPN: alpn}
	}
	return s, true
}

// stringElements is a known list's strings (nil for a null list).
func stringElements(l types.List) ([]string, bool) {
	if l.IsUnknown() {
		return nil, false
	}
	var out []string
	for _, e := range l.Elements() {
		v, ok := e.(types.String)
		if !ok || v.IsUnknown() {
			return nil, false
		}
		out = append(out, v.ValueString())
	}
	return out, true
}

// nodes returns the node list and whether all of it is known.
func (m hostnameModel) nodes() ([]nodeValue, bool, diag.Diagnostics) {
	if m.Nodes.IsNull() || m.Nodes.IsUnknown() {
		return nil, false, nil
	}
	// By hand, not ElementsAs: the reflection it does (struct tags checked
	// by regular expression, per field and call) was a tenth of the
	// provider's CPU time at 1,000 hostnames.
	elems := m.Nodes.Elements()
	nodes := make([]nodeValue, 0, len(elems))
	complete := true
	for i, e := range elems {
		o, ok := e.(types.Object)
		if !ok || o.IsUnknown() {
			if !ok {
				return nil, false, diag.Diagnostics{diag.NewAttributeErrorDiagnostic(path.Root("nodes").AtListIndex(i),
					"Unexpected node value", fmt.Sprintf("nodes[%d] is a %T, not an object: this is a bug in pmgtm.", i, e))}
			}
			complete = false
			continue
		}
		a := o.Attributes()
		n := nodeValue{Nameserver: stringAttr(a, "nameserver"), IPv4: stringAttr(a, "ipv4"), IPv6: stringAttr(a, "ipv6"),
			AgentURL: stringAttr(a, attrAgentURL), agentCredentials: agentCredentials{Fingerprint: stringAttr(a, attrAgentFingerprint),
				Token: stringAttr(a, attrAgentToken), ClientCertPEM: stringAttr(a, attrAgentClientCert), ClientKeyPEM: stringAttr(a, attrAgentClientKey)}}
		if n.Nameserver.IsUnknown() || n.IPv4.IsUnknown() || n.IPv6.IsUnknown() || n.AgentURL.IsUnknown() {
			complete = false
		}
		nodes = append(nodes, n)
	}
	return nodes, complete, nil
}

// stringAttr is an object's string attribute; null when absent.
func stringAttr(attrs map[string]attr.Value, name string) types.String {
	if v, ok := attrs[name].(types.String); ok {
		return v
	}
	return types.StringNull()
}

func (n nodeValue) plain() model.HostnameNode {
	return model.HostnameNode{Nameserver: known(n.Nameserver), IPv4: known(n.IPv4), IPv6: known(n.IPv6), AgentURL: known(n.AgentURL),
		Credentials: n.agentCredentials.plain()}
}

func addProblems(diags *diag.Diagnostics, errs, warns []model.Problem) {
	for _, p := range errs {
		diags.AddAttributeError(attributePath(p.Attribute), p.Summary, p.Detail)
	}
	for _, p := range warns {
		diags.AddAttributeWarning(attributePath(p.Attribute), p.Summary, p.Detail)
	}
}

// attributePath turns a model attribute such as "nodes[1].ipv4" into the
// framework path, so that diagnostics underline exactly that value.
func attributePath(attr string) path.Path {
	var p path.Path
	for i, part := range strings.Split(attr, ".") {
		name, index, indexed := strings.Cut(part, "[")
		if i == 0 {
			p = path.Root(name)
		} else {
			p = p.AtName(name)
		}
		if n, err := strconv.Atoi(strings.TrimSuffix(index, "]")); indexed && err == nil {
			p = p.AtListIndex(n)
		}
	}
	return p
}

func (r *HostnameResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m hostnameModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	h, diags := m.hostname(ctx)
	resp.Diagnostics.Append(diags...)
	errs, warns := model.ValidateHostname(h)
	addProblems(&resp.Diagnostics, errs, warns)
}

// ModifyPlan fills what is known before apply (fqdn, nameservers, budget,
// an unchanged serial), checks the node list once other resources' plans
// make it known, and looks for conflicting records in the parent zone
// before a create, so that a plan already names them.
func (r *HostnameResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	var plan, state hostnameModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	creating := req.State.Raw.IsNull()
	if !creating {
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	pp, diags := plan.plain(ctx)
	resp.Diagnostics.Append(diags...)
	h := pp.Hostname
	if h.Nodes != nil {
		// ValidateConfig saw the list unknown; report only what it could not.
		errs, warns := model.ValidateHostname(model.Hostname{Zone: h.Zone, Name: h.Name, Nodes: h.Nodes, Drain: h.Drain})
		addProblems(&resp.Diagnostics, errs, warns)
		addProblems(&resp.Diagnostics, model.ValidateNodesUsable(h.Nodes), nil)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if h.Zone != "" && h.Name != "" {
		fqdn, _ := zone.CanonicalName(h.Name + "." + h.Zone)
		plan.FQDN = types.StringValue(fqdn)
		plan.ID = types.StringValue(strings.TrimSuffix(strings.ToLower(h.Zone), ".") + "/" + strings.ToLower(h.Name))
	}
	plan.Nameservers = types.ListUnknown(types.StringType)
	if h.Nodes != nil {
		plan.Nameservers = nameserverList(h.Nodes)
	}
	plan.FailoverBudget = types.MapUnknown(types.Float64Type)
	if h.AnswerTTL != nil {
		plan.FailoverBudget = budgetMap(*h.AnswerTTL)
	}
	var configuredTarget types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("acme_challenge_target"), &configuredTarget)...)
	plan.ACMETarget = planACMETarget(plan, configuredTarget, h, &resp.Diagnostics)
	plan.Serial = types.Int64Unknown()
	if !creating && state.Serial.ValueInt64() != 0 { // 0: refresh found the nodes drifted
		if was, _ := state.plain(ctx); sameContent(plan, state, pp.nodes, was.nodes) {
			plan.Serial = state.Serial
		}
	}
	if !creating && r.clients != nil {
		r.clients.planned.sawInState(state.Zone.ValueString(), state.Name.ValueString(), state.InstanceID)
		plan.OwnerMarker = planOwnerMarker(ctx, r.clients.Parent, state.InstanceID, state.OwnerMarker, req.Private, &resp.Diagnostics, "NS")
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)

	if creating && r.clients != nil && h.Zone != "" && h.Name != "" && !plan.AdoptExisting.IsUnknown() {
		planCreate(ctx, r.clients, "pmgtm_hostname", h.Zone, strings.ToLower(h.Name), []string{"NS"}, plan.AdoptExisting.ValueBool(), &resp.Diagnostics)
	}
}

// planACMETarget is the challenge name's target: the one configured
// (configured), the default beside the hostname, or null without
// acme_challenge; a target inside the hostname is an error at its path.
func planACMETarget(plan hostnameModel, configured types.String, h model.Hostname, diags *diag.Diagnostics) types.String {
	switch {
	case plan.ACMEChallenge.IsUnknown() || configured.IsUnknown():
		return types.StringUnknown()
	case !plan.ACMEChallenge.ValueBool():
		if !configured.IsNull() {
			diags.AddAttributeError(path.Root("acme_challenge_target"), "acme_challenge is off",
				"acme_challenge_target is set but acme_challenge is false; set acme_challenge = true to answer the challenge name.")
		}
		return types.StringNull()
	case h.Zone == "" || h.Name == "":
		return types.StringUnknown()
	}
	fqdn, err := zone.CanonicalName(h.Name + "." + h.Zone)
	if err != nil {
		return types.StringUnknown()
	}
	target := configured.ValueString()
	if configured.IsNull() {
		z, _ := zone.CanonicalName(h.Zone)
		target = strings.ToLower(h.Name) + "." + zone.ACMELabel + "." + z
	}
	t, fe := zone.ACMETarget(fqdn, target)
	if fe != nil {
		diags.AddAttributeError(path.Root("acme_challenge_target"), "Invalid ACME challenge target", fe.Message+".")
		return types.StringUnknown()
	}
	return types.StringValue(t)
}

// sameContent reports whether plan and state give every node the same
// zone: the node list compared as a set (its order means nothing), and the
// settings. Then the serial stays, and apply pushes nothing new.
func sameContent(plan, state hostnameModel, pn, sn []rolloutNode) bool {
	if pn == nil || sn == nil || len(pn) != len(sn) {
		return false
	}
	key := func(n rolloutNode) string { return n.key().String() + " " + n.IPv4 + " " + n.IPv6 }
	pkeys, skeys := make([]string, len(pn)), make([]string, len(sn))
	for i := range pn {
		pkeys[i], skeys[i] = key(pn[i]), key(sn[i])
	}
	slices.Sort(pkeys)
	slices.Sort(skeys)
	return slices.Equal(pkeys, skeys) && plan.AnswerTTL.Equal(state.AnswerTTL) && plan.NSTTL.Equal(state.NSTTL) &&
		plan.HealthCheck.Equal(state.HealthCheck) && plan.WithdrawMode.Equal(state.WithdrawMode) && plan.Drain.Equal(state.Drain) &&
		plan.ACMETarget.Equal(state.ACMETarget) && sameStatic(plan, state)
}

// sameStatic compares the static records in canonical form: a reordered
// list is the same zone.
func sameStatic(plan, state hostnameModel) bool {
	ps, pk := plan.static()
	ss, sk := state.static()
	if !pk || !sk {
		return false
	}
	pc, pp := ps.Zone()
	sc, sp := ss.Zone()
	return pp == nil && sp == nil && reflect.DeepEqual(pc, sc)
}

func nameserverList(nodes []model.HostnameNode) types.List {
	var ns []attr.Value
	var names []string
	for _, n := range nodes {
		if c, err := zone.CanonicalName(n.Nameserver); err == nil {
			names = append(names, c)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		ns = append(ns, types.StringValue(n))
	}
	return types.ListValueMust(types.StringType, ns)
}

func budgetMap(answerTTL int64) types.Map {
	vals := map[string]attr.Value{}
	for family, s := range model.FailoverBudget(answerTTL) {
		vals[family] = types.Float64Value(s)
	}
	return types.MapValueMust(types.Float64Type, vals)
}

func (r *HostnameResource) ready(diags *diag.Diagnostics) bool { return ready(r.clients, diags) }

func (r *HostnameResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan hostnameModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Create(ctx, hostnameCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	serial := zone.NextSerial(0, time.Now().Unix())
	plan.InstanceID = types.StringValue(parentzone.NewInstanceID())
	claim := parentzone.EnsureOptions{Adopt: plan.AdoptExisting.ValueBool(), Instance: plan.InstanceID.ValueString()}
	key := zone.NewPeerKey()
	p, diags := plan.plain(ctx)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.apply(ctx, &plan, p, nil, serial, key, claim, &resp.Diagnostics)
	var step *rollout.StepError
	switch {
	case err == nil:
		resp.Diagnostics.Append(setPeerKey(ctx, resp.Private, key)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	case errors.Is(err, errNotStarted):
	case errors.As(err, &step) && step.Action == rollout.Publish && !parentzone.Refused(err):
		// The parent may hold part of the change: keep it in state
		// (tainted), so that the next apply or a destroy removes it.
		plan.fill(serial, "", p.Nodes)
		resp.Diagnostics.Append(setPeerKey(ctx, resp.Private, key)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	default:
		// Nothing reached the parent: take the pushed zones back.
		ex, _ := r.executor(p, 0, claim, nil, p.nodes)
		leftovers, _ := rollout.Run(ctx, rollout.RemoveZones(keysOf(p.nodes)), ex)
		reportLeftovers(&resp.Diagnostics, leftovers)
	}
}

func (r *HostnameResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state hostnameModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, hostnameUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	serial := max(uint32(state.Serial.ValueInt64()), serialFloor(ctx, req.Private))
	if !plan.Serial.IsUnknown() && !plan.Serial.IsNull() {
		serial = uint32(plan.Serial.ValueInt64())
	} else {
		serial = zone.NextSerial(serial, time.Now().Unix())
	}
	was, d := state.plain(ctx)
	resp.Diagnostics.Append(d...)
	p, d := plan.plain(ctx)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.InstanceID = state.InstanceID
	claim := stateClaim(ctx, state.InstanceID, req.Private, state.wroteNS(ctx))
	claim.Adopt = plan.AdoptExisting.ValueBool()
	key := peerKey(ctx, req.Private)
	if key == "" {
		key = zone.NewPeerKey() // made before peer keys existed, or imported
	}
	if r.apply(ctx, &plan, p, was.nodes, serial, key, claim, &resp.Diagnostics) == nil {
		resp.Diagnostics.Append(setPeerKey(ctx, resp.Private, key)...)
		resp.Diagnostics.Append(setTakeOver(ctx, resp.Private, nil)...)
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateSerialFloor, nil)...)
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	}
}

// apply moves the hostname from the old nodes to the planned ones in the
// rollout order and fills the computed attributes.
// The error is the failed step's (a *rollout.StepError), or errNotStarted.
func (r *HostnameResource) apply(ctx context.Context, plan *hostnameModel, p plainHostname, old []rolloutNode, serial uint32, peerKey string, claim parentzone.EnsureOptions, diags *diag.Diagnostics) error {
	ex, d := r.executor(p, serial, claim, p.nodes, old)
	diags.Append(d...)
	if diags.HasError() {
		return errNotStarted
	}
	ex.settings.PeerKey = peerKey
	leftovers, err := rollout.Run(ctx, rollout.Change(keysOf(old), keysOf(p.nodes)), ex)
	reportLeftovers(diags, leftovers)
	if err != nil {
		diags.AddAttributeError(path.Root("nodes"), "Cannot apply "+ex.fqdn, explainStep(err))
		return err
	}
	plan.fill(serial, r.clients.Parent.MarkerFor(claim.Instance, "NS"), p.Nodes)
	return nil
}

// errNotStarted is an apply that stopped before its first step.
var errNotStarted = errors.New("apply not started")

// fill sets the computed attributes of a hostname applied to nodes.
func (m *hostnameModel) fill(serial uint32, marker string, nodes []model.HostnameNode) {
	z, _ := zone.CanonicalName(m.Zone.ValueString())
	name := strings.ToLower(m.Name.ValueString())
	m.FQDN = types.StringValue(name + "." + z)
	m.ID = types.StringValue(strings.TrimSuffix(z, ".") + "/" + name)
	m.Nameservers = nameserverList(nodes)
	m.FailoverBudget = budgetMap(m.AnswerTTL.ValueInt64())
	m.Serial = types.Int64Value(int64(serial))
	m.OwnerMarker = types.StringValue(marker)
}

func reportLeftovers(diags *diag.Diagnostics, leftovers []*rollout.StepError) {
	for _, l := range leftovers {
		diags.AddWarning("Zone left on a removed node",
			fmt.Sprintf("%v. The node is no longer in the delegation, so nothing is served from it; "+
				"delete the zone on its agent when it is back (DELETE /v1/zones/<fqdn>).", l))
	}
}

// explainStep adds what to do to a failed rollout step.
func explainStep(err error) string {
	var se *rollout.StepError
	if !errors.As(err, &se) {
		return err.Error()
	}
	switch se.Action {
	case rollout.Push:
		return err.Error() + "\n\nThe agent did not accept the zone; nothing was delegated to this node. Check the node's agent_url, the provider's agent token, and that the agent runs; or remove the node from nodes."
	case rollout.Verify:
		return err.Error() + "\n\nThe node holds the zone but does not answer for it over DNS on port 53, so the delegation was not changed (publishing it would send resolvers to a node that cannot answer). Check that the agent listens on the node's address, UDP and TCP port 53 are open, and the node's ipv4/ipv6 are its real addresses."
	case rollout.Publish, rollout.Undelegate:
		return err.Error() + "\n\nThe parent zone was not changed as planned; run apply again once the cause is fixed: every step is safe to repeat."
	}
	return err.Error()
}

func (r *HostnameResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state hostnameModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := state.Timeouts.Read(ctx, hostnameReadTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	gone, diags := r.refresh(ctx, &state, req.Private, resp.Private)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	if gone {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *HostnameResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state hostnameModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || !r.ready(&resp.Diagnostics) {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, hostnameDeleteTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, d := state.plain(ctx)
	resp.Diagnostics.Append(d...)
	ex, _ := r.executor(p, 0, stateClaim(ctx, state.InstanceID, req.Private, state.wroteNS(ctx)), nil, p.nodes)
	leftovers, err := rollout.Run(ctx, rollout.Destroy(keysOf(p.nodes)), ex)
	reportLeftovers(&resp.Diagnostics, leftovers)
	var held *parentzone.HeldError
	switch {
	case errors.As(err, &held):
		// Another state holds the hostname now (an import moved it): its
		// delegation and its zones on the agents are that state's.
		releaseState(held, "the delegation and the nodes' zones", &resp.Diagnostics)
	case err != nil:
		resp.Diagnostics.AddError("Cannot delete "+ex.fqdn, explainStep(err))
	}
}

func (r *HostnameResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if importZoneAndName(ctx, req, resp, "example.com/api") {
		// Not in DNS: the default, corrected from the configuration on the next apply.
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("withdraw_mode"), zone.WithdrawRedirect)...)
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("acme_challenge"), false)...)
	}
}
