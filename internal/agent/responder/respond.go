package responder

import (
	"encoding/binary"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
)

// Response codes we produce.
const (
	RcodeSuccess  = 0
	RcodeFormErr  = 1
	RcodeServFail = 2
	RcodeNotImp   = 4
	RcodeRefused  = 5
	RcodeNotAuth  = 9
	RcodeBadVers  = 16 // extended: upper 8 bits travel in the OPT record
	tsigBadKey    = 17
)

// Buckets for counting: query types and response codes a dashboard needs.
const (
	QTypeA = iota
	QTypeAAAA
	QTypeSOA
	QTypeNS
	QTypeANY
	QTypeOther
	NumQTypes
)

// QTypeNames and RCodeNames label the buckets in metrics.
var (
	QTypeNames = [NumQTypes]string{"A", "AAAA", "SOA", "NS", "ANY", "other"}
	RCodeNames = [NumRCodes]string{"NOERROR", "FORMERR", "SERVFAIL", "NOTIMP", "REFUSED", "BADVERS", "NOTAUTH", "dropped"}
)

// Response-code buckets.
const (
	RCodeNoError = iota
	RCodeFormErr
	RCodeServFail
	RCodeNotImp
	RCodeRefused
	RCodeBadVers
	RCodeNotAuth // a TSIG-signed query: the agent knows no keys
	RCodeDropped // no answer: a zone withdrawn in silent mode
	NumRCodes
)

// Limits on answer size. 1232 avoids IP fragmentation on any path (DNS flag
// day 2020); 512 is the classic limit for clients without EDNS.
const (
	EDNSSize      = 1232
	minUDPSize    = 512
	MaxTCPMessage = 65535
	maxNameWire   = 255
)

// Outcome says what a query got, for counting and logging.
type Outcome struct {
	Zone   *Zone // nil when no zone was chosen
	QType  int   // bucket
	RCode  int   // bucket
	Answer bool  // at least one answer record
	// Dropped is set when the response is nil on purpose (a silent
	// withdrawal); such queries are counted, malformed ones are not.
	Dropped bool
}

// LimitKey is what response rate limiting keys an answer on besides the
// client: its zone (0 when none) and its class (rrl.Class*: answer, no
// data, refused, error).
func (o Outcome) LimitKey() (zone uint64, class uint8) {
	if o.Zone != nil {
		zone = o.Zone.key
	}
	switch {
	case o.RCode == RCodeNoError && o.Answer:
		return zone, rrl.ClassAnswer
	case o.RCode == RCodeNoError:
		return zone, rrl.ClassNoData
	case o.RCode == RCodeRefused:
		return zone, rrl.ClassRefused
	}
	return zone, rrl.ClassError
}

// Truncate turns a response into its truncated form: the header and the
// question with TC set and no records, which sends the client to TCP.
func Truncate(resp []byte) []byte {
	if len(resp) < headerLen {
		return resp
	}
	off := headerLen
	if binary.BigEndian.Uint16(resp[4:]) == 1 {
		for off < len(resp) && resp[off] != 0 {
			off += 1 + int(resp[off]&0x3F)
		}
		off += 5 // the root label, type and class
	}
	if off > len(resp) {
		off = headerLen
		binary.BigEndian.PutUint16(resp[4:], 0)
	}
	resp = resp[:off]
	resp[2] |= 0x02
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint32(resp[8:], 0)
	return resp
}

// Count adds the outcome to the right counters.
func (t *Table) Count(o Outcome) {
	c := t.Unmatched
	if o.Zone != nil {
		c = o.Zone.counters
	}
	c[o.QType][o.RCode].Add(1)
}

// query is what the parser extracts from a request.
type query struct {
	qEnd     int // end of the question section (header + question)
	nameLen  int // wire length of the question name
	qtype    uint16
	qclass   uint16
	edns     bool
	ednsSize uint16
	ednsVer  uint8
	do       bool
	// tsigAt and tsigEnd bound the query's TSIG record (owner to end);
	// tsigEnd is 0 when there is none. Offsets, not a slice: a pointer
	// in query would cost every query its zeroing with write barriers.
	tsigAt, tsigEnd int
	lower           [maxNameWire]byte // lower-cased question name
	labels          [128]uint8        // offsets of label starts within lower
	nlabels         int
}

// Respond writes the answer to req into buf (reusing its storage) and
// returns it with the outcome. A nil response means "send nothing": the
// packet was too short to hold a header or was itself a response. tcp
// lifts the UDP size limit.
func Respond(t *Table, req, buf []byte, tcp bool) ([]byte, Outcome) {
	if len(req) < headerLen || req[2]&0x80 != 0 {
		return nil, Outcome{}
	}
	out := Outcome{QType: QTypeOther}
	opcode := (req[2] >> 3) & 0x0F
	var q query
	if opcode != 0 {
		out.RCode = RCodeNotImp
		parse(req, &q) // best effort: only to see an OPT
		return headerOnlyOPT(buf, req, RcodeNotImp, &q), out
	}
	if !parse(req, &q) {
		out.RCode = RCodeFormErr
		return headerOnlyOPT(buf, req, RcodeFormErr, &q), out
	}
	out.QType = qtypeBucket(q.qtype)

	resp := append(buf[:0], req[:q.qEnd]...)
	// Flags: QR, opcode 0, RD and CD copied; AA, TC, RA and AD clear.
	resp[2] = 0x80 | req[2]&0x01
	resp[3] = req[3] & 0x10
	binary.BigEndian.PutUint32(resp[4:], 1<<16) // QDCOUNT=1, ANCOUNT=0
	binary.BigEndian.PutUint32(resp[8:], 0)     // NSCOUNT=0, ARCOUNT=0

	if q.edns && q.ednsVer > 0 {
		// RFC 6891 §6.1.3: BADVERS, and our OPT says which version we speak.
		out.RCode = RCodeBadVers
		return appendOPT(resp, &q, RcodeBadVers), out
	}

	if q.tsigEnd != 0 {
		return tsigAnswer(buf, req, resp, &q, out)
	}

	var z *Zone
	apexOff := 0
	if q.qclass == classIN {
		for i := 0; i < q.nlabels; i++ {
			off := int(q.labels[i])
			if hit, ok := t.zones[string(q.lower[off:q.nameLen])]; ok {
				z, apexOff = hit, off
				break
			}
		}
	}
	if z == nil || q.qtype == typeAXFR || q.qtype == typeIXFR {
		// Not ours (or a zone transfer, which we do not offer): REFUSED
		// without AA, as authoritative servers do.
		out.Zone = z
		out.RCode = RCodeRefused
		resp[3] |= RcodeRefused
		return finish(resp, &q, tcp), out
	}
	out.Zone = z
	if apexOff != 0 && (q.lower[1] == '_' || q.lower[0] == nonceLabelLen) {
		// A name pmgtm reserves (an underscore label, or a peer's nonce):
		// the health record, a peer's challenge, the ACME challenge.
		// Answered in every fencing state.
		if rrs, ok := z.reserved(resp, &q, apexOff); ok {
			out.Answer = true
			return finish(rrs, &q, tcp), out
		}
	}
	switch z.mode {
	case modeRefused:
		out.RCode = RCodeRefused
		resp[3] |= RcodeRefused
		return finish(resp, &q, tcp), out
	case modeServFail:
		out.RCode = RCodeServFail
		resp[3] |= RcodeServFail
		return finish(resp, &q, tcp), out
	case modeSilent:
		out.RCode, out.Dropped = RCodeDropped, true
		return nil, out
	}
	resp[2] |= 0x04 // AA

	atApex := apexOff == 0
	var rrs []byte
	var n uint16
	switch q.qtype {
	case typeA:
		rrs, n = z.a, z.aCount
	case typeAAAA:
		rrs, n = z.aaaa, z.aaaaCount
	case typeANY:
		// RFC 8482: one RRset is enough. Addresses are what callers want.
		rrs, n = z.a, z.aCount
		if n == 0 {
			rrs, n = z.aaaa, z.aaaaCount
		}
	case typeNS:
		if atApex {
			rrs, n = z.ns, z.nsCount
		}
	case typeSOA:
		if atApex {
			rrs, n = z.soaAnswer, 1
		}
	default:
		if atApex {
			rrs, n = z.staticRRs(q.qtype)
		}
	}
	if n > 0 {
		out.Answer = true
		resp = append(resp, rrs...)
		binary.BigEndian.PutUint16(resp[6:], n)
		return finish(resp, &q, tcp), out
	}
	// NODATA: the zone's SOA in the authority section, its owner a pointer
	// to where the apex begins inside the question name.
	start := len(resp)
	resp = append(resp, z.soaAuthority...)
	binary.BigEndian.PutUint16(resp[start:], uint16(0xC000|(headerLen+apexOff)))
	binary.BigEndian.PutUint16(resp[8:], 1)
	return finish(resp, &q, tcp), out
}

// tsigAnswer answers a TSIG-signed query. RFC 8945 §5.2.2: a key we do
// not know (we know none) gets NOTAUTH with TSIG error BADKEY, unsigned.
// Kept out of Respond: its code there slowed every query by a fifth.
//
//go:noinline
func tsigAnswer(buf, req, resp []byte, q *query, out Outcome) ([]byte, Outcome) {
	if r, ok := appendBadKey(resp, req[q.tsigAt:q.tsigEnd], q); ok {
		out.RCode = RCodeNotAuth
		return r, out
	}
	out.RCode = RCodeFormErr
	return headerOnlyOPT(buf, req, RcodeFormErr, q), out
}

// appendBadKey finishes resp as the BADKEY answer to q's TSIG record t: the key
// name and algorithm echoed, no MAC. ok is false when the record cannot be
// read (a compressed owner, a short RDATA).
func appendBadKey(resp, t []byte, q *query) ([]byte, bool) {
	owner := 0
	for owner < len(t) && t[owner] != 0 {
		if t[owner]&0xC0 != 0 {
			return nil, false
		}
		owner += 1 + int(t[owner])
	}
	owner++
	rdata := owner + 10
	alg := rdata
	for alg < len(t) && t[alg] != 0 {
		if t[alg]&0xC0 != 0 {
			return nil, false
		}
		alg += 1 + int(t[alg])
	}
	alg++
	if alg+10 > len(t) {
		return nil, false
	}
	macSize := int(binary.BigEndian.Uint16(t[alg+8:]))
	if alg+10+macSize+2 > len(t) {
		return nil, false
	}
	origID := t[alg+10+macSize : alg+12+macSize]
	resp[3] = resp[3]&0xF0 | RcodeNotAuth
	if q.edns {
		resp = appendOPT(resp, q, RcodeNotAuth)
	}
	resp = append(resp, t[:owner]...)
	resp = binary.BigEndian.AppendUint16(resp, typeTSIG)
	resp = binary.BigEndian.AppendUint16(resp, 255) // class ANY
	resp = binary.BigEndian.AppendUint32(resp, 0)
	newRdata := append(append([]byte(nil), t[rdata:alg+8]...), 0, 0) // algorithm, time, fudge, MAC size 0
	newRdata = append(newRdata, origID...)
	newRdata = binary.BigEndian.AppendUint16(newRdata, tsigBadKey)
	newRdata = binary.BigEndian.AppendUint16(newRdata, 0) // other len
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(newRdata)))
	resp = append(resp, newRdata...)
	binary.BigEndian.PutUint16(resp[10:], binary.BigEndian.Uint16(resp[10:])+1)
	return resp, true
}

// finish appends the OPT record when the query had one and truncates the
// answer when it does not fit the client's UDP limit.
func finish(resp []byte, q *query, tcp bool) []byte {
	limit := MaxTCPMessage
	if !tcp {
		limit = minUDPSize
		if q.edns {
			limit = int(min(max(q.ednsSize, minUDPSize), EDNSSize))
		}
	}
	optLen := 0
	if q.edns {
		optLen = 11
	}
	if len(resp)+optLen > limit {
		// TC: keep the question, drop every record, let the client retry
		// over TCP (RFC 1035 §4.2.1, RFC 7766).
		resp = resp[:q.qEnd]
		resp[2] |= 0x02
		binary.BigEndian.PutUint32(resp[4:], 1<<16)
		binary.BigEndian.PutUint32(resp[8:], 0)
	}
	if q.edns {
		resp = appendOPT(resp, q, RcodeSuccess)
	}
	return resp
}

func appendOPT(resp []byte, q *query, rcode int) []byte {
	resp = append(resp, 0) // root owner
	resp = binary.BigEndian.AppendUint16(resp, typeOPT)
	resp = binary.BigEndian.AppendUint16(resp, EDNSSize)
	flags := uint32(rcode>>4) << 24 // extended RCODE; version 0
	if q.do {
		flags |= 1 << 15 // RFC 3225: DO is copied into the response
	}
	resp = binary.BigEndian.AppendUint32(resp, flags)
	resp = binary.BigEndian.AppendUint16(resp, 0)
	arcount := binary.BigEndian.Uint16(resp[10:])
	binary.BigEndian.PutUint16(resp[10:], arcount+1)
	return resp
}

// headerOnlyOPT is headerOnly with an OPT record when the request was seen
// to carry one: RFC 6891 section 7 asks for it in every response to such a
// request, errors included.
func headerOnlyOPT(buf, req []byte, rcode byte, q *query) []byte {
	resp := headerOnly(buf, req, rcode)
	if q.edns {
		resp = appendOPT(resp, q, int(rcode))
	}
	return resp
}

// headerOnly answers with the request's ID and opcode and an empty body, for
// requests we cannot or will not parse further.
func headerOnly(buf, req []byte, rcode byte) []byte {
	resp := append(buf[:0], req[:headerLen]...)
	resp[2] = 0x80 | req[2]&0x79 // QR, opcode and RD kept
	resp[3] = rcode
	for i := 4; i < headerLen; i++ {
		resp[i] = 0
	}
	return resp
}

func qtypeBucket(t uint16) int {
	switch t {
	case typeA:
		return QTypeA
	case typeAAAA:
		return QTypeAAAA
	case typeSOA:
		return QTypeSOA
	case typeNS:
		return QTypeNS
	case typeANY:
		return QTypeANY
	}
	return QTypeOther
}

// parse reads the question and any OPT record. It accepts exactly what a
// well-formed query holds: one question, no answer or authority records,
// and at most one OPT among the additional records.
func parse(req []byte, q *query) bool {
	if binary.BigEndian.Uint16(req[4:]) != 1 || binary.BigEndian.Uint16(req[6:]) != 0 ||
		binary.BigEndian.Uint16(req[8:]) != 0 {
		return false
	}
	off := headerLen
	for {
		if off >= len(req) {
			return false
		}
		l := int(req[off])
		if l == 0 {
			off++
			break
		}
		// Compression pointers and extended label types are not expected
		// in a question; 63 is the label limit.
		if l > 63 || q.nlabels == len(q.labels) {
			return false
		}
		if off+1+l > len(req) || q.nameLen+1+l+1 > maxNameWire {
			return false
		}
		q.labels[q.nlabels] = uint8(q.nameLen)
		q.nlabels++
		q.lower[q.nameLen] = byte(l)
		for i, c := range req[off+1 : off+1+l] {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			q.lower[q.nameLen+1+i] = c
		}
		q.nameLen += 1 + l
		off += 1 + l
	}
	q.lower[q.nameLen] = 0
	q.nameLen++
	if off+4 > len(req) {
		return false
	}
	q.qtype = binary.BigEndian.Uint16(req[off:])
	q.qclass = binary.BigEndian.Uint16(req[off+2:])
	q.qEnd = off + 4
	if q.qtype == typeOPT || q.qtype == 0 {
		parseAdditional(req, q, binary.BigEndian.Uint16(req[10:])) // for its OPT only
		return false
	}
	return parseAdditional(req, q, binary.BigEndian.Uint16(req[10:]))
}

func parseAdditional(req []byte, q *query, count uint16) bool {
	off := q.qEnd
	for ; count > 0; count-- {
		nameStart := off
		// Skip the owner name (compression allowed here).
		for {
			if off >= len(req) {
				return false
			}
			l := int(req[off])
			if l == 0 {
				off++
				break
			}
			if l&0xC0 == 0xC0 {
				off += 2
				break
			}
			if l > 63 {
				return false
			}
			off += 1 + l
		}
		if off+10 > len(req) {
			return false
		}
		rrtype := binary.BigEndian.Uint16(req[off:])
		rdlen := int(binary.BigEndian.Uint16(req[off+8:]))
		if off+10+rdlen > len(req) {
			return false
		}
		if rrtype == typeOPT {
			if q.edns || off != nameStart+1 || req[nameStart] != 0 {
				return false // RFC 6891 §6.1.1: one OPT, owned by the root
			}
			q.edns = true
			q.ednsSize = binary.BigEndian.Uint16(req[off+2:])
			q.ednsVer = req[off+5]
			q.do = req[off+6]&0x80 != 0
		}
		if rrtype == typeTSIG {
			if count != 1 {
				return false // RFC 8945 §5.1: TSIG is the last record
			}
			q.tsigAt, q.tsigEnd = nameStart, off+10+rdlen
		}
		off += 10 + rdlen
	}
	return true
}
