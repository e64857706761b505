package responder

import (
	"encoding/binary"
	"net/netip"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// staticRRs are a zone's static records at its apex, in wire form with the
// owner a pointer to the question name.
type staticRRs struct {
	caa, txt, https    []byte
	caaN, txtN, httpsN uint16
}

// staticRRs returns the zone's static records of qtype (CAA, TXT, HTTPS at
// the apex), or none. Out of line: code added to Respond itself slowed the
// A/AAAA path it never ran.
//
//go:noinline
func (z *Zone) staticRRs(qtype uint16) ([]byte, uint16) {
	if z.static == nil {
		return nil, 0
	}
	return z.static.lookup(qtype)
}

// lookup returns the records of qtype, or none.
func (s *staticRRs) lookup(qtype uint16) ([]byte, uint16) {
	switch qtype {
	case typeCAA:
		return s.caa, s.caaN
	case typeTXT:
		return s.txt, s.txtN
	case typeHTTPS:
		return s.https, s.httpsN
	}
	return nil, 0
}

// compileStatic renders s. CAA and TXT change rarely and take the NS TTL;
// the HTTPS record carries addresses as hints (the ones this node answers
// with, after a redirect the healthy node's), so it takes the answer TTL.
func compileStatic(s zone.Static, answerTTL, nsTTL uint32, v4, v6 []string) *staticRRs {
	out := &staticRRs{}
	for _, c := range s.CAA {
		rdata := append([]byte{c.Flags, byte(len(c.Tag))}, c.Tag...)
		rdata = append(rdata, c.Value...)
		out.caa = append(appendRRHeader(out.caa, ptrQName, typeCAA, nsTTL, len(rdata)), rdata...)
		out.caaN++
	}
	for _, t := range s.TXT {
		var rdata []byte
		for len(t) > 0 { // character-strings of at most 255 bytes
			chunk := t[:min(len(t), 255)]
			rdata = append(append(rdata, byte(len(chunk))), chunk...)
			t = t[len(chunk):]
		}
		out.txt = append(appendRRHeader(out.txt, ptrQName, typeTXT, nsTTL, len(rdata)), rdata...)
		out.txtN++
	}
	if h := s.HTTPS; h != nil {
		rdata := binary.BigEndian.AppendUint16(nil, h.Priority)
		rdata = append(rdata, 0) // target ".": the owner itself
		// SvcParams in ascending key order (RFC 9460 §2.2).
		if len(h.ALPN) > 0 {
			var ids []byte
			for _, id := range h.ALPN {
				ids = append(append(ids, byte(len(id))), id...)
			}
			rdata = appendParam(rdata, 1, ids)
		}
		if h.Port != 0 {
			rdata = appendParam(rdata, 3, binary.BigEndian.AppendUint16(nil, h.Port))
		}
		for _, hint := range []struct {
			key   uint16
			addrs []string
		}{{4, v4}, {6, v6}} { // ipv4hint, ipv6hint
			if len(hint.addrs) == 0 {
				continue
			}
			var value []byte
			for _, a := range hint.addrs {
				value = append(value, netip.MustParseAddr(a).AsSlice()...)
			}
			rdata = appendParam(rdata, hint.key, value)
		}
		out.https = append(appendRRHeader(nil, ptrQName, typeHTTPS, answerTTL, len(rdata)), rdata...)
		out.httpsN = 1
	}
	return out
}

func appendParam(b []byte, key uint16, value []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, key)
	b = binary.BigEndian.AppendUint16(b, uint16(len(value)))
	return append(b, value...)
}
