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

// PdnsOptions configure StartPdnsRecursor.
type PdnsOptions struct {
	Dir        string
	IP         string
	Port       int
	Zone       string // forwarded (RD=0, referrals followed) to ZoneServer
	ZoneServer string // host:port
}

// PdnsRecursor is a running PowerDNS Recursor.
type PdnsRecursor struct {
	Addr string
	proc *process
}

// PdnsRecursorPath finds pdns_recursor, or returns "".
func PdnsRecursorPath() string {
	if _, err := os.Stat("/usr/sbin/pdns_recursor"); err == nil {
		return "/usr/sbin/pdns_recursor"
	}
	return ""
}

// StartPdnsRecursor runs PowerDNS Recursor with an empty cache, allowed to
// query loopback, sending the test zone to its primary.
func StartPdnsRecursor(o PdnsOptions) (*PdnsRecursor, error) {
	bin := PdnsRecursorPath()
	if bin == "" {
		return nil, errors.New("pdns_recursor not found: apt-get install pdns-recursor")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "recursor.conf"), nil, 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess(filepath.Join(o.Dir, "pdns.log"), bin, "--config-dir="+o.Dir, "--socket-dir="+o.Dir,
		"--daemon=no", "--write-pid=no", "--disable-syslog", "--log-timestamp=no", "--loglevel=3",
		"--local-address="+o.IP, "--local-port="+strconv.Itoa(o.Port), "--dont-query=",
		"--forward-zones="+o.Zone+"="+o.ZoneServer, "--dnssec=off", "--threads=1", "--setuid=", "--setgid=")
	if err != nil {
		return nil, err
	}
	r := &PdnsRecursor{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), proc: p}
	if err := waitAnswer(r.Addr, dns.Fqdn(o.Zone), dns.TypeSOA, 20*time.Second, p); err != nil {
		r.Stop()
		return nil, fmt.Errorf("pdns_recursor: %w\n%s", err, p.log())
	}
	return r, nil
}

// Stop ends the recursor.
func (r *PdnsRecursor) Stop() { r.proc.stop() }

// Log returns the recursor's output.
func (r *PdnsRecursor) Log() string { return r.proc.log() }
