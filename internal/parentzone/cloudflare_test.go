package parentzone

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/cloudflare"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
)

func cloudflareBackendFor(t *testing.T, cf *cloudflare.Emulator, token, zoneID string) Backend {
	t.Helper()
	p, err := NewCloudflare(CloudflareConfig{APIToken: token, ZoneID: zoneID, HTTPClient: cf.Client(), Limit: NoRateLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var ns1 = []RRSet{{Type: "NS", TTL: 300, Values: []string{"lb1.example.test.", "lb2.example.test."}}}

// TestCloudflareLeastPrivilege: a token with Zone.DNS:Edit on one zone and
// nothing else (what the docs ask for) works when zone_id is set; without
// zone_id the zone lookup needs Zone:Read, and the error says so.
func TestCloudflareLeastPrivilege(t *testing.T) {
	cf := cloudflare.New("full-token", testZone, "other.test")
	defer cf.Close()
	id := cf.ZoneID(testZone)
	cf.Scoped = map[string]cloudflare.Scope{"dns-edit-only": {Zones: []string{id}}}
	ctx := context.Background()

	m := newManager(t, cloudflareBackendFor(t, cf, "dns-edit-only", id), "default")
	if err := m.Ensure(ctx, testZone, "api", ns1, EnsureOptions{}); err != nil {
		t.Fatalf("scoped token with zone_id: %v", err)
	}
	if err := m.Release(ctx, testZone, "api", EnsureOptions{Wrote: ns1}); err != nil {
		t.Fatalf("release: %v", err)
	}
	if n := cf.Count("GET /zones"); n != 0 {
		t.Errorf("%d zone lookups with zone_id set", n)
	}

	_, err := newManager(t, cloudflareBackendFor(t, cf, "dns-edit-only", ""), "default").Lookup(ctx, testZone, "api")
	if err == nil || !strings.Contains(err.Error(), "Zone:Read") || !strings.Contains(err.Error(), "zone_id") {
		t.Errorf("lookup without Zone:Read: %v", err)
	}
	// The token cannot reach another zone, even with its id.
	_, err = newManager(t, cloudflareBackendFor(t, cf, "dns-edit-only", cf.ZoneID("other.test")), "default").Lookup(ctx, "other.test", "api")
	if err == nil || !strings.Contains(err.Error(), "9109") {
		t.Errorf("another zone: %v", err)
	}
	if _, err := NewCloudflare(CloudflareConfig{APIToken: "t", ZoneID: "example.test"}); err == nil || !strings.Contains(err.Error(), "32 hex digits") {
		t.Errorf("a zone name as zone_id: %v", err)
	}
}

// TestCloudflareEdgeErrors: HTML error pages from the edge (not the API's
// JSON) are retried, and a create that had in fact gone through (an
// identical record exists) counts as done.
func TestCloudflareEdgeErrors(t *testing.T) {
	cf := cloudflare.New("tok", testZone)
	defer cf.Close()
	cf.HTMLErrors = true
	p := cloudflareBackendFor(t, cf, "tok", "")
	m := newManager(t, p, "default")
	ctx := context.Background()
	cf.Inject(faults.Fault{Method: "POST", PathSuffix: "/dns_records/batch", Count: 2, Status: 502})
	cf.Inject(faults.Fault{Method: "GET", PathSuffix: "/dns_records", Count: 1, Status: 503})
	if err := m.Ensure(ctx, testZone, "api", ns1, EnsureOptions{}); err != nil {
		t.Fatalf("ensure through edge errors: %v", err)
	}
	if s := fresh(t, p, "api"); len(s.Of("NS")) != 2 {
		t.Fatalf("after edge errors: %+v", s)
	}
	// Creating what exists already (a retried create) is success.
	if _, err := p.AppendRecords(ctx, testZone+".", []libdns.Record{libdns.NS{Name: "api", TTL: 300 * time.Second, Target: "lb1.example.test."}}); err != nil {
		t.Errorf("identical record: %v", err)
	}
	if err := m.Release(ctx, testZone, "api", EnsureOptions{Wrote: ns1}); err != nil {
		t.Fatal(err)
	}
}

// TestCloudflareCost: 100 hostnames of 2 nodes are created and destroyed
// with one zone lookup and one listing per manager, one batch request per
// hostname and run (its marker and NS records in one transaction), and no
// lookup before a delete, inside the documented rate limit (switched on,
// scaled down: 100 requests per 2 s, then a 1 s block) with its blocks
// waited out.
func TestCloudflareCost(t *testing.T) {
	if testing.Short() {
		t.Skip("100 hostnames")
	}
	cf := cloudflare.New("tok", testZone)
	defer cf.Close()
	for i := range 300 { // a zone that holds other records
		cf.AddRecord(testZone, cloudflare.Record{Name: fmt.Sprintf("www%d.%s", i, testZone), Type: "A", Content: "192.0.2.1", TTL: 300})
	}
	cf.Limit = cloudflare.RateLimit{Requests: 100, Window: 2 * time.Second, Block: time.Second}
	p := cloudflareBackendFor(t, cf, "tok", "")
	const n = costHostnames
	createThenDestroy(t, p, n, 1)
	calls := cf.Calls()
	t.Logf("calls for %d hostnames created and destroyed: %v; throttled %d", n, calls, cf.Throttled())
	if calls["GET /zones"] != 1 {
		t.Errorf("%d zone lookups, want 1 per process", calls["GET /zones"])
	}
	// One batch per hostname to create (marker + 2 NS) and one to delete;
	// reads: one listing per manager (one page here).
	if got, want := calls["POST /zones/:id/dns_records/batch"], 2*n; got > want+cf.Throttled() {
		t.Errorf("%d batches, want %d", got, want)
	}
	if got := calls["POST /zones/:id/dns_records"] + calls["DELETE /zones/:id/dns_records/:rid"]; got != 0 {
		t.Errorf("%d single-record writes, want none", got)
	}
	if got := calls["GET /zones/:id/dns_records"]; got > 2+cf.Throttled() {
		t.Errorf("%d record listings or lookups, want one listing per run (2)", got)
	}
	if cf.Throttled() == 0 {
		t.Error("the rate limit never bit: the test does not exercise it")
	}
	if left := len(cf.Records(testZone)); left != 300 {
		t.Errorf("%d records left, want the 300 others", left)
	}
}

// costHostnames is how many hostnames the cost tests and benchmarks write.
const costHostnames = 100

// createThenDestroy creates n hostnames of ns1 in one run (one manager,
// as one terraform command) and destroys them in the next, with parallel
// resources at a time, as terraform's -parallelism runs them.
func createThenDestroy(t testing.TB, p Backend, n, parallel int) {
	t.Helper()
	ctx := context.Background()
	each := func(op func(name string) error) {
		t.Helper()
		names := make(chan string)
		errs := make(chan error, parallel)
		var wg sync.WaitGroup
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				failed := false
				for name := range names { // drained to the end, so the sender never blocks
					if failed {
						continue
					}
					if err := op(name); err != nil {
						errs <- err
						failed = true
					}
				}
			}()
		}
		for i := range n {
			names <- fmt.Sprintf("h%d", i)
		}
		close(names)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	m := newManager(t, p, "default")
	each(func(name string) error { return m.Ensure(ctx, testZone, name, ns1, EnsureOptions{}) })
	m = newManager(t, p, "default")
	each(func(name string) error { return m.Release(ctx, testZone, name, EnsureOptions{Wrote: ns1}) })
}
