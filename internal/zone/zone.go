package zone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Ranges accepted for TTLs and SOA timers, in seconds.
const (
	MinTTL       = 1
	MaxAnswerTTL = 86400
	MaxNSTTL     = 604800
	MaxSOATimer  = 2147483647 // RFC 2181 §8: TTL-like values are 31-bit
	MaxAddresses = 16         // per family; a node rarely has more than one
	MaxNSCount   = 16
	MaxBodyBytes = 64 << 10
)

// Zone is the canonical form of a zone: names lower case and fully
// qualified, addresses in their shortest form and sorted, every default
// filled in. Its JSON encoding is what the agent stores and returns.
type Zone struct {
	Name        string   `json:"zone"`
	Serial      uint32   `json:"serial"`
	IPv4        []string `json:"ipv4"`
	IPv6        []string `json:"ipv6"`
	AnswerTTL   uint32   `json:"answer_ttl"`
	Nameservers []string `json:"nameservers"`
	NSTTL       uint32   `json:"ns_ttl"`
	SOA         SOA      `json:"soa"`
	// Self-fencing (all optional): see fencing.go.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
	Drain       bool         `json:"drain,omitempty"`
	Withdraw    string       `json:"withdraw,omitempty"`
	Peers       []Peer       `json:"peers,omitempty"`
	// PeerKey authenticates health answers between the hostname's nodes
	// (base64 of PeerKeyBytes random bytes, the same on every node): see
	// health.go. Without it no peer's "ok" is believed.
	PeerKey string `json:"peer_key,omitempty"`
	// ACMEChallenge, when set, is where _acme-challenge.<zone> points (a
	// CNAME, answered in every fencing state): a name outside the zone that
	// an ACME client can write, for DNS-01 certificates of the hostname
	// and its wildcard.
	ACMEChallenge string `json:"acme_challenge,omitempty"`
	// Static records at the zone's name (CAA, TXT, HTTPS): see static.go.
	Static
}

// SOA holds the start-of-authority fields. Minimum is the negative-caching
// TTL (RFC 2308) used for NODATA answers.
type SOA struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Refresh uint32 `json:"refresh"`
	Retry   uint32 `json:"retry"`
	Expire  uint32 `json:"expire"`
	Minimum uint32 `json:"minimum"`
}

// Body is what a client sends; optional numbers are pointers so that an
// explicit 0 is rejected rather than taken as "use the default".
type Body struct {
	Name        string           `json:"zone"`
	Serial      *int64           `json:"serial"`
	IPv4        []string         `json:"ipv4"`
	IPv6        []string         `json:"ipv6"`
	AnswerTTL   *int64           `json:"answer_ttl"`
	Nameservers []string         `json:"nameservers"`
	NSTTL       *int64           `json:"ns_ttl"`
	SOA         *SOABody         `json:"soa"`
	HealthCheck *HealthCheckBody `json:"health_check"`
	Drain       bool             `json:"drain"`
	Withdraw    string           `json:"withdraw"`
	Peers       []Peer           `json:"peers"`
	PeerKey     string           `json:"peer_key"`
	// ACMEChallenge is the CNAME target of _acme-challenge.<zone>.
	ACMEChallenge string `json:"acme_challenge"`
	Static
}

// SOABody is the client's form of SOA; every field is optional.
type SOABody struct {
	MName   string `json:"mname"`
	RName   string `json:"rname"`
	Refresh *int64 `json:"refresh"`
	Retry   *int64 `json:"retry"`
	Expire  *int64 `json:"expire"`
	Minimum *int64 `json:"minimum"`
}

// Defaults for fields a body leaves out.
const (
	DefaultAnswerTTL = 30
	DefaultNSTTL     = 300
	DefaultRefresh   = 3600
	DefaultRetry     = 600
	DefaultExpire    = 604800
)

// FieldError names the offending field (JSON path) and what is wrong with it.
type FieldError struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Decode reads a JSON body strictly (unknown fields and trailing data are
// errors) and returns its canonical zone. name is the zone named by the
// request path; the body's "zone", when present, must match it. The serial
// is left as given (0 when absent); Assign sets it. Callers bound the body
// size (MaxBodyBytes) before reading it.
func Decode(data []byte, name string) (Zone, *FieldError) {
	b, fe := decodeBody(data)
	if fe != nil {
		return Zone{}, fe
	}
	return b.Canonical(name)
}

func decodeBody(data []byte) (Body, *FieldError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var b Body
	if err := dec.Decode(&b); err != nil {
		return Body{}, jsonError(err)
	}
	if dec.More() {
		return Body{}, fieldErr("", "body has data after the JSON object; send exactly one object")
	}
	return b, nil
}

// jsonError turns encoding/json errors into field errors a person can act on.
func jsonError(err error) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return fieldErr(typeErr.Field, "expected %s, got JSON %s", typeErr.Type.String(), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return fieldErr("", "body is not valid JSON (at byte %d): %v", syntaxErr.Offset, err)
	case errors.Is(err, io.EOF):
		return fieldErr("", "body is empty; send a JSON zone object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(f, "unknown field; accepted fields are %s", strings.Join(bodyFields(reflect.TypeFor[Body]()), ", "))
	default:
		return fieldErr("", "body is not valid JSON: %v", err)
	}
}

// Canonical validates the body and fills in defaults.
func (b Body) Canonical(pathName string) (Zone, *FieldError) {
	name, err := CanonicalName(pathName)
	if err != nil {
		return Zone{}, fieldErr("zone", "%v", err)
	}
	if b.Name != "" {
		bodyName, err := CanonicalName(b.Name)
		if err != nil {
			return Zone{}, fieldErr("zone", "%v", err)
		}
		if bodyName != name {
			return Zone{}, fieldErr("zone", "body names zone %s but the request path names %s; they must agree", bodyName, name)
		}
	}
	if strings.Count(name, ".") < 2 {
		return Zone{}, fieldErr("zone", "%s is a top-level domain; a GTM hostname has at least two labels", name)
	}
	z := Zone{Name: name}
	var fe *FieldError
	if b.Serial != nil {
		if z.Serial, fe = rangeField("serial", *b.Serial, 1, 4294967295); fe != nil {
			return Zone{}, fe
		}
	}
	if z.IPv4, fe = addresses("ipv4", b.IPv4, true); fe != nil {
		return Zone{}, fe
	}
	if z.IPv6, fe = addresses("ipv6", b.IPv6, false); fe != nil {
		return Zone{}, fe
	}
	if len(z.IPv4)+len(z.IPv6) == 0 {
		return Zone{}, fieldErr("ipv4", "the zone has no address; give at least one address in ipv4 or ipv6")
	}
	if z.AnswerTTL, fe = optionalRange("answer_ttl", b.AnswerTTL, DefaultAnswerTTL, MinTTL, MaxAnswerTTL); fe != nil {
		return Zone{}, fe
	}
	if z.NSTTL, fe = optionalRange("ns_ttl", b.NSTTL, DefaultNSTTL, MinTTL, MaxNSTTL); fe != nil {
		return Zone{}, fe
	}
	if z.Nameservers, fe = nameservers(name, b.Nameservers); fe != nil {
		return Zone{}, fe
	}
	if z.SOA, fe = soa(z, b.SOA); fe != nil {
		return Zone{}, fe
	}
	if z.HealthCheck, fe = healthCheck(b.HealthCheck); fe != nil {
		return Zone{}, fe
	}
	if z.Withdraw, fe = withdrawMode(b.Withdraw); fe != nil {
		return Zone{}, fe
	}
	if z.Peers, fe = peers(z, b.Peers); fe != nil {
		return Zone{}, fe
	}
	if z.PeerKey, fe = peerKey(b.PeerKey); fe != nil {
		return Zone{}, fe
	}
	if z.ACMEChallenge, fe = ACMETarget(z.Name, b.ACMEChallenge); fe != nil {
		return Zone{}, fe
	}
	if z.Static, fe = b.Static.Canonical(); fe != nil {
		return Zone{}, fe
	}
	z.Drain = b.Drain
	return z, nil
}

func rangeField(field string, v, lo, hi int64) (uint32, *FieldError) {
	if v < lo || v > hi {
		return 0, fieldErr(field, "%d is out of range; use %d to %d", v, lo, hi)
	}
	return uint32(v), nil
}

func optionalRange(field string, v *int64, def uint32, lo, hi int64) (uint32, *FieldError) {
	if v == nil {
		return def, nil
	}
	return rangeField(field, *v, lo, hi)
}

// addresses checks that every entry is a unicast address of the family the
// field names, and returns them in canonical form, sorted and unique.
func addresses(field string, in []string, v4 bool) ([]string, *FieldError) {
	if len(in) > MaxAddresses {
		return nil, fieldErr(field, "has %d addresses; at most %d are allowed", len(in), MaxAddresses)
	}
	addrs := make([]netip.Addr, 0, len(in))
	for i, s := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fieldErr(f, "%q is not an IP address", s)
		}
		if err := CheckUnicast(a, v4); err != nil {
			return nil, fieldErr(f, "%v", err)
		}
		if slices.Contains(addrs, a) {
			return nil, fieldErr(f, "%s is listed twice", a)
		}
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	return out, nil
}

// CheckUnicast reports why a is unusable as a node's public address of the
// given family, or nil. Loopback is allowed: tests and demos run on it.
func CheckUnicast(a netip.Addr, wantV4 bool) error {
	switch {
	case a.Zone() != "":
		return fmt.Errorf("%s has a zone index; give the address alone", a)
	case wantV4 && !a.Is4():
		return fmt.Errorf("%s is not an IPv4 address; put IPv6 addresses in ipv6", a)
	case !wantV4 && (!a.Is6() || a.Is4In6()):
		return fmt.Errorf("%s is not an IPv6 address; put IPv4 addresses in ipv4", a)
	case a.IsUnspecified():
		return fmt.Errorf("%s is the unspecified address; give the node's own unicast address", a)
	case a.IsMulticast():
		return fmt.Errorf("%s is a multicast address; give a unicast address", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s is the broadcast address; give a unicast address", a)
	case a.IsLinkLocalUnicast():
		return fmt.Errorf("%s is link-local and unreachable from other networks; give a routable address", a)
	case a.Is4() && a.As4()[0] == 0:
		return fmt.Errorf("%s is in 0.0.0.0/8 (\"this network\"); give a routable address", a)
	}
	return nil
}

func nameservers(zoneName string, in []string) ([]string, *FieldError) {
	if len(in) == 0 {
		return nil, fieldErr("nameservers", "is empty; list the nameserver names of every node (e.g. lb1.example.com)")
	}
	if len(in) > MaxNSCount {
		return nil, fieldErr("nameservers", "has %d names; at most %d are allowed", len(in), MaxNSCount)
	}
	out := make([]string, 0, len(in))
	for i, s := range in {
		f := fmt.Sprintf("nameservers[%d]", i)
		n, err := CanonicalName(s)
		if err != nil {
			return nil, fieldErr(f, "%v", err)
		}
		if IsSubdomain(n, zoneName) {
			return nil, fieldErr(f, "%s lies inside the zone %s; a nameserver beneath its own delegation needs glue, so name it outside (e.g. lb1.<parent zone>)", n, zoneName)
		}
		if slices.Contains(out, n) {
			return nil, fieldErr(f, "%s is listed twice", n)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

func soa(z Zone, in *SOABody) (SOA, *FieldError) {
	s := SOA{
		MName:   z.Nameservers[0],
		RName:   "hostmaster." + z.Name,
		Refresh: DefaultRefresh,
		Retry:   DefaultRetry,
		Expire:  DefaultExpire,
		Minimum: z.AnswerTTL,
	}
	if in == nil {
		return s, nil
	}
	var err error
	if in.MName != "" {
		if s.MName, err = CanonicalName(in.MName); err != nil {
			return SOA{}, fieldErr("soa.mname", "%v", err)
		}
	}
	if in.RName != "" {
		// An RNAME is a mailbox written as a name; its first label may carry
		// characters a hostname may not, but not dots or spaces.
		if s.RName, err = CanonicalName(strings.ReplaceAll(in.RName, "@", ".")); err != nil {
			return SOA{}, fieldErr("soa.rname", "%v", err)
		}
	}
	var fe *FieldError
	if s.Refresh, fe = optionalRange("soa.refresh", in.Refresh, s.Refresh, 1, MaxSOATimer); fe != nil {
		return SOA{}, fe
	}
	if s.Retry, fe = optionalRange("soa.retry", in.Retry, s.Retry, 1, MaxSOATimer); fe != nil {
		return SOA{}, fe
	}
	if s.Expire, fe = optionalRange("soa.expire", in.Expire, s.Expire, 1, MaxSOATimer); fe != nil {
		return SOA{}, fe
	}
	if s.Minimum, fe = optionalRange("soa.minimum", in.Minimum, s.Minimum, 0, MaxAnswerTTL); fe != nil {
		return SOA{}, fe
	}
	return s, nil
}

// SameContent reports whether two zones serve the same data, ignoring the
// serial.
func SameContent(a, b Zone) bool {
	a.Serial, b.Serial = 0, 0
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// NextSerial is the serial for a zone whose content changed: the Unix time,
// or one more than the previous serial when that is already ahead; never 0.
// The provider (one serial for every node) and the agent (a PUT without a
// serial) both follow it.
func NextSerial(prev uint32, now int64) uint32 {
	s := uint32(now)
	if prev >= s {
		s = prev + 1
	}
	if s == 0 {
		s = 1
	}
	return s
}

// Assign gives next its serial: an explicit serial is kept; unchanged
// content keeps the previous serial, so a repeated PUT is a no-op; otherwise
// the serial moves forward to at least the current Unix time, which keeps it
// increasing across agent restarts and replaced data dirs.
func Assign(next Zone, prev *Zone, now time.Time) Zone {
	if next.Serial != 0 {
		return next
	}
	if prev != nil && SameContent(next, *prev) {
		next.Serial = prev.Serial
		return next
	}
	var last uint32
	if prev != nil {
		last = prev.Serial
	}
	serial := NextSerial(last, now.Unix())
	next.Serial = serial
	return next
}

// Encode returns the canonical JSON form (one line, newline-terminated).
func Encode(z Zone) []byte {
	data, err := json.Marshal(z)
	if err != nil {
		panic(err) // Zone holds only strings and integers
	}
	return append(data, '\n')
}

// Parse reads a stored zone and checks it is canonical, so that a file
// edited by hand or damaged on disk is refused rather than half-served.
func Parse(data []byte) (Zone, error) {
	b, fe := decodeBody(data)
	if fe != nil {
		return Zone{}, fe
	}
	if b.Serial == nil {
		return Zone{}, fmt.Errorf("stored zone has no serial")
	}
	if b.Name == "" {
		return Zone{}, fmt.Errorf("stored zone has no name")
	}
	z, fe := b.Canonical(b.Name)
	if fe != nil {
		return Zone{}, fe
	}
	return z, nil
}

// Body returns the client form of z, which decodes back to z.
func (z Zone) Body() Body {
	i := func(v uint32) *int64 { x := int64(v); return &x }
	b := Body{Name: z.Name, IPv4: slices.Clone(z.IPv4), IPv6: slices.Clone(z.IPv6), AnswerTTL: i(z.AnswerTTL),
		Nameservers: slices.Clone(z.Nameservers), NSTTL: i(z.NSTTL),
		SOA: &SOABody{MName: z.SOA.MName, RName: z.SOA.RName, Refresh: i(z.SOA.Refresh), Retry: i(z.SOA.Retry),
			Expire: i(z.SOA.Expire), Minimum: i(z.SOA.Minimum)},
		HealthCheck: z.HealthCheck.body(), Drain: z.Drain, Withdraw: z.Withdraw, PeerKey: z.PeerKey,
		ACMEChallenge: z.ACMEChallenge, Static: z.clone()}
	for _, p := range z.Peers {
		b.Peers = append(b.Peers, Peer{Name: p.Name, IPv4: slices.Clone(p.IPv4), IPv6: slices.Clone(p.IPv6)})
	}
	if z.Serial != 0 {
		b.Serial = i(z.Serial)
	}
	return b
}

// bodyFields lists a body's JSON field names, embedded structs' included,
// so that the unknown-field message never goes stale.
func bodyFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if f.Anonymous {
			out = append(out, bodyFields(f.Type)...)
			continue
		}
		if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}
