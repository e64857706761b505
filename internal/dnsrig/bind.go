package dnsrig

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/miekg/dns"
)

// PrimaryOptions configure StartBIND, StartKnot and StartPowerDNS.
type PrimaryOptions struct {
	Dir     string // working directory (created); holds config, zone and log
	IP      string
	Port    int
	Zone    string   // e.g. example.test
	Records []string // extra zone-file lines, relative to the zone
	// Signing signs the zone with BIND's own key and signature management
	// (dnssec-policy): "nsec" or "nsec3" (no opt-out, no salt, 0
	// iterations, as RFC 9276 advises); "" leaves it unsigned.
	Signing string
	// ReadOnlyKey lets the key transfer the zone but not update it, like a
	// server whose update policy leaves pmgtm out.
	ReadOnlyKey bool
	// TransferKey makes a second key, the only one that may transfer the
	// zone; the first may then only update it.
	TransferKey bool
	// Root also serves a fake root zone delegating Zone to this server,
	// for resolvers that iterate from root hints (Knot Resolver). Port
	// must then be 53, where root hints point.
	Root bool
	// StatsPort, when set, opens BIND's JSON statistics channel on
	// IP:StatsPort (BIND only; see Primary.Stats).
	StatsPort int
}

// Primary is a running primary server of one zone (BIND, Knot DNS or
// PowerDNS) that a TSIG key may update and transfer.
type Primary struct {
	Addr      string // host:port
	Zone      string // without trailing dot
	KeyName   string
	KeySecret string // base64, hmac-sha256
	// The key that may transfer the zone when PrimaryOptions.TransferKey
	// is set; empty otherwise (then KeyName transfers).
	TransferKeyName   string
	TransferKeySecret string
	Dir               string
	proc              *process
	statsURL          string
}

// ReadKey is the key that may transfer the zone: the transfer key when
// there is one, else the update key.
func (b *Primary) ReadKey() (name, secret string) {
	if b.TransferKeyName != "" {
		return b.TransferKeyName, b.TransferKeySecret
	}
	return b.KeyName, b.KeySecret
}

// ServerStats are BIND's server counters: requests by opcode (QUERY,
// UPDATE) and queries by type (AXFR, SOA, ...).
type ServerStats struct {
	Opcodes map[string]int64 `json:"opcodes"`
	QTypes  map[string]int64 `json:"qtypes"`
}

// Stats reads the statistics channel (PrimaryOptions.StatsPort).
func (b *Primary) Stats() (ServerStats, error) {
	var s ServerStats
	if b.statsURL == "" {
		return s, errors.New("no statistics channel: set PrimaryOptions.StatsPort")
	}
	resp, err := http.Get(b.statsURL)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// NamedPath finds named, or returns "".
func NamedPath() string { return findBinary("/usr/sbin/named", "/usr/bin/named") }

// StartBIND runs named as the primary of a fresh zone that the TSIG key
// may update and transfer, and waits until it answers.
func StartBIND(o PrimaryOptions) (*Primary, error) {
	named := NamedPath()
	if named == "" {
		return nil, errors.New("named not found: apt-get install bind9")
	}
	b, zoneFile, err := preparePrimary(o)
	if err != nil {
		return nil, err
	}
	xfrName, xfrClause := b.KeyName, ""
	if b.TransferKeyName != "" {
		xfrName = b.TransferKeyName
		xfrClause = fmt.Sprintf("\nkey %q { algorithm hmac-sha256; secret %q; };", b.TransferKeyName, b.TransferKeySecret)
	}
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { %[3]s; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	minimal-responses yes;
};
controls { };
key "%[4]s" { algorithm hmac-sha256; secret "%[5]s"; };%[11]s
zone "%[6]s" {
	type primary;
	file "%[7]s";
	allow-update { %[9]s; };
	allow-transfer { key "%[10]s"; };%[8]s
};
`, o.Dir, o.Port, o.IP, b.KeyName, b.KeySecret, o.Zone, zoneFile, signingClause(o.Signing), map[bool]string{false: `key "` + b.KeyName + `"`, true: "none"}[o.ReadOnlyKey],
		xfrName, xfrClause)
	if o.Signing == "nsec3" {
		conf = "dnssec-policy \"pmgtm-nsec3\" {\n\tkeys { csk lifetime unlimited algorithm ecdsap256sha256; };\n\tnsec3param iterations 0 optout no salt-length 0;\n};\n" + conf
	}
	if o.Root {
		rootFile := filepath.Join(o.Dir, "root.zone")
		root := fmt.Sprintf("$TTL 86400\n@ SOA a.root.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 60\n@ NS a.root.%[1]s.\na.root.%[1]s. A %[2]s\n%[1]s. NS ns1.%[1]s.\nns1.%[1]s. A %[2]s\n", o.Zone, o.IP)
		if err := os.WriteFile(rootFile, []byte(root), 0o644); err != nil {
			return nil, err
		}
		conf += fmt.Sprintf("zone \".\" { type primary; file %q; };\n", rootFile)
	}
	if o.StatsPort != 0 {
		conf += fmt.Sprintf("statistics-channels { inet %s port %d allow { %s; }; };\n", o.IP, o.StatsPort, o.IP)
		b.statsURL = fmt.Sprintf("http://%s/json/v1/server", net.JoinHostPort(o.IP, strconv.Itoa(o.StatsPort)))
	}
	confFile := filepath.Join(o.Dir, "named.conf")
	return b.start(o.Signing, "named", o.Dir, confFile, conf, b.Addr, o.Zone, named, "-g", "-c", confFile)
}

// waitSigned waits until the zone's SOA comes with a signature: named signs
// a zone shortly after loading it.
func waitSigned(addr, zone string, timeout time.Duration) error {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		m := new(dns.Msg).SetQuestion(dns.Fqdn(zone), dns.TypeSOA)
		m.SetEdns0(1232, true)
		r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr)
		if err != nil {
			continue
		}
		for _, rr := range r.Answer {
			if _, ok := rr.(*dns.RRSIG); ok {
				return nil
			}
		}
	}
	return fmt.Errorf("zone %s not signed within %s", zone, timeout)
}

func signingClause(signing string) string {
	switch signing {
	case "nsec":
		return "\n\tdnssec-policy default;"
	case "nsec3":
		return "\n\tdnssec-policy \"pmgtm-nsec3\";"
	}
	return ""
}

// Stop ends the server and waits for it.
func (b *Primary) Stop() { b.proc.stop() }
