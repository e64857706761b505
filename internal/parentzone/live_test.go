package parentzone

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"
)

// Opt-in tests against the real services. They create and remove one
// uniquely named record set in a zone you name, and touch nothing else.
//
//	PMGTM_LIVE_CLOUDFLARE_ZONE=example.com CLOUDFLARE_API_TOKEN=... [CLOUDFLARE_ZONE_ID=...] go test -run Live ./internal/parentzone
//	PMGTM_LIVE_ROUTE53_ZONE=example.com AWS_PROFILE=... go test -run Live ./internal/parentzone
func TestLiveCloudflare(t *testing.T) {
	zone, token := os.Getenv("PMGTM_LIVE_CLOUDFLARE_ZONE"), os.Getenv("CLOUDFLARE_API_TOKEN")
	if zone == "" || token == "" {
		t.Skip("set PMGTM_LIVE_CLOUDFLARE_ZONE and CLOUDFLARE_API_TOKEN (Zone.DNS:Edit; with CLOUDFLARE_ZONE_ID nothing more) to run against the real Cloudflare API")
	}
	p, err := NewCloudflare(CloudflareConfig{APIToken: token, ZoneID: os.Getenv("CLOUDFLARE_ZONE_ID")})
	if err != nil {
		t.Fatal(err)
	}
	liveRoundTrip(t, p, zone)
}

func TestLiveRoute53(t *testing.T) {
	zone := os.Getenv("PMGTM_LIVE_ROUTE53_ZONE")
	if zone == "" {
		t.Skip("set PMGTM_LIVE_ROUTE53_ZONE and AWS credentials (the standard chain) to run against the real Route 53 API")
	}
	p, err := NewRoute53(Route53Config{Region: os.Getenv("AWS_REGION"), HostedZoneID: os.Getenv("PMGTM_LIVE_ROUTE53_ZONE_ID")})
	if err != nil {
		t.Fatal(err)
	}
	liveRoundTrip(t, p, zone)
}

func liveRoundTrip(t *testing.T, p Backend, zone string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	m, err := NewManager(p, "pmgtm-live-test", DefaultBackoff)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("pmgtm-live-%d", time.Now().Unix())
	want := []string{"ns1.pmgtm-live.invalid.", "ns2.pmgtm-live.invalid."}
	wrote := EnsureOptions{Wrote: []RRSet{{Type: "NS", Values: want}}}
	t.Cleanup(func() { _ = m.Release(context.Background(), zone, name, wrote) })
	if err := m.Ensure(ctx, zone, name, []RRSet{{Type: "NS", TTL: 300, Values: want}}, EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	reader, _ := NewManager(p, "reader", DefaultBackoff)
	s, err := reader.Lookup(ctx, zone, name)
	if err != nil || s.Holder().Owner != "pmgtm-live-test" || !slices.Equal(values(s.Of("NS")), want) {
		t.Fatalf("read back: %+v %v", s, err)
	}
	if err := m.Release(ctx, zone, name, wrote); err != nil {
		t.Fatal(err)
	}
}
