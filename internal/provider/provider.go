// Package provider holds the Terraform framework glue of pmgtm. Domain logic
// lives in plain Go packages beside it (zone, model, parentzone).
package provider

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
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
	AgentToken string
	AgentHTTP  *http.Client
	planned    plannedNames
}

// dnsPort is where nodes answer DNS: resolvers follow a delegation to port
// 53 only, so the provider checks nodes there too.
func (c *Clients) dnsPort() uint16 { return 53 }

type providerModel struct {
	OwnerID    types.String     `tfsdk:"owner_id"`
	RFC2136    *rfc2136Model    `tfsdk:"rfc2136"`
	Cloudflare *cloudflareModel `tfsdk:"cloudflare"`
	Route53    *route53Model    `tfsdk:"route53"`
	Agent      *agentModel      `tfsdk:"agent"`
}

type rfc2136Model struct {
	Server       types.String `tfsdk:"server"`
	KeyName      types.String `tfsdk:"key_name"`
	KeyAlgorithm types.String `tfsdk:"key_algorithm"`
	KeySecret    types.String `tfsdk:"key_secret"`
}

type cloudflareModel struct {
	APIToken types.String `tfsdk:"api_token"`
	BaseURL  types.String `tfsdk:"base_url"`
}

type route53Model struct {
	Region          types.String `tfsdk:"region"`
	HostedZoneID    types.String `tfsdk:"hosted_zone_id"`
	Profile         types.String `tfsdk:"profile"`
	AccessKeyID     types.String `tfsdk:"access_key_id"`
	SecretAccessKey types.String `tfsdk:"secret_access_key"`
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
			"owner_id": str("Identifies this configuration in the ownership markers pmgtm writes beside its records "+
				"(`<name>._pmgtm.<zone>` TXT). Two configurations with different owner ids never change each other's "+
				"records. Default `default`.", false),
		},
		Blocks: map[string]schema.Block{
			"rfc2136": schema.SingleNestedBlock{
				MarkdownDescription: "Parent zone on an RFC 2136 primary (BIND, Knot DNS, PowerDNS with a backend that supports updates, e.g. gsqlite3), signed or not, with TSIG. The key needs update and AXFR rights. Every answer must be signed with the key and every write is read back before it counts; a rejected key, a zone the server does not serve or an update policy without the key fails at plan time.",
				Attributes: map[string]schema.Attribute{
					"server":        str("`host[:port]` of the primary server; port 53 when omitted. Env `PMGTM_RFC2136_SERVER`.", false),
					"key_name":      str("TSIG key name. Env `PMGTM_RFC2136_KEY_NAME`.", false),
					"key_algorithm": str("`hmac-sha256` (default) or `hmac-sha512`. Env `PMGTM_RFC2136_KEY_ALGORITHM`.", false),
					"key_secret":    str("TSIG secret, base64. Env `PMGTM_RFC2136_KEY_SECRET`.", true),
				},
			},
			"cloudflare": schema.SingleNestedBlock{
				MarkdownDescription: "Parent zone on Cloudflare.",
				Attributes: map[string]schema.Attribute{
					"api_token": str("API token with Zone.DNS:Edit. Env `CLOUDFLARE_API_TOKEN`.", true),
					"base_url":  str("Scheme and host of the API, for an API gateway or an emulator. Default `https://api.cloudflare.com`. Env `CLOUDFLARE_BASE_URL`.", false),
				},
			},
			"route53": schema.SingleNestedBlock{
				MarkdownDescription: "Parent zone on Amazon Route 53. Credentials come from the standard AWS chain unless given here.",
				Attributes: map[string]schema.Attribute{
					"region":            str("Region used to sign requests. Default `us-east-1`.", false),
					"hosted_zone_id":    str("Hosted zone id, when several zones share the name.", false),
					"profile":           str("Shared-config profile.", false),
					"access_key_id":     str("Access key id (prefer the credential chain).", false),
					"secret_access_key": str("Secret access key.", true),
				},
			},
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
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if anyUnknown(cfg) {
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
	count := 0
	for _, set := range []bool{cfg.RFC2136 != nil, cfg.Cloudflare != nil, cfg.Route53 != nil} {
		if set {
			count++
		}
	}
	if count != 1 {
		resp.Diagnostics.AddError("Configure exactly one parent-zone backend",
			fmt.Sprintf("The provider block has %d of rfc2136, cloudflare and route53; pmgtm needs exactly one, the host of the zone that delegates your hostnames.", count))
		return
	}
	var backend parentzone.Provider
	var err error
	switch {
	case cfg.RFC2136 != nil:
		backend, err = parentzone.NewRFC2136(parentzone.RFC2136Config{
			Server:       valueOr(cfg.RFC2136.Server, "PMGTM_RFC2136_SERVER"),
			KeyName:      valueOr(cfg.RFC2136.KeyName, "PMGTM_RFC2136_KEY_NAME"),
			KeyAlgorithm: valueOr(cfg.RFC2136.KeyAlgorithm, "PMGTM_RFC2136_KEY_ALGORITHM"),
			KeySecret:    valueOr(cfg.RFC2136.KeySecret, "PMGTM_RFC2136_KEY_SECRET"),
		})
	case cfg.Cloudflare != nil:
		backend, err = parentzone.NewCloudflare(parentzone.CloudflareConfig{APIToken: valueOr(cfg.Cloudflare.APIToken, "CLOUDFLARE_API_TOKEN"),
			BaseURL: valueOr(cfg.Cloudflare.BaseURL, "CLOUDFLARE_BASE_URL")})
	case cfg.Route53 != nil:
		backend, err = parentzone.NewRoute53(parentzone.Route53Config{
			Region: valueOr(cfg.Route53.Region, ""), HostedZoneID: valueOr(cfg.Route53.HostedZoneID, ""),
			Profile: valueOr(cfg.Route53.Profile, ""), AccessKeyID: valueOr(cfg.Route53.AccessKeyID, ""),
			SecretAccessKey: valueOr(cfg.Route53.SecretAccessKey, ""),
		})
	}
	var cfgErr *parentzone.ConfigError
	switch {
	case errors.As(err, &cfgErr) && cfg.RFC2136 != nil:
		resp.Diagnostics.AddAttributeError(path.Root("rfc2136").AtName(cfgErr.Attribute), "Invalid parent-zone backend configuration", err.Error())
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
	clients := &Clients{Parent: manager}
	agent := cfg.Agent
	if agent == nil {
		agent = &agentModel{}
	}
	clients.AgentToken = valueOr(agent.Token, "PMGTM_AGENT_TOKEN")
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
	clients.AgentHTTP = &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: tlsConfig}}
	resp.ResourceData = clients
	resp.DataSourceData = clients
}

func anyUnknown(cfg providerModel) bool {
	vals := []types.String{cfg.OwnerID}
	if cfg.RFC2136 != nil {
		vals = append(vals, cfg.RFC2136.Server, cfg.RFC2136.KeyName, cfg.RFC2136.KeyAlgorithm, cfg.RFC2136.KeySecret)
	}
	if cfg.Cloudflare != nil {
		vals = append(vals, cfg.Cloudflare.APIToken, cfg.Cloudflare.BaseURL)
	}
	if cfg.Route53 != nil {
		vals = append(vals, cfg.Route53.Region, cfg.Route53.HostedZoneID, cfg.Route53.Profile, cfg.Route53.AccessKeyID, cfg.Route53.SecretAccessKey)
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
