package dnsrig

import (
	"errors"
	"net"
	"path/filepath"
	"strconv"
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
func PdnsRecursorPath() string { return findBinary("/usr/sbin/pdns_recursor") }

// StartPdnsRecursor runs PowerDNS Recursor with an empty cache, allowed to
// query loopback, sending the test zone to its primary.
func StartPdnsRecursor(o PdnsOptions) (*PdnsRecursor, error) {
	bin := PdnsRecursorPath()
	if bin == "" {
		return nil, errors.New("pdns_recursor not found: apt-get install pdns-recursor")
	}
	addr := net.JoinHostPort(o.IP, strconv.Itoa(o.Port))
	// An empty recursor.conf: every setting is on the command line.
	p, err := launch("pdns", o.Dir, filepath.Join(o.Dir, "recursor.conf"), "", addr, o.Zone, bin,
		"--config-dir="+o.Dir, "--socket-dir="+o.Dir,
		"--daemon=no", "--write-pid=no", "--disable-syslog", "--log-timestamp=no", "--loglevel=3",
		"--local-address="+o.IP, "--local-port="+strconv.Itoa(o.Port), "--dont-query=",
		"--forward-zones="+o.Zone+"="+o.ZoneServer, "--dnssec=off", "--threads=1", "--setuid=", "--setgid=")
	if err != nil {
		return nil, err
	}
	return &PdnsRecursor{Addr: addr, proc: p}, nil
}

// Stop ends the recursor.
func (r *PdnsRecursor) Stop() { r.proc.stop() }

// Log returns the recursor's output.
func (r *PdnsRecursor) Log() string { return r.proc.log() }
