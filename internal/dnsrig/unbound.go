package dnsrig

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// UnboundOptions configure StartUnbound.
type UnboundOptions struct {
	Dir         string
	IP          string
	Port        int
	ControlPort int    // unbound-control on IP:ControlPort (no certificates)
	StubZone    string // e.g. example.test: resolved from StubAddr, iteratively beneath it
	StubAddr    string // host:port of the zone's primary
	// TrustAnchor, a DS or DNSKEY record in zone-file form, makes Unbound
	// validate the stub zone and everything beneath it.
	TrustAnchor string
}

// Unbound is a running resolver.
type Unbound struct {
	Addr     string
	Dir      string
	conf     string
	proc     *process
	ctlAddr  string
	ctlBin   string
	stubZone string
}

// UnboundPath finds unbound, or returns "".
func UnboundPath() string { return findBinary("/usr/sbin/unbound", "/usr/bin/unbound") }

// StartUnbound runs an iterating Unbound that reaches the stub zone's
// primary and, through the delegations there, the nodes on loopback.
func StartUnbound(o UnboundOptions) (*Unbound, error) {
	bin := UnboundPath()
	if bin == "" {
		return nil, errors.New("unbound not found: apt-get install unbound")
	}
	host, port, _ := net.SplitHostPort(o.StubAddr)
	u := &Unbound{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), Dir: o.Dir, conf: filepath.Join(o.Dir, "unbound.conf"),
		ctlAddr: o.IP + "@" + strconv.Itoa(o.ControlPort), ctlBin: filepath.Join(filepath.Dir(bin), "unbound-control"),
		stubZone: o.StubZone}
	conf := fmt.Sprintf(`server:
	interface: %[1]s@%[2]d
	port: %[2]d
	directory: "%[3]s"
	chroot: ""
	username: ""
	pidfile: "%[3]s/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 1
	do-ip6: no
	do-daemonize: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	module-config: "%[8]s"
	local-zone: "test." nodefault
	qname-minimisation: no
	harden-referral-path: no
	num-threads: 1
stub-zone:
	name: "%[4]s"
	stub-addr: %[5]s@%[6]s
remote-control:
	control-enable: yes
	control-interface: %[1]s
	control-port: %[7]d
	control-use-cert: no
`, o.IP, o.Port, o.Dir, o.StubZone, host, port, o.ControlPort, modules(o.TrustAnchor))
	if o.TrustAnchor != "" {
		conf = strings.Replace(conf, "stub-zone:", fmt.Sprintf("\ttrust-anchor: %q\n\tval-log-level: 2\nstub-zone:", o.TrustAnchor), 1)
	}
	p, err := launch("unbound", o.Dir, u.conf, conf, u.Addr, o.StubZone, bin, "-d", "-c", u.conf)
	if err != nil {
		return nil, err
	}
	u.proc = p
	return u, nil
}

func modules(trustAnchor string) string {
	if trustAnchor != "" {
		return "validator iterator"
	}
	return "iterator"
}

// Stop ends Unbound and waits for it.
func (u *Unbound) Stop() { u.proc.stop() }

// Log returns Unbound's output so far.
func (u *Unbound) Log() string { return u.proc.log() }

// Flush empties the caches for the stub zone and the infrastructure cache
// (which remembers dead servers), for a cold start between scenarios.
func (u *Unbound) Flush() error {
	for _, args := range [][]string{{"flush_zone", u.stubZone}, {"flush_infra", "all"}, {"flush_requestlist"}} {
		out, err := exec.Command(u.ctlBin, append([]string{"-c", u.conf, "-s", u.ctlAddr}, args...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "ok") {
			return fmt.Errorf("unbound-control %v: %w %s", args, err, out)
		}
	}
	return nil
}
