package dnsrig

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// KnotPath finds knotd, or returns "".
func KnotPath() string { return findBinary("/usr/sbin/knotd", "/usr/bin/knotd") }

// StartKnot runs Knot DNS as the primary of a fresh zone that the TSIG key
// may update and transfer (Debian's knot package), signed by Knot itself
// when o.Signing asks for it.
func StartKnot(o PrimaryOptions) (*Primary, error) {
	knotd := KnotPath()
	if knotd == "" {
		return nil, errors.New("knotd not found: apt-get install knot")
	}
	p, zoneFile, err := preparePrimary(o)
	if err != nil {
		return nil, err
	}
	signing := ""
	switch o.Signing {
	case "nsec":
		signing = "\n    dnssec-signing: on\n    dnssec-policy: pmgtm-nsec"
	case "nsec3":
		signing = "\n    dnssec-signing: on\n    dnssec-policy: pmgtm-nsec3"
	}
	acl := "[update, transfer]"
	switch {
	case o.ReadOnlyKey:
		acl = "[transfer]"
	case p.TransferKeyName != "":
		acl = "[update]"
	}
	xfrKey, xfrACL, xfrRef := "", "", ""
	if p.TransferKeyName != "" {
		xfrKey = fmt.Sprintf("\n  - id: %s\n    algorithm: hmac-sha256\n    secret: %s", p.TransferKeyName, p.TransferKeySecret)
		xfrACL = fmt.Sprintf("\n  - id: pmgtm-xfr\n    key: %s\n    action: [transfer]", p.TransferKeyName)
		xfrRef = ", pmgtm-xfr"
	}
	conf := fmt.Sprintf(`server:
    rundir: "%[1]s"
    listen: %[2]s@%[3]d
control:
    listen: "%[1]s/knot.sock"
database:
    storage: "%[1]s"
log:
  - target: stderr
    any: info
key:
  - id: %[4]s
    algorithm: hmac-sha256
    secret: %[5]s%[10]s
acl:
  - id: pmgtm
    key: %[4]s
    action: %[8]s%[11]s
policy:
  - id: pmgtm-nsec
    algorithm: ecdsap256sha256
    single-type-signing: on
  - id: pmgtm-nsec3
    algorithm: ecdsap256sha256
    single-type-signing: on
    nsec3: on
    nsec3-iterations: 0
    nsec3-salt-length: 0
template:
  - id: default
    storage: "%[1]s"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
zone:
  - domain: %[6]s
    file: "%[7]s"
    acl: [pmgtm%[12]s]%[9]s
`, o.Dir, o.IP, o.Port, p.KeyName, p.KeySecret, o.Zone, zoneFile, acl, signing, xfrKey, xfrACL, xfrRef)
	confFile := filepath.Join(o.Dir, "knot.conf")
	return p.start(o.Signing, "knot", o.Dir, confFile, conf, p.Addr, o.Zone, knotd, "-c", confFile)
}

// start launches the server (as launch does) and, for a signed zone, waits
// until the server has signed it.
func (p *Primary) start(signing, name, dir, confFile, conf, addr, zone, bin string, args ...string) (*Primary, error) {
	proc, err := launch(name, dir, confFile, conf, addr, zone, bin, args...)
	if err != nil {
		return nil, err
	}
	p.proc = proc
	if signing != "" {
		if err := waitSigned(p.Addr, zone, 30*time.Second); err != nil {
			proc.stop()
			return nil, fmt.Errorf("%s: %w\n%s", name, err, proc.log())
		}
	}
	return p, nil
}

// preparePrimary makes a primary server's directory, address and fresh
// TSIG key, and writes its starting zone file (returned).
func preparePrimary(o PrimaryOptions) (*Primary, string, error) {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, "", err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	p := &Primary{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), Zone: o.Zone, KeyName: "pmgtm-test.",
		KeySecret: base64.StdEncoding.EncodeToString(secret), Dir: o.Dir}
	if o.TransferKey {
		_, _ = rand.Read(secret)
		p.TransferKeyName, p.TransferKeySecret = "pmgtm-xfr.", base64.StdEncoding.EncodeToString(secret)
	}
	zoneFile := filepath.Join(o.Dir, o.Zone+".zone")
	return p, zoneFile, os.WriteFile(zoneFile, []byte(zoneText(o)), 0o644)
}

// zoneText is the starting zone: SOA, the server as its NS, and o.Records.
func zoneText(o PrimaryOptions) string {
	return fmt.Sprintf("$ORIGIN %[1]s.\n$TTL 300\n@ SOA ns1.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 60\n@ NS ns1.%[1]s.\nns1 A %[2]s\n%[3]s\n",
		o.Zone, o.IP, strings.Join(o.Records, "\n"))
}
