// Package bind runs a real BIND 9 (Debian package bind9) on loopback for
// tests: one primary zone that accepts TSIG-signed updates and transfers.
package bind

import (
	"os"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// Server is a running named.
type Server = dnsrig.Primary

// Options configure Start. Zero values pick 127.0.0.1, a free port and
// the zone example.test.
type Options struct {
	IP      string
	Port    int
	Zone    string   // default example.test
	Records []string // extra zone-file lines, relative to the zone
	Signing string   // "nsec", "nsec3" or "" (unsigned)
	// ReadOnlyKey: the key may transfer the zone but not update it.
	ReadOnlyKey bool
	// Software is the primary server: "bind" (default), "knot" or "pdns".
	Software string
}

// Named returns the path of named; it skips the test when BIND is not
// installed, except in CI, where that is a failure.
func Named(t testing.TB) string {
	if p := dnsrig.NamedPath(); p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("named is missing in CI; .ci/run installs bind9")
	}
	t.Skip("BIND not installed (apt-get install bind9, or run make test)")
	return ""
}

func require(t testing.TB, path, packages string) {
	if path != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s missing in CI; make test installs it", packages)
	}
	t.Skipf("not installed: apt-get install %s, or run make test", packages)
}

// Start runs the primary server (named unless o.Software says otherwise)
// with a fresh zone and waits until it answers; the test's cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	switch o.Software {
	case "", "bind":
		Named(t)
	case "knot":
		require(t, dnsrig.KnotPath(), "knot")
	case "pdns":
		require(t, dnsrig.PowerDNSPath(), "pdns-server pdns-backend-sqlite3 sqlite3")
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = agentproc.FreePort(t, o.IP)
	}
	if o.Zone == "" {
		o.Zone = "example.test"
	}
	opts := dnsrig.BINDOptions{Dir: t.TempDir(), IP: o.IP, Port: o.Port, Zone: o.Zone, Records: o.Records, Signing: o.Signing, ReadOnlyKey: o.ReadOnlyKey}
	start := map[string]func(dnsrig.BINDOptions) (*Server, error){"": dnsrig.StartBIND, "bind": dnsrig.StartBIND,
		"knot": dnsrig.StartKnot, "pdns": dnsrig.StartPowerDNS}[o.Software]
	if start == nil {
		t.Fatalf("unknown primary server %q", o.Software)
	}
	s, err := start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
