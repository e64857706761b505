package parentzone

import (
	"context"
	"fmt"
	"strings"

	"github.com/libdns/libdns"
	"github.com/libdns/route53"
)

// Route53Config configures the Route 53 backend. Empty credentials use the
// standard AWS chain (environment, shared config, SSO, instance role).
type Route53Config struct {
	Region          string
	HostedZoneID    string
	Profile         string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	MaxRetries      int
}

// NewRoute53 returns a Route 53 backend. The AWS SDK endpoint settings
// (AWS_ENDPOINT_URL_ROUTE_53) redirect it, which the tests use.
func NewRoute53(cfg Route53Config) (Backend, error) {
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, fmt.Errorf("route53: access_key_id and secret_access_key go together; set both or neither (then the AWS credential chain is used)")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1" // Route 53 is global; the SDK still needs a region to sign
	}
	return route53Backend{&route53.Provider{Region: region, HostedZoneID: strings.TrimPrefix(cfg.HostedZoneID, "/hostedzone/"),
		Profile: cfg.Profile, AccessKeyId: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
		SessionToken: cfg.SessionToken, MaxRetries: cfg.MaxRetries}}, nil
}

// route53Backend is libdns/route53 with atomic set replacement (UPSERT of
// the whole record set), which a TTL change needs there.
type route53Backend struct{ *route53.Provider }

func (b route53Backend) ReplaceSet(ctx context.Context, zone string, recs []libdns.Record) error {
	_, err := b.SetRecords(ctx, zone, recs)
	return err
}
