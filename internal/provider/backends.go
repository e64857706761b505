package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/parentzone"
)

// backendKinds is every parent-zone host the provider block can name, in
// the order the docs list them. Adding a host is one row here and one
// model type with its block (below), beside its constructor in parentzone.
var backendKinds = []backendKind{
	{name: "rfc2136", block: rfc2136Block, config: func() backendConfig { return &rfc2136Model{} }},
	{name: "cloudflare", block: cloudflareBlock, config: func() backendConfig { return &cloudflareModel{} }},
	{name: "route53", block: route53Block, config: func() backendConfig { return &route53Model{} }},
}

// backendKind is one host: its block in the provider schema, and the
// model that block decodes into.
type backendKind struct {
	name   string
	block  schema.SingleNestedBlock
	config func() backendConfig
}

// backendConfig is a decoded backend block.
type backendConfig interface {
	// values are the block's values, to hold off configuring while one is
	// unknown.
	values() []types.String
	// backend builds the host's client, whose waits for the host's
	// request budget go to onWait; a *parentzone.ConfigError names the
	// attribute at fault.
	backend(onWait parentzone.WaitFunc) (parentzone.Backend, error)
	// secrets are the block's secret values, masked in logs.
	secrets() []string
}

// configuredBackends decodes every backend block that is present.
func configuredBackends(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics) (names []string, configs []backendConfig) {
	for _, k := range backendKinds {
		c := k.config()
		var present types.Object
		diags.Append(cfg.GetAttribute(ctx, path.Root(k.name), &present)...)
		if present.IsNull() {
			continue
		}
		diags.Append(cfg.GetAttribute(ctx, path.Root(k.name), c)...)
		names, configs = append(names, k.name), append(configs, c)
	}
	return names, configs
}

type rfc2136Model struct {
	Server               types.String `tfsdk:"server"`
	KeyName              types.String `tfsdk:"key_name"`
	KeyAlgorithm         types.String `tfsdk:"key_algorithm"`
	KeySecret            types.String `tfsdk:"key_secret"`
	TransferKeyName      types.String `tfsdk:"transfer_key_name"`
	TransferKeyAlgorithm types.String `tfsdk:"transfer_key_algorithm"`
	TransferKeySecret    types.String `tfsdk:"transfer_key_secret"`
}

var rfc2136Block = schema.SingleNestedBlock{
	MarkdownDescription: "Parent zone on an RFC 2136 primary (BIND, Knot DNS, PowerDNS with a backend that supports updates, e.g. gsqlite3), signed or not, with TSIG. The key needs update and AXFR rights, unless a transfer key of its own signs the reads (then the update key needs update rights only). Every answer must be signed with the key and every write is read back before it counts; a rejected key, a zone the server does not serve or an update policy without the key fails at plan time.",
	Attributes: map[string]schema.Attribute{
		"server":        str("`host[:port]` of the primary server; port 53 when omitted. Env `PMGTM_RFC2136_SERVER`.", false),
		"key_name":      str("TSIG key name. Env `PMGTM_RFC2136_KEY_NAME`.", false),
		"key_algorithm": str("`hmac-sha256` (default) or `hmac-sha512`. Env `PMGTM_RFC2136_KEY_ALGORITHM`.", false),
		"key_secret":    str("TSIG secret, base64. Env `PMGTM_RFC2136_KEY_SECRET`.", true),
		"transfer_key_name": str("TSIG key that signs every read instead of `key_name`: the SOA query, the zone transfer (AXFR) and the read-back after each write; "+
			"set it with `transfer_key_secret` when the server lets one key update the zone and another transfer it. Env `PMGTM_RFC2136_TRANSFER_KEY_NAME`.", false),
		"transfer_key_algorithm": str("`hmac-sha256` (default) or `hmac-sha512`. Env `PMGTM_RFC2136_TRANSFER_KEY_ALGORITHM`.", false),
		"transfer_key_secret":    str("Secret of `transfer_key_name`, base64. Env `PMGTM_RFC2136_TRANSFER_KEY_SECRET`.", true),
	},
}

func (m *rfc2136Model) values() []types.String {
	return []types.String{m.Server, m.KeyName, m.KeyAlgorithm, m.KeySecret, m.TransferKeyName, m.TransferKeyAlgorithm, m.TransferKeySecret}
}

func (m *rfc2136Model) secrets() []string {
	return []string{valueOr(m.KeySecret, "PMGTM_RFC2136_KEY_SECRET"), valueOr(m.TransferKeySecret, "PMGTM_RFC2136_TRANSFER_KEY_SECRET")}
}

// An RFC 2136 primary publishes no request budget: none is kept.
func (m *rfc2136Model) backend(parentzone.WaitFunc) (parentzone.Backend, error) {
	return parentzone.NewRFC2136(parentzone.RFC2136Config{
		Server:               valueOr(m.Server, "PMGTM_RFC2136_SERVER"),
		KeyName:              valueOr(m.KeyName, "PMGTM_RFC2136_KEY_NAME"),
		KeyAlgorithm:         valueOr(m.KeyAlgorithm, "PMGTM_RFC2136_KEY_ALGORITHM"),
		KeySecret:            valueOr(m.KeySecret, "PMGTM_RFC2136_KEY_SECRET"),
		TransferKeyName:      valueOr(m.TransferKeyName, "PMGTM_RFC2136_TRANSFER_KEY_NAME"),
		TransferKeyAlgorithm: valueOr(m.TransferKeyAlgorithm, "PMGTM_RFC2136_TRANSFER_KEY_ALGORITHM"),
		TransferKeySecret:    valueOr(m.TransferKeySecret, "PMGTM_RFC2136_TRANSFER_KEY_SECRET"),
	})
}

type cloudflareModel struct {
	APIToken types.String `tfsdk:"api_token"`
	ZoneID   types.String `tfsdk:"zone_id"`
	BaseURL  types.String `tfsdk:"base_url"`
}

var cloudflareBlock = schema.SingleNestedBlock{
	MarkdownDescription: "Parent zone on Cloudflare.",
	Attributes: map[string]schema.Attribute{
		"api_token": str("API token with Zone.DNS:Edit on the zone (and Zone:Read, unless `zone_id` is set). Env `CLOUDFLARE_API_TOKEN`.", true),
		"zone_id": str("The parent zone's id (32 hex digits, on the zone's overview page). With it the zone is not looked up by name, "+
			"so a token limited to Zone.DNS:Edit on that one zone is enough. Env `CLOUDFLARE_ZONE_ID`.", false),
		"base_url": str("Scheme and host of the API, for an API gateway or an emulator. Default `https://api.cloudflare.com`. Env `CLOUDFLARE_BASE_URL`.", false),
	},
}

func (m *cloudflareModel) values() []types.String {
	return []types.String{m.APIToken, m.ZoneID, m.BaseURL}
}

func (m *cloudflareModel) secrets() []string {
	return []string{valueOr(m.APIToken, "CLOUDFLARE_API_TOKEN")}
}

func (m *cloudflareModel) backend(onWait parentzone.WaitFunc) (parentzone.Backend, error) {
	return parentzone.NewCloudflare(parentzone.CloudflareConfig{APIToken: valueOr(m.APIToken, "CLOUDFLARE_API_TOKEN"),
		ZoneID: valueOr(m.ZoneID, "CLOUDFLARE_ZONE_ID"), BaseURL: valueOr(m.BaseURL, "CLOUDFLARE_BASE_URL"), OnWait: onWait})
}

type route53Model struct {
	Region          types.String `tfsdk:"region"`
	HostedZoneID    types.String `tfsdk:"hosted_zone_id"`
	Profile         types.String `tfsdk:"profile"`
	AccessKeyID     types.String `tfsdk:"access_key_id"`
	SecretAccessKey types.String `tfsdk:"secret_access_key"`
}

var route53Block = schema.SingleNestedBlock{
	MarkdownDescription: "Parent zone on Amazon Route 53. Credentials come from the standard AWS chain unless given here.",
	Attributes: map[string]schema.Attribute{
		"region":            str("Region used to sign requests. Default `us-east-1`.", false),
		"hosted_zone_id":    str("Hosted zone id, when several zones share the name.", false),
		"profile":           str("Shared-config profile.", false),
		"access_key_id":     str("Access key id (prefer the credential chain).", false),
		"secret_access_key": str("Secret access key.", true),
	},
}

func (m *route53Model) values() []types.String {
	return []types.String{m.Region, m.HostedZoneID, m.Profile, m.AccessKeyID, m.SecretAccessKey}
}

func (m *route53Model) secrets() []string { return []string{valueOr(m.SecretAccessKey, "")} }

func (m *route53Model) backend(onWait parentzone.WaitFunc) (parentzone.Backend, error) {
	return parentzone.NewRoute53(parentzone.Route53Config{
		Region: valueOr(m.Region, ""), HostedZoneID: valueOr(m.HostedZoneID, ""),
		Profile: valueOr(m.Profile, ""), AccessKeyID: valueOr(m.AccessKeyID, ""),
		SecretAccessKey: valueOr(m.SecretAccessKey, ""), OnWait: onWait,
	})
}
