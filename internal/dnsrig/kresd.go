package dnsrig

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// KresdOptions configure StartKresd.
type KresdOptions struct {
	Dir    string
	IP     string
	Port   int
	RootIP string // the fake root (BINDOptions.Root) on RootIP:53
	Zone   string // the test zone, e.g. example.test
}

// Kresd is a running Knot Resolver.
type Kresd struct {
	Addr string
	opts KresdOptions
	proc *process
}

// KresdPath finds kresd, or returns "".
func KresdPath() string {
	if _, err := os.Stat("/usr/sbin/kresd"); err == nil {
		return "/usr/sbin/kresd"
	}
	return ""
}

// StartKresd runs Knot Resolver with an empty cache, iterating from a fake
// root. Loopback addresses in delegations are allowed, the special-use
// test. name is passed through, and there is no trust anchor.
func StartKresd(o KresdOptions) (*Kresd, error) {
	bin := KresdPath()
	if bin == "" {
		return nil, errors.New("kresd not found: apt-get install knot-resolver")
	}
	_ = os.RemoveAll(o.Dir) // a fresh cache every start
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
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
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess(filepath.Join(o.Dir, "..", filepath.Base(o.Dir)+".log"), bin, "-n", "-q", "-c", confFile, o.Dir)
	if err != nil {
		return nil, err
	}
	k := &Kresd{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), opts: o, proc: p}
	if err := waitAnswer(k.Addr, dns.Fqdn(o.Zone), dns.TypeSOA, 20*time.Second, p); err != nil {
		k.Stop()
		return nil, fmt.Errorf("kresd: %w\n%s", err, p.log())
	}
	return k, nil
}

// Stop ends kresd.
func (k *Kresd) Stop() { k.proc.stop() }

// Log returns kresd's output.
func (k *Kresd) Log() string { return k.proc.log() }
