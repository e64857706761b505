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
type Server = dnsrig.BIND

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

// Start runs named with a fresh zone and waits until it answers; the test's
// cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	Named(t)
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = agentproc.FreePort(t, o.IP)
	}
	if o.Zone == "" {
		o.Zone = "example.test"
	}
	s, err := dnsrig.StartBIND(dnsrig.BINDOptions{Dir: t.TempDir(), IP: o.IP, Port: o.Port, Zone: o.Zone, Records: o.Records, Signing: o.Signing, ReadOnlyKey: o.ReadOnlyKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
