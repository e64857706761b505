package responder

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// DNS constants used on the wire.
const (
	typeA     = 1
	typeNS    = 2
	typeSOA   = 6
	typeOPT   = 41
	typeTXT   = 16
	typeAAAA  = 28
	typeTSIG  = 250
	typeCNAME = 5
	typeHTTPS = 65
	typeCAA   = 257
	typeIXFR  = 251
	typeAXFR  = 252
	typeANY   = 255
	classIN   = 1

	headerLen = 12
	// ptrQName is a compression pointer to the question name at offset 12.
	ptrQName = 0xC000 | headerLen
)

// Zone is a compiled zone: the canonical model plus its pre-rendered
// resource records.
type Zone struct {
	apex []byte // lower-case wire form, the lookup key

	a, aaaa      []byte // RRs whose owner is a pointer to the question name
	aCount       uint16
	aaaaCount    uint16
	ns           []byte
	nsCount      uint16
	soaAnswer    []byte // owner = question name (queried at the apex)
	soaAuthority []byte // owner placeholder in [0:2], patched per response
	counters     *Counters

	mode   mode   // how the zone is answered while withdrawn
	health []byte // TXT RR answered at _pmgtm-health.<zone>
	acme   []byte // CNAME RR answered at _acme-challenge.<zone>; nil: none
	// For authenticated health answers (<nonce>._pmgtm-health.<zone>):
	healthState string
	peerKey     []byte     // nil: the zone has no peer key, no MAC is given
	key         uint64     // identifies the zone to rate limiting
	static      *staticRRs // CAA, TXT and HTTPS at the apex; nil: none

	// Model is last: the answer path reads the fields above, which then
	// share cache lines however large the model grows.
	Model zone.Zone
}

type mode uint8

const (
	modeServe mode = iota
	modeRefused
	modeServFail
	modeSilent
)

// nonceLabelLen is the length of a peer challenge's first label.
const nonceLabelLen = zone.HealthNonceLen

// healthPrefix and acmePrefix are zone.HealthLabel and zone.ACMELabel as
// the first label in wire form.
var (
	healthPrefix = string(append([]byte{byte(len(zone.HealthLabel))}, zone.HealthLabel...))
	acmePrefix   = string(append([]byte{byte(len(zone.ACMELabel))}, zone.ACMELabel...))
)

// Fence is the self-fencing state a zone is served in.
type Fence struct {
	// Withdraw is "" while the zone is served normally, else the mode in
	// force (zone.WithdrawRefused, ...). For zone.WithdrawRedirect, IPv4 and
	// IPv6 are the addresses answered instead of the node's own.
	Withdraw   string
	IPv4, IPv6 []string
	// Health is what the node reports to its peers; "" means zone.HealthOK.
	Health string
}

// Counters returns the zone's answer counters.
func (z *Zone) Counters() *Counters { return z.counters }

// Counters counts answers by query type and response code. They live as
// long as the zone's name is served, across replacements of its content.
type Counters [NumQTypes][NumRCodes]atomic.Uint64

// Compile renders z's answers in fencing state f (Fence{}: served
// normally). counters may be shared with the zone it replaces so that
// metrics survive updates; nil allocates new ones.
func Compile(z zone.Zone, counters *Counters, f Fence) *Zone {
	if counters == nil {
		counters = new(Counters)
	}
	c := &Zone{Model: z, apex: nameWire(z.Name), counters: counters, key: nameKey(z.Name)}
	v4, v6 := z.IPv4, z.IPv6
	switch f.Withdraw {
	case zone.WithdrawRedirect:
		v4, v6 = f.IPv4, f.IPv6
	case zone.WithdrawRefused:
		c.mode = modeRefused
	case zone.WithdrawServFail:
		c.mode = modeServFail
	case zone.WithdrawSilent:
		c.mode = modeSilent
	}
	health := f.Health
	if health == "" {
		health = zone.HealthOK
	}
	// The second string lets the provider check which version of the zone
	// is in service even while the zone is withdrawn.
	c.health = appendTXT(nil, zone.HealthTXT(health, z.Serial, ""))
	c.healthState, c.peerKey = health, zone.DecodePeerKey(z.PeerKey)
	if z.ACMEChallenge != "" {
		// The answer TTL: a CA's resolvers should see a changed target soon.
		w := nameWire(z.ACMEChallenge)
		c.acme = append(appendRRHeader(nil, ptrQName, typeCNAME, z.AnswerTTL, len(w)), w...)
	}
	for _, s := range v4 {
		a := netip.MustParseAddr(s).As4()
		c.a = appendRRHeader(c.a, ptrQName, typeA, z.AnswerTTL, 4)
		c.a = append(c.a, a[:]...)
		c.aCount++
	}
	for _, s := range v6 {
		a := netip.MustParseAddr(s).As16()
		c.aaaa = appendRRHeader(c.aaaa, ptrQName, typeAAAA, z.AnswerTTL, 16)
		c.aaaa = append(c.aaaa, a[:]...)
		c.aaaaCount++
	}
	if !z.Empty() {
		c.static = compileStatic(z.Static, z.AnswerTTL, z.NSTTL, v4, v6)
	}
	for _, n := range z.Nameservers {
		w := nameWire(n)
		c.ns = appendRRHeader(c.ns, ptrQName, typeNS, z.NSTTL, len(w))
		c.ns = append(c.ns, w...)
		c.nsCount++
	}
	rdata := nameWire(z.SOA.MName)
	rdata = append(rdata, nameWire(z.SOA.RName)...)
	for _, v := range []uint32{z.Serial, z.SOA.Refresh, z.SOA.Retry, z.SOA.Expire, z.SOA.Minimum} {
		rdata = binary.BigEndian.AppendUint32(rdata, v)
	}
	c.soaAnswer = append(appendRRHeader(nil, ptrQName, typeSOA, z.NSTTL, len(rdata)), rdata...)
	// RFC 2308 §5: the SOA in a negative answer carries min(TTL, MINIMUM).
	negTTL := min(z.NSTTL, z.SOA.Minimum)
	c.soaAuthority = append(appendRRHeader(nil, 0, typeSOA, negTTL, len(rdata)), rdata...)
	return c
}

// appendTXT appends a TTL-0 TXT record owned by the question name: peers
// must never see a cached health state.
func appendTXT(b []byte, txt []string) []byte {
	n := 0
	for _, s := range txt {
		n += 1 + len(s)
	}
	b = appendRRHeader(b, ptrQName, typeTXT, 0, n)
	for _, s := range txt {
		b = append(append(b, byte(len(s))), s...)
	}
	return b
}

// reserved answers a name beneath the apex that pmgtm reserves, appending
// the record to resp (its header counts set); ok is false for any other
// name, which is then answered as usual. Kept out of Respond: it costs the
// common query one byte compare.
//
//go:noinline
func (z *Zone) reserved(resp []byte, q *query, apexOff int) ([]byte, bool) {
	var rr []byte
	switch {
	case apexOff == len(healthPrefix) && q.qtype == typeTXT && string(q.lower[:apexOff]) == healthPrefix:
		// Peers ask this in every state, so they can tell a withdrawn node
		// from a dead one.
		rr = z.health
	case z.acme != nil && apexOff == len(acmePrefix) && string(q.lower[:apexOff]) == acmePrefix:
		// Any type: the name is an alias (RFC 1034 §3.6.2). The target is
		// outside the zone, so the resolver follows it elsewhere.
		rr = z.acme
	default:
		nonce, ok := z.challenge(q, apexOff)
		if !ok {
			return nil, false
		}
		// A peer's challenge: the MAC proves the answer is this node's, now.
		resp[2] |= 0x04
		resp = z.healthAnswer(resp, nonce)
		binary.BigEndian.PutUint16(resp[6:], 1)
		return resp, true
	}
	resp[2] |= 0x04
	resp = append(resp, rr...)
	binary.BigEndian.PutUint16(resp[6:], 1)
	return resp, true
}

// challenge returns the nonce when q asks <nonce>._pmgtm-health.<zone>
// for TXT and the zone can answer it.
func (z *Zone) challenge(q *query, apexOff int) (string, bool) {
	const n = zone.HealthNonceLen
	if q.qtype != typeTXT || z.peerKey == nil || apexOff != 1+n+len(healthPrefix) || q.lower[0] != n ||
		string(q.lower[1+n:apexOff]) != healthPrefix || !zone.ValidHealthNonce(q.lower[1:1+n]) {
		return "", false
	}
	return string(q.lower[1 : 1+n]), true
}

// healthAnswer is the authenticated health record for nonce.
func (z *Zone) healthAnswer(b []byte, nonce string) []byte {
	mac := zone.HealthMAC(z.peerKey, nonce, z.Model.Name, z.Model.SOA.MName, z.healthState, z.Model.Serial)
	return appendTXT(b, zone.HealthTXT(z.healthState, z.Model.Serial, mac))
}

// nameKey is a 64-bit FNV-1a hash of a zone name, never 0.
func nameKey(name string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	return max(h, 1)
}

func appendRRHeader(b []byte, ownerPtr uint16, rrtype uint16, ttl uint32, rdlen int) []byte {
	b = binary.BigEndian.AppendUint16(b, ownerPtr)
	b = binary.BigEndian.AppendUint16(b, rrtype)
	b = binary.BigEndian.AppendUint16(b, classIN)
	b = binary.BigEndian.AppendUint32(b, ttl)
	return binary.BigEndian.AppendUint16(b, uint16(rdlen))
}

// nameWire renders a canonical (lower-case, fully qualified) name in
// uncompressed wire form.
func nameWire(name string) []byte {
	var b []byte
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		if label == "" {
			continue
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

// Table is an immutable set of compiled zones. The agent swaps whole tables
// atomically, so a query sees either the old set or the new one.
type Table struct {
	zones map[string]*Zone // key: lower-case wire name
	// Unmatched counts queries for names outside every zone and queries
	// rejected before a zone was chosen. Shared across tables.
	Unmatched *Counters
}

// NewTable builds a table from compiled zones.
func NewTable(zones []*Zone, unmatched *Counters) *Table {
	t := &Table{zones: make(map[string]*Zone, len(zones)), Unmatched: unmatched}
	if t.Unmatched == nil {
		t.Unmatched = new(Counters)
	}
	for _, z := range zones {
		t.zones[string(z.apex)] = z
	}
	return t
}

// Get returns the compiled zone with the given canonical name.
func (t *Table) Get(name string) *Zone { return t.zones[string(nameWire(name))] }

// Len is the number of zones.
func (t *Table) Len() int { return len(t.zones) }

// Each calls fn for every zone, in no particular order.
func (t *Table) Each(fn func(*Zone)) {
	for _, z := range t.zones {
		fn(z)
	}
}
