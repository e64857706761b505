package failoverbench

import (
	"path/filepath"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
)

// Resolver is a recursive resolver under test. Start always starts a fresh
// process with an empty cache.
type Resolver interface {
	Name() string
	Version() string
	Start() (addr string, err error)
	Stop()
}

type unbound struct {
	dir string
	u   *dnsrig.Unbound
}

func (r *unbound) Name() string    { return "Unbound" }
func (r *unbound) Version() string { return commandVersion("unbound", "-V") }
func (r *unbound) Start() (string, error) {
	var err error
	r.u, err = dnsrig.StartUnbound(dnsrig.UnboundOptions{Dir: filepath.Join(r.dir, "unbound"), IP: "127.0.0.3", Port: 53, ControlPort: 8953,
		StubZone: "example.test", StubAddr: parentIP + ":53"})
	if err != nil {
		return "", err
	}
	return r.u.Addr, nil
}
func (r *unbound) Stop() { r.u.Stop() }

type kresd struct {
	dir string
	k   *dnsrig.Kresd
}

func (r *kresd) Name() string    { return "Knot Resolver" }
func (r *kresd) Version() string { return commandVersion("kresd", "--version") }
func (r *kresd) Start() (string, error) {
	var err error
	r.k, err = dnsrig.StartKresd(dnsrig.KresdOptions{Dir: filepath.Join(r.dir, "kresd"), IP: "127.0.0.4", Port: 53, RootIP: parentIP, Zone: "example.test"})
	if err != nil {
		return "", err
	}
	return r.k.Addr, nil
}
func (r *kresd) Stop() { r.k.Stop() }

type pdns struct {
	dir string
	p   *dnsrig.PdnsRecursor
}

func (r *pdns) Name() string    { return "PowerDNS Recursor" }
func (r *pdns) Version() string { return commandVersion("pdns_recursor", "--version") }
func (r *pdns) Start() (string, error) {
	var err error
	r.p, err = dnsrig.StartPdnsRecursor(dnsrig.PdnsOptions{Dir: filepath.Join(r.dir, "pdns"), IP: "127.0.0.5", Port: 53,
		Zone: "example.test", ZoneServer: parentIP + ":53"})
	if err != nil {
		return "", err
	}
	return r.p.Addr, nil
}
func (r *pdns) Stop() { r.p.Stop() }

// Resolvers returns the resolvers under test, working in dir.
func Resolvers(dir string) []Resolver {
	return []Resolver{&unbound{dir: dir}, &kresd{dir: dir}, &pdns{dir: dir}}
}
