package dnsrig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// KresdOptions configure StartKresd.
type KresdOptions struct {
	Dir    string
	IP     string
	Port   int
	RootIP string // the fake root (PrimaryOptions.Root) on RootIP:53
	Zone   string // the test zone, e.g. example.test
}

// Kresd is a running Knot Resolver.
type Kresd struct {
	Addr string
	opts KresdOptions
	proc *process
}

// KresdPath finds kresd, or returns "".
func KresdPath() string { return findBinary("/usr/sbin/kresd") }

// StartKresd runs Knot Resolver with an empty cache, iterating from a fake
// root. Loopback addresses in delegations are allowed, the special-use
// test. name is passed through, and there is no trust anchor.
func StartKresd(o KresdOptions) (*Kresd, error) {
	bin := KresdPath()
	if bin == "" {
		return nil, errors.New("kresd not found: apt-get install knot-resolver")
	}
	_ = os.RemoveAll(o.Dir) // a fresh cache every start
	conf := fmt.Sprintf(`net.listen('%[1]s', %[2]d, { kind = 'dns' })
net.ipv6 = false
trust_anchors.remove('.')
modules.load('hints > iterate')
hints.root({['a.root.%[4]s.'] = '%[3]s'})
policy.add(policy.all(policy.FLAGS({'ALLOW_LOCAL'})))
policy.add(policy.suffix(policy.PASS, {todname('test.')}))
cache.open(10 * MB, 'lmdb://%[5]s/cache')
`, o.IP, o.Port, o.RootIP, o.Zone, o.Dir)
	confFile := filepath.Join(o.Dir, "kresd.conf")
	k := &Kresd{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), opts: o}
	p, err := launch("kresd", o.Dir, confFile, conf, k.Addr, o.Zone, bin, "-n", "-q", "-c", confFile, o.Dir)
	if err != nil {
		return nil, err
	}
	k.proc = p
	return k, nil
}

// Stop ends kresd.
func (k *Kresd) Stop() { k.proc.stop() }

// Log returns kresd's output.
func (k *Kresd) Log() string { return k.proc.log() }
