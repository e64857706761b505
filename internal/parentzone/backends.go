package parentzone

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/libdns/cloudflare"
	"github.com/libdns/libdns"
	"github.com/libdns/route53"
)

// CloudflareConfig configures the Cloudflare backend.
type CloudflareConfig struct {
	APIToken string
	// BaseURL replaces https://api.cloudflare.com (scheme and host), for an
	// API gateway or an emulator; empty means the real API.
	BaseURL string
	// HTTPClient carries the requests; nil means a default client. Tests
	// point it at the emulator.
	HTTPClient *http.Client
}

// NewCloudflare returns a Cloudflare backend. Requests answered 429 are
// retried after the Retry-After the API gives.
func NewCloudflare(cfg CloudflareConfig) (Backend, error) {
	if cfg.APIToken == "" {
		return nil, fmt.Errorf("cloudflare: api_token is empty; set it or CLOUDFLARE_API_TOKEN (a token with Zone.DNS:Edit)")
	}
	base := cfg.HTTPClient
	if base == nil {
		base = &http.Client{Timeout: 60 * time.Second}
	}
	client := *base
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("cloudflare: base_url %q must be scheme://host[:port], e.g. https://api.cloudflare.com", cfg.BaseURL)
		}
		next = rebase{target: u, next: next}
	}
	client.Transport = retryAfter{next: next, attempts: 6, maxWait: 30 * time.Second}
	return zoneWithoutDot{&cloudflare.Provider{APIToken: cfg.APIToken, HTTPClient: &client}}, nil
}

// rebase sends every request to another scheme and host, keeping the path.
type rebase struct {
	target *url.URL
	next   http.RoundTripper
}

func (r rebase) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.target.Scheme, r.target.Host, r.target.Host
	return r.next.RoundTrip(out)
}

// zoneWithoutDot passes zone names the way the Cloudflare API names zones
// ("example.com"), where libdns callers use "example.com.".
type zoneWithoutDot struct{ p *cloudflare.Provider }

func (z zoneWithoutDot) GetRecords(ctx context.Context, zone string) ([]libdns.Record, error) {
	return z.p.GetRecords(ctx, strings.TrimSuffix(zone, "."))
}

func (z zoneWithoutDot) AppendRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return z.p.AppendRecords(ctx, strings.TrimSuffix(zone, "."), recs)
}

func (z zoneWithoutDot) DeleteRecords(ctx context.Context, zone string, recs []libdns.Record) ([]libdns.Record, error) {
	return z.p.DeleteRecords(ctx, strings.TrimSuffix(zone, "."), recs)
}

// retryAfter resends requests answered 429 Too Many Requests after the
// delay the server asks for; such requests were not carried out.
type retryAfter struct {
	next     http.RoundTripper
	attempts int
	maxWait  time.Duration
}

func (t retryAfter) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
	}
	for attempt := 1; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := t.next.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt >= t.attempts {
			return resp, err
		}
		wait := time.Second
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = time.Duration(s) * time.Second
		}
		wait = min(max(wait, 100*time.Millisecond), t.maxWait)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
	}
}

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
