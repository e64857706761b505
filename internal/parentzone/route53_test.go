package parentzone

import (
	"fmt"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/route53"
)

// TestRoute53Cost: 100 hostnames of 2 nodes, in a hosted zone that already
// holds 3,000 other record sets, are created and destroyed with one zone
// lookup, one listing per run and one change batch per hostname and run
// (its marker and NS set together): a write never lists the zone again, so
// its cost does not grow with the zone. The emulator's throttle is on (50
// requests/s here; the service allows 5 per account) and throttled calls
// are retried, not failed.
func TestRoute53Cost(t *testing.T) {
	if testing.Short() {
		t.Skip("100 hostnames")
	}
	emu := route53.New("AKIDCOST", testZone)
	defer emu.Close()
	for i := range 3000 {
		emu.PutSet(testZone, route53.Set(fmt.Sprintf("www%d.%s.", i, testZone), "A", 300, "192.0.2.1"))
	}
	emu.RateLimit = 50
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", emu.URL())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	p, err := NewRoute53(Route53Config{AccessKeyID: "AKIDCOST", SecretAccessKey: "secret", MaxRetries: 10, Limit: NoRateLimit})
	if err != nil {
		t.Fatal(err)
	}
	const n = costHostnames
	createThenDestroy(t, p, n, 1)
	calls, throttled := emu.Calls(), emu.Throttled()
	t.Logf("calls for %d hostnames created and destroyed in a zone of 3,000 sets: %v; throttled %d", n, calls, throttled)
	pages := (3000+2*n)/300 + 1
	if got := calls["GET /hostedzonesbyname"]; got > 1+throttled {
		t.Errorf("%d zone lookups, want 1", got)
	}
	if got := calls["GET /hostedzone/:id/rrset"]; got > 2*pages+throttled {
		t.Errorf("%d listing calls, want one listing per run (%d pages each)", got, pages)
	}
	if got := calls["POST /hostedzone/:id/rrset"]; got > 2*n+throttled {
		t.Errorf("%d change batches, want one per hostname per run (%d)", got, 2*n)
	}
	if throttled == 0 {
		t.Error("the throttle never bit: the test does not exercise it")
	}
	if left := len(emu.Sets(testZone)); left != 3000+2 { // the others, and the apex NS and SOA
		t.Errorf("%d sets left", left)
	}
}
