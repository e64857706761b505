package parentzone

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/cloudflare"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/route53"
)

// BenchmarkReadState reads the state of 100 hostnames with 2 nodes each
// in one zone (300 owned names: 2 node names and 100 delegations, each
// with its marker) through each emulator with 50 ms of latency per call,
// the way a terraform refresh does: once through the shared per-zone cache
// and once naively, one fresh read per resource. It reports list calls
// per run; the target is at most 2 per zone.
func BenchmarkReadState(b *testing.B) {
	cf := cloudflare.New("tok", testZone)
	defer cf.Close()
	r53 := route53.New("AKIDBENCH", testZone)
	defer r53.Close()
	b.Setenv("AWS_ENDPOINT_URL_ROUTE_53", r53.URL())
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

	type target struct {
		name   string
		inj    *faults.Injector
		newP   func() Backend
		seeded func()
	}
	targets := []target{
		{"cloudflare", &cf.Injector, func() Backend {
			p, _ := NewCloudflare(CloudflareConfig{APIToken: "tok", HTTPClient: cf.Client(), Limit: NoRateLimit})
			return p
		}, nil},
		{"route53", &r53.Injector, func() Backend {
			p, _ := NewRoute53(Route53Config{AccessKeyID: "AKIDBENCH", SecretAccessKey: "s", Limit: NoRateLimit})
			return p
		}, nil},
	}
	ctx := context.Background()
	var resources []string
	for i := range 100 {
		resources = append(resources, fmt.Sprintf("api%d", i))
	}
	resources = append(resources, "lb1", "lb2")
	for _, tg := range targets {
		seed, _ := NewManager(tg.newP(), "default", DefaultBackoff)
		for _, lb := range []string{"lb1", "lb2"} {
			if err := seed.Ensure(ctx, testZone, lb, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}}}, EnsureOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		for i := range 100 {
			if err := seed.Ensure(ctx, testZone, fmt.Sprintf("api%d", i), []RRSet{{Type: "NS", TTL: 300,
				Values: []string{"lb1.example.test.", "lb2.example.test."}}}, EnsureOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		tg.inj.SetLatency(50 * time.Millisecond)
		for _, mode := range []string{"shared-cache", "naive-per-resource"} {
			b.Run(tg.name+"/"+mode, func(b *testing.B) {
				var lists int64
				for b.Loop() {
					shared, _ := NewManager(tg.newP(), "default", DefaultBackoff)
					for _, n := range resources {
						m := shared
						if mode == "naive-per-resource" {
							m, _ = NewManager(shared.provider, "default", DefaultBackoff)
						}
						s, err := m.Lookup(ctx, testZone, n)
						if err != nil || s.Holder().Owner != "default" {
							b.Fatalf("%s: %+v %v", n, s, err)
						}
						if m != shared {
							lists += m.Calls.List.Load()
						}
					}
					lists += shared.Calls.List.Load()
				}
				b.ReportMetric(float64(lists)/float64(b.N), "list-calls/run")
			})
		}
		tg.inj.SetLatency(0)
	}
}

// serviceLimitHostnames is how many hostnames BenchmarkHostnamesAtServiceLimits
// writes; make bench-parent runs 100, BENCHMARKS.md also has 1,000.
var serviceLimitHostnames = flag.Int("pmgtm.hostnames", costHostnames, "hostnames for BenchmarkHostnamesAtServiceLimits")

// BenchmarkHostnamesAtServiceLimits creates and then destroys
// -pmgtm.hostnames hostnames of 2 nodes, 10 at a time as terraform's
// default parallelism runs them (two runs, as two terraform commands) through each
// emulator with the service's documented limit switched on (Route 53: 5
// requests/s; Cloudflare: 1,200 per 5 minutes) and the client's own budget
// at its defaults, in an empty zone and in one holding 3,000 other record
// sets. It reports requests, throttled requests and wall time per run.
func BenchmarkHostnamesAtServiceLimits(b *testing.B) {
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	for _, others := range []int{0, 3000} {
		b.Run(fmt.Sprintf("route53/others=%d", others), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				key := fmt.Sprintf("AKIDLIMITS%d%d", others, i) // a fresh account: a full budget
				emu := route53.New(key, testZone)
				for j := range others {
					emu.PutSet(testZone, route53.Set(fmt.Sprintf("www%d.%s.", j, testZone), "A", 300, "192.0.2.1"))
				}
				emu.RateLimit = 5
				b.Setenv("AWS_ENDPOINT_URL_ROUTE_53", emu.URL())
				p, err := NewRoute53(Route53Config{AccessKeyID: key, SecretAccessKey: "s", MaxRetries: 10})
				if err != nil {
					b.Fatal(err)
				}
				createThenDestroy(b, p, *serviceLimitHostnames, 10)
				b.ReportMetric(float64(total(emu.Calls())), "requests/op")
				b.ReportMetric(float64(emu.Throttled()), "throttled/op")
				emu.Close()
			}
		})
		b.Run(fmt.Sprintf("cloudflare/others=%d", others), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				token := fmt.Sprintf("limits-%d-%d", others, i)
				cf := cloudflare.New(token, testZone)
				for j := range others {
					cf.AddRecord(testZone, cloudflare.Record{Name: fmt.Sprintf("www%d.%s", j, testZone), Type: "A", Content: "192.0.2.1", TTL: 300})
				}
				cf.Limit = cloudflare.RateLimit{Requests: 1200, Window: 5 * time.Minute, Block: 5 * time.Minute}
				p, err := NewCloudflare(CloudflareConfig{APIToken: token, HTTPClient: cf.Client()})
				if err != nil {
					b.Fatal(err)
				}
				createThenDestroy(b, p, *serviceLimitHostnames, 10)
				b.ReportMetric(float64(total(cf.Calls())), "requests/op")
				b.ReportMetric(float64(cf.Throttled()), "throttled/op")
				cf.Close()
			}
		})
	}
}
