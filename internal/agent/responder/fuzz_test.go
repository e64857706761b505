package responder

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

// FuzzRespond feeds arbitrary packets to the responder. Whatever comes in,
// it must not panic, and any answer must be a well-formed DNS response to
// that request: same ID, QR set, RA clear, and for a query miekg/dns can
// read, the question echoed byte for byte.
func FuzzRespond(f *testing.F) {
	for _, q := range []*dns.Msg{
		new(dns.Msg).SetQuestion("api.example.com.", dns.TypeA),
		new(dns.Msg).SetQuestion("x.EU.api.example.com.", dns.TypeAAAA),
		new(dns.Msg).SetQuestion("api.example.com.", dns.TypeNS),
		new(dns.Msg).SetQuestion("other.example.", dns.TypeMX),
		new(dns.Msg).SetQuestion("api.example.com.", dns.TypeANY).SetEdns0(4096, true),
	} {
		wire, _ := q.Pack()
		f.Add(wire, false)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1}, true)
	tab := testTable(f)
	buf := make([]byte, 0, MaxTCPMessage)
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		resp, out := Respond(tab, req, buf, tcp)
		tab.Count(out)
		if resp == nil {
			return
		}
		m := new(dns.Msg)
		if err := m.Unpack(resp); err != nil {
			t.Fatalf("answer does not unpack: %v\nreq  % x\nresp % x", err, req, resp)
		}
		if !bytes.Equal(resp[:2], req[:2]) || !m.Response || m.RecursionAvailable {
			t.Fatalf("bad header: %+v", m.MsgHdr)
		}
		if !tcp && len(resp) > EDNSSize {
			t.Fatalf("UDP answer of %d bytes", len(resp))
		}
		var q dns.Msg
		if q.Unpack(req) == nil && q.Opcode == dns.OpcodeQuery && len(q.Question) == 1 && m.Rcode != dns.RcodeFormatError {
			if len(m.Question) != 1 || m.Question[0] != q.Question[0] {
				t.Fatalf("question %v, asked %v", m.Question, q.Question)
			}
			// Authoritative exactly when we answer from a zone.
			if m.Authoritative != (m.Rcode == dns.RcodeSuccess) {
				t.Fatalf("AA=%v with rcode %d", m.Authoritative, m.Rcode)
			}
		}
	})
}
