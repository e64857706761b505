package provider

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/probe"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

var _ datasource.DataSourceWithConfigure = &DelegationDataSource{}

// NewDelegationDataSource is the pmgtm_delegation constructor.
func NewDelegationDataSource() datasource.DataSource { return &DelegationDataSource{} }

// DelegationDataSource reads a hostname's delegation live: the parent's NS
// set (from the DNS host's API) and each node's answer over DNS.
type DelegationDataSource struct {
	clients *Clients
}

// Node states reported by pmgtm_delegation.
const (
	stateHealthy   = "healthy"   // answers authoritatively with its own address
	stateWithdrawn = "withdrawn" // answers authoritatively, but with other nodes' addresses (drained or failing its health check)
	stateLame      = "lame"      // delegated to, but no authoritative answer
)

var delegationNodeTypes = map[string]attr.Type{
	"nameserver": types.StringType,
	"addresses":  types.ListType{ElemType: types.StringType},
	"state":      types.StringType,
	"answers":    types.ListType{ElemType: types.StringType},
	"detail":     types.StringType,
}

type delegationModel struct {
	ID           types.String `tfsdk:"id"`
	Zone         types.String `tfsdk:"zone"`
	Name         types.String `tfsdk:"name"`
	FQDN         types.String `tfsdk:"fqdn"`
	Delegated    types.Bool   `tfsdk:"delegated"`
	Nameservers  types.List   `tfsdk:"nameservers"`
	NSTTL        types.Int64  `tfsdk:"ns_ttl"`
	Nodes        types.List   `tfsdk:"nodes"`
	HealthyNodes types.List   `tfsdk:"healthy_nodes"`
	LameNodes    types.List   `tfsdk:"lame_nodes"`
	AllHealthy   types.Bool   `tfsdk:"all_healthy"`
}

func (d *DelegationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_delegation"
}

func (d *DelegationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A hostname's delegation as it is now: the NS set in the parent zone (read from the DNS " +
			"host's API) and what each delegated node answers over DNS. Use it in `check` blocks and postconditions, " +
			"e.g. `length(data.pmgtm_delegation.api.lame_nodes) == 0`. It reads and never fails on a dead node: that is " +
			"what it reports.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "The fully qualified hostname."},
			"zone":        schema.StringAttribute{Required: true, MarkdownDescription: "The parent zone, e.g. `example.com`."},
			"name":        schema.StringAttribute{Required: true, MarkdownDescription: "The hostname relative to the zone, e.g. `api`."},
			"fqdn":        schema.StringAttribute{Computed: true, MarkdownDescription: "Fully qualified hostname."},
			"delegated":   schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether the parent holds NS records for the hostname."},
			"nameservers": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The parent's NS set, sorted."},
			"ns_ttl":      schema.Int64Attribute{Computed: true, MarkdownDescription: "TTL of the NS set (0 when not delegated)."},
			"nodes": schema.ListAttribute{Computed: true, ElementType: types.ObjectType{AttrTypes: delegationNodeTypes},
				MarkdownDescription: "One entry per nameserver: `nameserver`, its `addresses`, `state` (`healthy`: answers " +
					"authoritatively with its own address; `withdrawn`: answers authoritatively with other nodes' addresses, " +
					"as a drained or failing node does; `lame`: no authoritative answer), the `answers` it gave, and a `detail`."},
			"healthy_nodes": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Nameservers in state `healthy`."},
			"lame_nodes":    schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Nameservers in state `lame`."},
			"all_healthy":   schema.BoolAttribute{Computed: true, MarkdownDescription: "Delegated, and every nameserver healthy."},
		},
	}
}

func (d *DelegationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.clients = clientsFrom(req.ProviderData, &resp.Diagnostics)
}

type nodeReport struct {
	nameserver string
	addresses  []string
	state      string
	answers    []string
	detail     string
}

func (d *DelegationDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m delegationModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !ready(d.clients, &resp.Diagnostics) {
		return
	}
	z, err := zone.CanonicalName(m.Zone.ValueString())
	if err != nil {
		resp.Diagnostics.AddError("Invalid zone", err.Error())
		return
	}
	name := strings.ToLower(strings.TrimSuffix(m.Name.ValueString(), "."))
	fqdn, err := zone.CanonicalName(name + "." + z)
	if err != nil {
		resp.Diagnostics.AddError("Invalid name", err.Error())
		return
	}
	// Live: list the zone again rather than trust what this run cached.
	d.clients.Parent.Forget(z)
	s, err := d.clients.Parent.Lookup(ctx, z, name)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the parent zone", err.Error())
		return
	}
	var nsSet []string
	var nsTTL int64
	for _, rec := range s.Of("NS") {
		if c, err := zone.CanonicalName(rec.Value); err == nil {
			nsSet = append(nsSet, c)
			nsTTL = int64(rec.TTL)
		}
	}
	slices.Sort(nsSet)
	reports := make([]nodeReport, len(nsSet))
	var wg sync.WaitGroup
	for i, ns := range nsSet {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = d.report(ctx, z, fqdn, ns)
		}()
	}
	wg.Wait()

	var nodes []attr.Value
	healthy, lame := []string{}, []string{}
	for _, r := range reports {
		nodes = append(nodes, types.ObjectValueMust(delegationNodeTypes, map[string]attr.Value{
			"nameserver": types.StringValue(r.nameserver), "addresses": stringList(r.addresses),
			"state": types.StringValue(r.state), "answers": stringList(r.answers), "detail": types.StringValue(r.detail),
		}))
		switch r.state {
		case stateHealthy:
			healthy = append(healthy, r.nameserver)
		case stateLame:
			lame = append(lame, r.nameserver)
		}
	}
	m.ID = types.StringValue(fqdn)
	m.FQDN = types.StringValue(fqdn)
	m.Delegated = types.BoolValue(len(nsSet) > 0)
	m.Nameservers = stringList(nsSet)
	m.NSTTL = types.Int64Value(nsTTL)
	m.Nodes = types.ListValueMust(types.ObjectType{AttrTypes: delegationNodeTypes}, nodes)
	m.HealthyNodes = stringList(healthy)
	m.LameNodes = stringList(lame)
	m.AllHealthy = types.BoolValue(len(nsSet) > 0 && len(healthy) == len(nsSet))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func stringList(v []string) types.List {
	vals := make([]attr.Value, len(v))
	for i, s := range v {
		vals[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, vals)
}

// report asks one nameserver, at each of its addresses, for the hostname.
func (d *DelegationDataSource) report(ctx context.Context, z, fqdn, ns string) nodeReport {
	r := nodeReport{nameserver: ns, addresses: []string{}, answers: []string{}, state: stateLame}
	addrs, _ := nameserverAddrs(ctx, d.clients.Parent, z, ns)
	if len(addrs) == 0 {
		r.detail = "the nameserver name has no address"
		return r
	}
	var details []string
	own, answeredAA, fenced := 0, 0, 0
	for _, a := range addrs {
		r.addresses = append(r.addresses, a.String())
		qtype := dns.TypeA
		if !a.Is4() {
			qtype = dns.TypeAAAA
		}
		qctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		server := netip.AddrPortFrom(a, d.clients.dnsPort())
		health, _, herr := probe.Health(qctx, server, fqdn, nil, "")
		ans, err := probe.Ask(qctx, server, fqdn, qtype)
		cancel()
		if herr == nil && health != zone.HealthOK {
			// The agent withdrew the zone itself (its load balancer fails,
			// or it is drained); whatever it answers follows its mode.
			fenced++
			details = append(details, fmt.Sprintf("%s: withdrawn by its agent (%s)", a, health))
			if err == nil {
				for _, x := range ans.Addrs {
					if !slices.Contains(r.answers, x.String()) {
						r.answers = append(r.answers, x.String())
					}
				}
			}
			continue
		}
		switch {
		case err != nil:
			details = append(details, fmt.Sprintf("%s: %v", a, err))
		case !ans.Authoritative || ans.Rcode != "NOERROR":
			details = append(details, fmt.Sprintf("%s: %s, authoritative=%v", a, ans.Rcode, ans.Authoritative))
		default:
			answeredAA++
			for _, x := range ans.Addrs {
				if !slices.Contains(r.answers, x.String()) {
					r.answers = append(r.answers, x.String())
				}
			}
			if slices.Contains(ans.Addrs, a) {
				own++
				details = append(details, fmt.Sprintf("%s: answers with its own address", a))
			} else {
				details = append(details, fmt.Sprintf("%s: answers with %v, not its own address", a, ans.Addrs))
			}
		}
	}
	switch {
	case own > 0:
		r.state = stateHealthy
	case answeredAA > 0 || fenced > 0:
		r.state = stateWithdrawn
	}
	r.detail = strings.Join(details, "; ")
	return r
}
