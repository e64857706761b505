package parentzone

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/libdns/libdns"
)

// Record is one record in the parent zone, in canonical form.
type Record struct {
	Name  string // relative to the zone, lower case; "@" is the apex
	Type  string // A, AAAA, NS, TXT, CNAME, ...
	TTL   uint32 // seconds
	Value string // an address, a fully qualified lower-case target, or text

	native libdns.Record // as the backend listed it, to delete exactly it
}

func (r Record) String() string {
	return fmt.Sprintf("%s %d %s %s", r.Name, r.TTL, r.Type, r.Value)
}

// recordKey identifies a record regardless of TTL. A struct, not a joined
// string: the zone cache compares every record against it on each write,
// and building a string per record made a write cost allocations in
// proportion to the zone's size.
type recordKey struct{ name, rtype, value string }

func (r Record) key() recordKey { return recordKey{r.Name, r.Type, r.Value} }

// fromLibdns converts a listed record. Names and targets are lower-cased
// and targets made fully qualified, so records compare across backends.
func fromLibdns(rec libdns.Record) Record {
	rr := rec.RR()
	r := Record{Name: strings.ToLower(rr.Name), Type: strings.ToUpper(rr.Type),
		TTL: uint32(rr.TTL / time.Second), Value: rr.Data, native: rec}
	if r.Name == "" {
		r.Name = "@"
	}
	switch r.Type {
	case "A", "AAAA":
		if a, err := netip.ParseAddr(rr.Data); err == nil {
			r.Value = a.String()
		}
	case "NS", "CNAME":
		r.Value = fqdn(rr.Data)
	case "TXT":
		if t, ok := rec.(libdns.TXT); ok {
			r.Value = t.Text
		}
	}
	return r
}

// toLibdns renders a record for the backend.
func (r Record) toLibdns() (libdns.Record, error) {
	ttl := time.Duration(r.TTL) * time.Second
	switch r.Type {
	case "A", "AAAA":
		ip, err := netip.ParseAddr(r.Value)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", r, err)
		}
		return libdns.Address{Name: r.Name, TTL: ttl, IP: ip}, nil
	case "NS":
		return libdns.NS{Name: r.Name, TTL: ttl, Target: fqdn(r.Value)}, nil
	case "TXT":
		return libdns.TXT{Name: r.Name, TTL: ttl, Text: r.Value}, nil
	}
	return nil, fmt.Errorf("record %s: pmgtm writes only A, AAAA, NS and TXT records", r)
}

func fqdn(name string) string {
	name = strings.ToLower(name)
	if !strings.HasSuffix(name, ".") {
		name += "."
	}
	return name
}

// beneath reports whether relative name n lies strictly beneath relative
// name parent ("@" is the apex).
func beneath(n, parent string) bool {
	if parent == "@" {
		return n != "@"
	}
	return strings.HasSuffix(n, "."+parent)
}

// txtEscaper escapes text inside a quoted TXT string (RFC 1035 §5.1).
var txtEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// quoteTXT renders text as the zone-file form APIs take for TXT values
// (Route 53 requires it, Cloudflare recommends it): quoted strings of at
// most 255 octets each.
func quoteTXT(s string) string {
	var parts []string
	for len(s) > 0 || len(parts) == 0 {
		n := min(len(s), 255)
		parts = append(parts, `"`+txtEscaper.Replace(s[:n])+`"`)
		s = s[n:]
	}
	return strings.Join(parts, " ")
}

// unquoteTXT reads a TXT value in that form back into its text: the
// quoted strings joined, escapes undone; a value without quotes (a record
// made by hand) is the text itself.
func unquoteTXT(v string) string {
	if !strings.Contains(v, `"`) {
		return v
	}
	var b strings.Builder
	in, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case esc:
			b.WriteByte(c)
			esc = false
		case c == '\\' && in:
			esc = true
		case c == '"':
			in = !in
		case in:
			b.WriteByte(c)
		}
	}
	return b.String()
}
