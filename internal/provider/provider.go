package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
)

var _ provider.Provider = &PmgtmProvider{}

// PmgtmProvider is the pmgtm provider.
type PmgtmProvider struct {
	version string
}

// New returns a constructor for the provider, as providerserver.Serve expects.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &PmgtmProvider{version: version} }
}

// Clients is what resources receive from Configure.
type Clients struct {
	Parent     *parentzone.Manager
	AgentToken string // the default for nodes without their own
	agents     agentTransports
	secrets    []string // masked in every log line
	planned    plannedNames
}

// dnsPort is where nodes answer DNS: resolvers follow a delegation to port
// 53 only, so the provider checks nodes there too.
func (c *Clients) dnsPort() uint16 { return 53 }

// providerModel is the provider block but for the backend blocks, which
// backends.go reads one by one.
type providerModel struct {
	OwnerID types.String `tfsdk:"owner_id"`
	Agent   *agentModel  `tfsdk:"agent"`
}

type agentModel struct {
	Token         types.String `tfsdk:"token"`
	CACertPEM     types.String `tfsdk:"ca_cert_pem"`
	ClientCertPEM types.String `tfsdk:"client_cert_pem"`
	ClientKeyPEM  types.String `tfsdk:"client_key_pem"`
	Timeout       types.String `tfsdk:"timeout"`
}

func (p *PmgtmProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pmgtm"
	resp.Version = p.version
}

func str(desc string, sensitive bool) schema.StringAttribute {
	return schema.StringAttribute{Optional: true, Sensitive: sensitive, MarkdownDescription: desc}
}

func (p *PmgtmProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "pmgtm publishes a hostname through DNS delegation to several load-balancer nodes, " +
			"each running the pmgtm agent, so that recursive resolvers fail over between them. " +
			"Configure exactly one of `rfc2136`, `cloudflare` or `route53` for the parent zone.",
		Attributes: map[string]schema.Attribute{
			"owner_id": str("Names this configuration in the ownership markers pmgtm writes beside its records "+
				"(`<name>._pmgtm.<zone>` TXT), next to each resource's `instance_id`. A name belongs to one resource "+
				"in one state whatever the owner ids; a distinct owner id per team makes the markers say whose a name "+
				"is. Default `default`.", false),
		},
		Blocks: map[string]schema.Block{
			"agent": schema.SingleNestedBlock{
				MarkdownDescription: "How the provider reaches node agents.",
				Attributes: map[string]schema.Attribute{
					"token":           str("Bearer token of the agents' API. Env `PMGTM_AGENT_TOKEN`.", true),
					"ca_cert_pem":     str("PEM CA certificate(s) that sign the agents' TLS certificates.", false),
					"client_cert_pem": str("PEM client certificate, for agents that require one (`--tls-client-ca`).", false),
					"client_key_pem":  str("PEM private key of `client_cert_pem`.", true),
					"timeout":         str("Timeout of one agent API call, e.g. `10s` (default).", false),
				},
			},
		},
	}
	for _, k := range backendKinds {
		resp.Schema.Blocks[k.name] = k.block
	}
}

// valueOr returns the configured value, else the environment variable.
func valueOr(v types.String, env string) string {
	if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
		return v.ValueString()
	}
	if env == "" {
		return ""
	}
	return os.Getenv(env)
}

func (p *PmgtmProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("owner_id"), &cfg.OwnerID)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("agent"), &cfg.Agent)...)
	names, configs := configuredBackends(ctx, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if anyUnknown(cfg, configs) {
		// Values known only after apply (e.g. a secret from another
		// resource): the framework's documented way is to configure nothing
		// now; resources then report that the provider is not configured if
		// they need it during this plan.
		return
	}
	owner := valueOr(cfg.OwnerID, "")
	if owner == "" {
		owner = "default"
	}
	if err := parentzone.ValidOwner(owner); err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("owner_id"), "Invalid owner_id", err.Error())
		return
	}
	if len(configs) != 1 {
		var all []string
		for _, k := range backendKinds {
			all = append(all, k.name)
		}
		resp.Diagnostics.AddError("Configure exactly one parent-zone backend",
			fmt.Sprintf("The provider block has %d of %s (%v); pmgtm needs exactly one, the host of the zone that delegates your hostnames.", len(configs), strings.Join(all, ", "), names))
		return
	}
	backend, err := configs[0].backend(logRateWait)
	var cfgErr *parentzone.ConfigError
	switch {
	case errors.As(err, &cfgErr):
		resp.Diagnostics.AddAttributeError(path.Root(names[0]).AtName(cfgErr.Attribute), "Invalid parent-zone backend configuration", err.Error())
		return
	case err != nil:
		resp.Diagnostics.AddError("Invalid parent-zone backend configuration", err.Error())
		return
	}
	manager, err := parentzone.NewManager(backend, owner, parentzone.DefaultBackoff)
	if err != nil {
		resp.Diagnostics.AddError("Invalid provider configuration", err.Error())
		return
	}
	clients := &Clients{Parent: manager, secrets: configs[0].secrets()}
	manager.Trace, manager.OnRetry = clients.logParentCall, clients.logParentRetry
	agent := cfg.Agent
	if agent == nil {
		agent = &agentModel{}
	}
	clients.AgentToken = valueOr(agent.Token, "PMGTM_AGENT_TOKEN")
	clients.secrets = append(clients.secrets, clients.AgentToken, valueOr(agent.ClientKeyPEM, ""))
	timeout := 10 * time.Second
	if t := valueOr(agent.Timeout, ""); t != "" {
		if timeout, err = time.ParseDuration(t); err != nil || timeout <= 0 {
			resp.Diagnostics.AddAttributeError(path.Root("agent").AtName("timeout"), "Invalid timeout",
				fmt.Sprintf("timeout = %q is not a positive duration such as \"10s\".", t))
			return
		}
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if pem := valueOr(agent.CACertPEM, ""); pem != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			resp.Diagnostics.AddAttributeError(path.Root("agent").AtName("ca_cert_pem"), "Invalid CA certificate",
				"ca_cert_pem holds no PEM certificate; pass the CA that signs the agents' certificates, e.g. file(\"agents-ca.pem\").")
			return
		}
		tlsConfig.RootCAs = pool
	}
	certPEM, keyPEM := valueOr(agent.ClientCertPEM, ""), valueOr(agent.ClientKeyPEM, "")
	if (certPEM == "") != (keyPEM == "") {
		resp.Diagnostics.AddAttributeError(path.Root("agent").AtName("client_cert_pem"), "Incomplete client certificate",
			"client_cert_pem and client_key_pem go together: set both for agents that require client certificates, or neither.")
		return
	}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			// The error names the problem, never the key's content.
			resp.Diagnostics.AddAttributeError(path.Root("agent").AtName("client_cert_pem"), "Invalid client certificate",
				"client_cert_pem and client_key_pem do not make a usable pair: "+err.Error())
			return
		}
		tlsConfig.Certificates = []tls.Certificate{pair}
	}
	clients.agents = agentTransports{base: tlsConfig, timeout: timeout, log: clients}
	resp.ResourceData = clients
	resp.DataSourceData = clients
}

func anyUnknown(cfg providerModel, backends []backendConfig) bool {
	vals := []types.String{cfg.OwnerID}
	for _, b := range backends {
		vals = append(vals, b.values()...)
	}
	if cfg.Agent != nil {
		vals = append(vals, cfg.Agent.Token, cfg.Agent.CACertPEM, cfg.Agent.Timeout, cfg.Agent.ClientCertPEM, cfg.Agent.ClientKeyPEM)
	}
	for _, v := range vals {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

func (p *PmgtmProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{NewNodeResource, NewHostnameResource}
}

func (p *PmgtmProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{NewZoneFileDataSource, NewDelegationDataSource}
}
