package dnsrig

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// PowerDNSPath finds pdns_server, or returns "".
func PowerDNSPath() string { return findBinary("/usr/sbin/pdns_server", "/usr/bin/pdns_server") }

// pdnsSchema is Debian's schema for the gsqlite3 backend.
const pdnsSchema = "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql"

// StartPowerDNS runs PowerDNS Authoritative with the gsqlite3 backend (the
// one of Debian's backends that supports RFC 2136) as the primary of a fresh
// zone that the TSIG key may update and transfer, live-signed when
// o.Signing asks for it.
func StartPowerDNS(o PrimaryOptions) (*Primary, error) {
	server := PowerDNSPath()
	pdnsutil := findBinary("/usr/bin/pdnsutil", "/usr/sbin/pdnsutil")
	sqlite := findBinary("/usr/bin/sqlite3")
	if server == "" || pdnsutil == "" || sqlite == "" {
		return nil, errors.New("pdns_server, pdnsutil or sqlite3 not found: apt-get install pdns-server pdns-backend-sqlite3 sqlite3")
	}
	p, zoneFile, err := preparePrimary(o)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(o.Dir, "pdns.sqlite3")
	schema, err := os.ReadFile(pdnsSchema)
	if err != nil {
		return nil, err
	}
	if out, err := runWithInput(string(schema), sqlite, db); err != nil {
		return nil, fmt.Errorf("sqlite3 schema: %w\n%s", err, out)
	}
	conf := fmt.Sprintf(`launch=gsqlite3
gsqlite3-database=%[1]s
gsqlite3-dnssec=yes
local-address=%[2]s
local-port=%[3]d
socket-dir=%[4]s
guardian=no
daemon=no
write-pid=no
dnsupdate=yes
allow-dnsupdate-from=127.0.0.0/8
allow-axfr-ips=
disable-axfr=no
primary=yes
loglevel=4
`, db, o.IP, o.Port, o.Dir)
	confFile := filepath.Join(o.Dir, "pdns.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"load-zone", o.Zone, zoneFile},
		{"import-tsig-key", p.KeyName, "hmac-sha256", p.KeySecret},
		{"set-meta", o.Zone, "TSIG-ALLOW-AXFR", cmp.Or(p.TransferKeyName, p.KeyName)},
		{"set-meta", o.Zone, "SOA-EDIT-DNSUPDATE", "INCREASE"},
	}
	if p.TransferKeyName != "" {
		steps = append(steps, []string{"import-tsig-key", p.TransferKeyName, "hmac-sha256", p.TransferKeySecret})
	}
	if !o.ReadOnlyKey {
		steps = append(steps, []string{"set-meta", o.Zone, "TSIG-ALLOW-DNSUPDATE", p.KeyName})
	}
	switch o.Signing {
	case "nsec":
		steps = append(steps, []string{"secure-zone", o.Zone})
	case "nsec3":
		steps = append(steps, []string{"secure-zone", o.Zone}, []string{"set-nsec3", o.Zone, "1 0 0 -"})
	}
	if o.Signing != "" {
		steps = append(steps, []string{"rectify-zone", o.Zone})
	}
	for _, s := range steps {
		if out, err := exec.Command(pdnsutil, append([]string{"--config-dir=" + o.Dir}, s...)...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pdnsutil %v: %w\n%s", s, err, out)
		}
	}
	return p.start(o.Signing, "pdns", o.Dir, "", "", p.Addr, o.Zone, server, "--config-dir="+o.Dir, "--daemon=no", "--guardian=no")
}

func runWithInput(input, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	go func() {
		_, _ = stdin.Write([]byte(input))
		stdin.Close()
	}()
	return cmd.CombinedOutput()
}
