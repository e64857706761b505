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
	// TransferKey: a second key, the only one that may transfer the zone.
	TransferKey bool
	// Software is the primary server: "bind" (default), "knot" or "pdns".
	Software string
}

// primaries are the servers Start can run: how to find each, the Debian
// packages that bring it, and how to start it.
var primaries = map[string]struct {
	path     func() string
	packages string
	start    func(dnsrig.PrimaryOptions) (*Server, error)
}{
	"bind": {dnsrig.NamedPath, "bind9", dnsrig.StartBIND},
	"knot": {dnsrig.KnotPath, "knot", dnsrig.StartKnot},
	"pdns": {dnsrig.PowerDNSPath, "pdns-server pdns-backend-sqlite3 sqlite3", dnsrig.StartPowerDNS},
}

// Start runs the primary server (named unless o.Software says otherwise)
// with a fresh zone and waits until it answers; the test's cleanup stops it.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Software == "" {
		o.Software = "bind"
	}
	p, ok := primaries[o.Software]
	if !ok {
		t.Fatalf("unknown primary server %q", o.Software)
	}
	if p.path() == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI; make test installs it", p.packages)
		}
		t.Skipf("not installed: apt-get install %s, or run make test", p.packages)
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
	opts := dnsrig.PrimaryOptions{Dir: t.TempDir(), IP: o.IP, Port: o.Port, Zone: o.Zone, Records: o.Records, Signing: o.Signing, ReadOnlyKey: o.ReadOnlyKey,
		TransferKey: o.TransferKey}
	s, err := p.start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}
