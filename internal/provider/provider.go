// Package provider holds the Terraform framework glue of pmgtm. Domain logic
// lives in plain Go packages beside it.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
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

func (p *PmgtmProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "pmgtm"
	resp.Version = p.version
}

func (p *PmgtmProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "pmgtm publishes a hostname through DNS delegation to several load-balancer nodes, " +
			"each running the pmgtm agent, so that recursive resolvers fail over between them.",
	}
}

func (p *PmgtmProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *PmgtmProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *PmgtmProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }
