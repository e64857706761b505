package provider

import (
	"context"
	"hash/fnv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/model"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zonefile"
)

var _ datasource.DataSourceWithValidateConfig = &ZoneFileDataSource{}

// NewZoneFileDataSource is the pmgtm_zone_file constructor.
func NewZoneFileDataSource() datasource.DataSource { return &ZoneFileDataSource{} }

// ZoneFileDataSource renders one node's zone for a hostname, offline: it
// touches no API, so it also works where nodes run CoreDNS instead of
// pmgtm-agent.
type ZoneFileDataSource struct{}

type zoneFileModel struct {
	ID        types.String `tfsdk:"id"`
	Zone      types.String `tfsdk:"zone"`
	Name      types.String `tfsdk:"name"`
	Node      types.Object `tfsdk:"node"`
	Nodes     types.List   `tfsdk:"nodes"`
	AnswerTTL types.Int64  `tfsdk:"answer_ttl"`
	NSTTL     types.Int64  `tfsdk:"ns_ttl"`
	Serial    types.Int64  `tfsdk:"serial"`
	ACME      types.String `tfsdk:"acme_challenge_target"`
	CAA       types.List   `tfsdk:"caa"`
	TXT       types.List   `tfsdk:"txt"`
	HTTPS     types.Object `tfsdk:"https"`
	Path      types.String `tfsdk:"path"`
	FQDN      types.String `tfsdk:"fqdn"`
	FileName  types.String `tfsdk:"filename"`
	Content   types.String `tfsdk:"content"`
	Corefile  types.String `tfsdk:"corefile"`
	AgentJSON types.String `tfsdk:"agent_json"`
}

func (d *ZoneFileDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_zone_file"
}

func (d *ZoneFileDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	// The node objects pmgtm_node exports, or written out by hand (then
	// the agent attributes may be left out: nothing is called).
	nodeAttrs := map[string]schema.Attribute{}
	for name := range nodeObjectTypes {
		nodeAttrs[name] = schema.StringAttribute{Optional: true, Sensitive: name == attrAgentToken || name == attrAgentClientKey}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "The zone one node serves for a hostname, as RFC 1035 master-file text and a CoreDNS " +
			"Corefile, for nodes that run CoreDNS (or another authoritative server) instead of pmgtm-agent, or that are " +
			"provisioned with cloud-init. It answers as the agent does: the node's own addresses at the hostname and " +
			"every name beneath it. Computed offline; no API is called.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "`<fqdn>@<node nameserver>`."},
			"zone": schema.StringAttribute{Required: true, MarkdownDescription: "The parent zone, e.g. `example.com`."},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "The hostname relative to the zone, e.g. `api`."},
			"node": schema.SingleNestedAttribute{Required: true, Attributes: nodeAttrs, MarkdownDescription: "The node this file is for: `pmgtm_node.<name>.node`."},
			"nodes": schema.ListNestedAttribute{Required: true, NestedObject: schema.NestedAttributeObject{Attributes: nodeAttrs},
				MarkdownDescription: "Every node of the hostname (the NS set); must include `node`."},
			"answer_ttl": schema.Int64Attribute{Optional: true,
				MarkdownDescription: "TTL of the A/AAAA answers, 1 to 86400 seconds. Default 30."},
			"ns_ttl": schema.Int64Attribute{Optional: true,
				MarkdownDescription: "TTL of the NS and SOA records, 60 to 86400 seconds. Default 300."},
			"acme_challenge_target": schema.StringAttribute{Optional: true,
				MarkdownDescription: "CNAME target of `_acme-challenge.<fqdn>`, as `pmgtm_hostname.acme_challenge_target` (for DNS-01 certificates); unset: none."},
			"caa": schema.ListNestedAttribute{Optional: true, MarkdownDescription: "CAA records at the hostname, as `pmgtm_hostname.caa`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"flags": schema.Int64Attribute{Optional: true, MarkdownDescription: "0 (default) or 128."},
					"tag":   schema.StringAttribute{Required: true, MarkdownDescription: "`issue`, `issuewild`, `iodef`, ..."},
					"value": schema.StringAttribute{Required: true, MarkdownDescription: "The property value."},
				}}},
			"txt": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "TXT records at the hostname, as `pmgtm_hostname.txt`."},
			"https": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "The HTTPS record at the hostname, as `pmgtm_hostname.https`; its hints are the node's addresses.",
				Attributes: map[string]schema.Attribute{
					"priority": schema.Int64Attribute{Optional: true, MarkdownDescription: "1 (default) or more."},
					"alpn":     schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Protocol ids."},
					"port":     schema.Int64Attribute{Optional: true, MarkdownDescription: "Port, when not the scheme's default."},
				}},
			"serial": schema.Int64Attribute{Optional: true,
				MarkdownDescription: "SOA serial. Default: derived from the content, so it changes exactly when the zone does and the file is stable between plans."},
			"path": schema.StringAttribute{Optional: true,
				MarkdownDescription: "Where the master file will be on the node, for the Corefile. Default `/etc/coredns/<filename>`."},
			"fqdn":       schema.StringAttribute{Computed: true, MarkdownDescription: "Fully qualified hostname."},
			"filename":   schema.StringAttribute{Computed: true, MarkdownDescription: "Conventional file name, `db.<fqdn>`."},
			"content":    schema.StringAttribute{Computed: true, MarkdownDescription: "The zone as RFC 1035 master-file text."},
			"corefile":   schema.StringAttribute{Computed: true, MarkdownDescription: "A CoreDNS server block serving `content` from `path`."},
			"agent_json": schema.StringAttribute{Computed: true, MarkdownDescription: "The zone as pmgtm-agent's API takes it (`PUT /v1/zones/<fqdn>`)."},
		},
	}
}

// plain is the configuration as the model checks it.
func (m zoneFileModel) plain(ctx context.Context) model.ZoneFile {
	h := model.Hostname{Zone: known(m.Zone), Name: known(m.Name), AnswerTTL: knownInt(m.AnswerTTL), NSTTL: knownInt(m.NSTTL)}
	h.Static, h.StaticKnown = staticRecords(m.CAA, m.TXT, m.HTTPS)
	hm := hostnameModel{Nodes: m.Nodes}
	if nodes, ok, _ := hm.nodes(); ok {
		h.Nodes = make([]model.HostnameNode, 0, len(nodes))
		for _, n := range nodes {
			h.Nodes = append(h.Nodes, n.plain())
		}
	}
	z := model.ZoneFile{Hostname: h, Serial: knownInt(m.Serial)}
	if !m.Node.IsNull() && !m.Node.IsUnknown() {
		var n nodeValue
		if diags := m.Node.As(ctx, &n, basetypes.ObjectAsOptions{}); !diags.HasError() &&
			!n.Nameserver.IsUnknown() && !n.IPv4.IsUnknown() && !n.IPv6.IsUnknown() {
			self := n.plain()
			z.Self = &self
		}
	}
	return z
}

func (d *ZoneFileDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m zoneFileModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.check(ctx, &resp.Diagnostics, true)
}

// check reports what is wrong with the configuration (and, at validation,
// what is merely unwise); it returns the configuration as plain Go.
func (m zoneFileModel) check(ctx context.Context, diags *diag.Diagnostics, withWarnings bool) model.ZoneFile {
	z := m.plain(ctx)
	errs, warns := model.ValidateZoneFile(z)
	if !withWarnings {
		warns = nil
	}
	addProblems(diags, errs, warns)
	return z
}

func (d *ZoneFileDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m zoneFileModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	zf := m.check(ctx, &resp.Diagnostics, false)
	if resp.Diagnostics.HasError() {
		return
	}
	h, self := zf.Hostname, zf.Self
	if self == nil || h.Nodes == nil {
		resp.Diagnostics.AddError("Unknown node", "node and nodes must be known to render the zone.")
		return
	}
	answerTTL, nsTTL := int64(zone.DefaultAnswerTTL), int64(zone.DefaultNSTTL)
	if h.AnswerTTL != nil {
		answerTTL = *h.AnswerTTL
	}
	if h.NSTTL != nil {
		nsTTL = *h.NSTTL
	}
	fqdn, _ := zone.CanonicalName(h.Name + "." + h.Zone)
	static, _ := h.Static.Zone() // check reported any fault
	body := model.NodeZone(fqdn, *self, h.Nodes, model.ZoneSettings{AnswerTTL: answerTTL, NSTTL: nsTTL, ACMEChallenge: known(m.ACME), Static: static})
	z, fe := body.Canonical(fqdn)
	if fe != nil && fe.Field == "acme_challenge" {
		resp.Diagnostics.AddAttributeError(path.Root("acme_challenge_target"), "Invalid ACME challenge target", fe.Message+".")
		return
	}
	if fe != nil {
		resp.Diagnostics.AddError("Invalid zone", fe.Error())
		return
	}
	z.Serial = contentSerial(z)
	if s := zf.Serial; s != nil {
		z.Serial = uint32(*s) // range checked by ValidateZoneFile
	}
	file := zonefile.FileName(z)
	where := "/etc/coredns/" + file
	if p := known(m.Path); p != "" {
		where = p
	}
	m.ID = types.StringValue(fqdn + "@" + z.SOA.MName)
	m.FQDN = types.StringValue(fqdn)
	m.FileName = types.StringValue(file)
	m.Content = types.StringValue(zonefile.Text(z))
	m.Corefile = types.StringValue(zonefile.Corefile(z, where))
	m.AgentJSON = types.StringValue(strings.TrimSpace(string(zone.Encode(z))))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// contentSerial derives a serial from the zone's content: stable between
// plans, different when the content is.
func contentSerial(z zone.Zone) uint32 {
	z.Serial = 0
	h := fnv.New32a()
	h.Write(zone.Encode(z))
	return h.Sum32()%2147483646 + 1
}
