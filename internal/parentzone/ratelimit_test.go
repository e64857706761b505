package parentzone

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/cloudflare"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/route53"
)

// TestLimiterStaysInsideDocumentedLimits: requests as fast as they come,
// on a simulated clock, never put more in any window than the host allows
// (Route 53: 5 in any second; Cloudflare: 1,200 in any 5 minutes).
func TestLimiterStaysInsideDocumentedLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  RateLimit
		window time.Duration
		max    int
	}{
		{"route53", Route53Limit, time.Second, 5},
		{"cloudflare", CloudflareLimit, 5 * time.Minute, 1200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1e9, 0)
			l := &limiter{limit: tc.limit, now: func() time.Time { return now }}
			var sent []time.Time
			for range 4 * tc.max {
				now = now.Add(l.reserve()) // wait as told, then send
				sent = append(sent, now)
			}
			// The largest count in a half-open window [t, t+window).
			most, j := 0, 0
			for i := range sent {
				for j < len(sent) && sent[j].Sub(sent[i]) < tc.window {
					j++
				}
				most = max(most, j-i)
			}
			if most > tc.max {
				t.Errorf("%d requests in one window of %s, the host allows %d", most, tc.window, tc.max)
			}
			if most < tc.max*3/4 {
				t.Errorf("only %d requests per %s: the budget is wasted (host allows %d)", most, tc.window, tc.max)
			}
		})
	}
}

// TestClientLimitAvoidsThrottling: 16 writers in parallel (terraform's
// resources of one provider process) create and delete hostnames against
// emulators whose limit is the client's own, scaled down in time: the
// client waits for its budget and the host never refuses a request. With
// the client's limit off, the same load is refused, so the test bites.
func TestClientLimitAvoidsThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("paced writes")
	}
	const writers, each = 16, 6
	run := func(t *testing.T, p Backend) {
		t.Helper()
		m := newManager(t, p, "default")
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					name := fmt.Sprintf("w%d-%d", w, i)
					if err := m.Ensure(context.Background(), testZone, name, ns1, EnsureOptions{}); err != nil {
						errs <- err
						return
					}
					if err := m.Release(context.Background(), testZone, name, EnsureOptions{Wrote: ns1}); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	t.Run("route53", func(t *testing.T) {
		for _, limited := range []bool{true, false} {
			key := fmt.Sprintf("AKIDLIMIT%v", limited) // one limiter per account
			emu := route53.New(key, testZone)
			emu.RateLimit = 50 // per second: the service's 5, ten times faster
			t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", emu.URL())
			t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			t.Setenv("AWS_CONFIG_FILE", "/dev/null")
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
			limit := RateLimit{Every: 20 * time.Millisecond, Burst: 1}
			if !limited {
				limit = NoRateLimit
			}
			p, err := NewRoute53(Route53Config{AccessKeyID: key, SecretAccessKey: "s", MaxRetries: 20, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			throttled := emu.Throttled()
			t.Logf("client limit %v: %d requests, %d throttled", limited, total(emu.Calls()), throttled)
			if limited && throttled != 0 {
				t.Errorf("%d requests throttled with the client's limit on", throttled)
			}
			if !limited && throttled == 0 {
				t.Error("nothing throttled without the client's limit: the load does not reach the host's limit")
			}
			emu.Close()
		}
	})
	t.Run("cloudflare", func(t *testing.T) {
		for _, limited := range []bool{true, false} {
			cf := cloudflare.New("tok", testZone)
			// 1,200 per 5 minutes scaled down: 120 per 3 s.
			cf.Limit = cloudflare.RateLimit{Requests: 120, Window: 3 * time.Second, Block: time.Second}
			limit := RateLimit{Every: 30 * time.Millisecond, Burst: 20} // CloudflareLimit's shape: 20 + 100 per window
			if !limited {
				limit = NoRateLimit
			}
			p, err := NewCloudflare(CloudflareConfig{APIToken: "tok", HTTPClient: cf.Client(), Limit: limit, MaxWait: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			run(t, p)
			t.Logf("client limit %v: %d requests, %d throttled", limited, total(cf.Calls()), cf.Throttled())
			if limited && cf.Throttled() != 0 {
				t.Errorf("%d requests throttled with the client's limit on", cf.Throttled())
			}
			if !limited && cf.Throttled() == 0 {
				t.Error("nothing throttled without the client's limit: the load does not reach the host's limit")
			}
			cf.Close()
		}
	})
}

func total(calls map[string]int) (n int) {
	for _, c := range calls {
		n += c
	}
	return n
}
