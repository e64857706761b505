package responder

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func testZone(t testing.TB, name string, v4, v6 []string) zone.Zone {
	t.Helper()
	ttl, nsttl, min := int64(30), int64(300), int64(20)
	z, fe := zone.Body{
		IPv4: v4, IPv6: v6, AnswerTTL: &ttl, NSTTL: &nsttl,
		Nameservers: []string{"lb1.example.com", "lb2.example.com"},
		SOA:         &zone.SOABody{Minimum: &min},
	}.Canonical(name)
	if fe != nil {
		t.Fatal(fe)
	}
	z.Serial = 2026112501
	return z
}

func testTable(t testing.TB) *Table {
	t.Helper()
	return NewTable([]*Zone{
		Compile(testZone(t, "api.example.com", []string{"198.51.100.10"}, []string{"2001:db8::10"}), nil, Fence{}),
		// A longer zone beneath the first: longest match must pick it.
		Compile(testZone(t, "eu.api.example.com", []string{"203.0.113.20"}, nil), nil, Fence{}),
		Compile(testZone(t, "v6only.example.com", nil, []string{"2001:db8::30", "2001:db8::31"}), nil, Fence{}),
	}, nil)
}

// exchange runs one query through Respond and unpacks the answer.
func exchange(t *testing.T, tab *Table, q *dns.Msg, tcp bool) (*dns.Msg, Outcome) {
	t.Helper()
	wire, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	resp, out := Respond(tab, wire, make([]byte, 0, MaxTCPMessage), tcp)
	if resp == nil {
		return nil, out
	}
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("response does not unpack: %v (% x)", err, resp)
	}
	if m.Id != q.Id {
		t.Fatalf("id %d, want %d", m.Id, q.Id)
	}
	if !m.Response || m.RecursionAvailable {
		t.Fatalf("QR=%v RA=%v; want QR set and RA clear", m.Response, m.RecursionAvailable)
	}
	return m, out
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	return m
}

func TestRespondTable(t *testing.T) {
	tab := testTable(t)
	soa := func(owner string) string {
		return owner + "\t20\tIN\tSOA\tlb1.example.com. hostmaster.api.example.com. 2026112501 3600 600 604800 20"
	}
	cases := []struct {
		name      string
		qname     string
		qtype     uint16
		rcode     int
		aa        bool
		answer    []string
		authority []string
	}{
		{"A at apex", "api.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"api.example.com.\t30\tIN\tA\t198.51.100.10"}, nil},
		{"A beneath apex", "x.y.api.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"x.y.api.example.com.\t30\tIN\tA\t198.51.100.10"}, nil},
		{"AAAA at apex", "api.example.com.", dns.TypeAAAA, dns.RcodeSuccess, true,
			[]string{"api.example.com.\t30\tIN\tAAAA\t2001:db8::10"}, nil},
		{"0x20 case kept", "aPi.ExAmPlE.cOm.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"aPi.ExAmPlE.cOm.\t30\tIN\tA\t198.51.100.10"}, nil},
		{"longest match", "www.eu.api.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			[]string{"www.eu.api.example.com.\t30\tIN\tA\t203.0.113.20"}, nil},
		{"empty family is NODATA", "eu.api.example.com.", dns.TypeAAAA, dns.RcodeSuccess, true,
			nil, []string{"eu.api.example.com.\t20\tIN\tSOA\tlb1.example.com. hostmaster.eu.api.example.com. 2026112501 3600 600 604800 20"}},
		{"empty v4 family is NODATA", "v6only.example.com.", dns.TypeA, dns.RcodeSuccess, true,
			nil, []string{"v6only.example.com.\t20\tIN\tSOA\tlb1.example.com. hostmaster.v6only.example.com. 2026112501 3600 600 604800 20"}},
		{"two addresses", "v6only.example.com.", dns.TypeAAAA, dns.RcodeSuccess, true,
			[]string{"v6only.example.com.\t30\tIN\tAAAA\t2001:db8::30", "v6only.example.com.\t30\tIN\tAAAA\t2001:db8::31"}, nil},
		{"SOA at apex", "api.example.com.", dns.TypeSOA, dns.RcodeSuccess, true,
			[]string{"api.example.com.\t300\tIN\tSOA\tlb1.example.com. hostmaster.api.example.com. 2026112501 3600 600 604800 20"}, nil},
		{"NS at apex", "API.example.com.", dns.TypeNS, dns.RcodeSuccess, true,
			[]string{"API.example.com.\t300\tIN\tNS\tlb1.example.com.", "API.example.com.\t300\tIN\tNS\tlb2.example.com."}, nil},
		{"NS beneath apex is NODATA", "a.api.example.com.", dns.TypeNS, dns.RcodeSuccess, true,
			nil, []string{soa("api.example.com.")}},
		{"SOA beneath apex is NODATA", "a.API.example.com.", dns.TypeSOA, dns.RcodeSuccess, true,
			nil, []string{soa("API.example.com.")}},
		{"MX is NODATA with SOA minimum", "api.example.com.", dns.TypeMX, dns.RcodeSuccess, true,
			nil, []string{soa("api.example.com.")}},
		{"TXT beneath is NODATA", "deep.sub.api.example.com.", dns.TypeTXT, dns.RcodeSuccess, true,
			nil, []string{soa("api.example.com.")}},
		{"ANY answered minimally", "api.example.com.", dns.TypeANY, dns.RcodeSuccess, true,
			[]string{"api.example.com.\t30\tIN\tA\t198.51.100.10"}, nil},
		{"outside every zone", "example.com.", dns.TypeA, dns.RcodeRefused, false, nil, nil},
		{"sibling name", "xapi.example.com.", dns.TypeA, dns.RcodeRefused, false, nil, nil},
		{"root", ".", dns.TypeNS, dns.RcodeRefused, false, nil, nil},
		{"AXFR refused", "api.example.com.", dns.TypeAXFR, dns.RcodeRefused, false, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := question(tc.qname, tc.qtype)
			m, _ := exchange(t, tab, q, false)
			if m.Rcode != tc.rcode || m.Authoritative != tc.aa {
				t.Fatalf("rcode %s AA=%v, want %s AA=%v", dns.RcodeToString[m.Rcode], m.Authoritative,
					dns.RcodeToString[tc.rcode], tc.aa)
			}
			if len(m.Question) != 1 || m.Question[0] != q.Question[0] {
				t.Fatalf("question %v, want %v", m.Question, q.Question)
			}
			assertRRs(t, "answer", m.Answer, tc.answer)
			assertRRs(t, "authority", m.Ns, tc.authority)
			if len(m.Extra) != 0 {
				t.Fatalf("unexpected additional records %v", m.Extra)
			}
		})
	}
}

func assertRRs(t *testing.T, section string, got []dns.RR, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", section, got, want)
	}
	for i := range got {
		if got[i].String() != want[i] {
			t.Fatalf("%s[%d]: got %q, want %q", section, i, got[i].String(), want[i])
		}
	}
}

func TestRespondFlagsAndEDNS(t *testing.T) {
	tab := testTable(t)
	t.Run("RD and CD copied, AD clear", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeA)
		q.RecursionDesired, q.CheckingDisabled, q.AuthenticatedData = true, true, true
		m, _ := exchange(t, tab, q, false)
		if !m.RecursionDesired || !m.CheckingDisabled || m.AuthenticatedData {
			t.Fatalf("RD=%v CD=%v AD=%v", m.RecursionDesired, m.CheckingDisabled, m.AuthenticatedData)
		}
	})
	t.Run("EDNS advertises 1232 and copies DO", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeA)
		q.SetEdns0(4096, true)
		q.IsEdns0().Option = append(q.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
		m, _ := exchange(t, tab, q, false)
		opt := m.IsEdns0()
		if opt == nil || opt.UDPSize() != 1232 || !opt.Do() || opt.Version() != 0 {
			t.Fatalf("OPT %v", opt)
		}
		if len(m.Answer) != 1 {
			t.Fatalf("answer %v", m.Answer)
		}
	})
	t.Run("no OPT without EDNS", func(t *testing.T) {
		m, _ := exchange(t, tab, question("api.example.com.", dns.TypeA), false)
		if m.IsEdns0() != nil {
			t.Fatal("OPT in answer to a query without EDNS")
		}
	})
	t.Run("BADVERS for version 1", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeA)
		q.SetEdns0(1232, false)
		q.IsEdns0().SetVersion(1)
		m, out := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeBadVers || len(m.Answer) != 0 || out.RCode != RCodeBadVers {
			t.Fatalf("rcode %d answer %v", m.Rcode, m.Answer)
		}
		if m.IsEdns0().Version() != 0 {
			t.Fatal("BADVERS must advertise version 0")
		}
	})
	t.Run("two OPT records are FORMERR", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeA)
		q.SetEdns0(1232, false)
		q.Extra = append(q.Extra, q.Extra[0])
		m, _ := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeFormatError {
			t.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	})
	t.Run("NOTIFY is NOTIMP", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeSOA)
		q.Opcode = dns.OpcodeNotify
		m, out := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeNotImplemented || m.Opcode != dns.OpcodeNotify || out.RCode != RCodeNotImp {
			t.Fatalf("rcode %s opcode %d", dns.RcodeToString[m.Rcode], m.Opcode)
		}
	})
	t.Run("errors keep the OPT record", func(t *testing.T) {
		// RFC 6891 section 7: a response to a request with OPT has one.
		notify := question("api.example.com.", dns.TypeSOA)
		notify.Opcode = dns.OpcodeNotify
		notify.SetEdns0(1232, false)
		bad := question("api.example.com.", 0) // qtype 0: FORMERR
		bad.SetEdns0(1232, false)
		for _, c := range []struct {
			q     *dns.Msg
			rcode int
		}{{notify, dns.RcodeNotImplemented}, {bad, dns.RcodeFormatError}} {
			m, _ := exchange(t, tab, c.q, false)
			if m.Rcode != c.rcode || m.IsEdns0() == nil {
				t.Errorf("rcode %s, OPT %v; want %s with an OPT", dns.RcodeToString[m.Rcode], m.IsEdns0() != nil, dns.RcodeToString[c.rcode])
			}
		}
	})
	t.Run("UPDATE is NOTIMP", func(t *testing.T) {
		q := new(dns.Msg)
		q.SetUpdate("api.example.com.")
		m, _ := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeNotImplemented {
			t.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	})
	t.Run("CHAOS class is REFUSED", func(t *testing.T) {
		q := question("api.example.com.", dns.TypeTXT)
		q.Question[0].Qclass = dns.ClassCHAOS
		m, _ := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeRefused {
			t.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	})
}

func TestRespondTruncation(t *testing.T) {
	var v6 []string
	for i := 1; i <= 16; i++ {
		v6 = append(v6, fmt.Sprintf("2001:db8::%x", i))
	}
	tab := NewTable([]*Zone{Compile(testZone(t, "big.example.com", nil, v6), nil, Fence{})}, nil)
	name := "a-rather-long-label-to-push-the-answer-past-512-bytes.big.example.com."

	plain, _ := exchange(t, tab, question(name, dns.TypeAAAA), false)
	if !plain.Truncated || len(plain.Answer) != 0 || len(plain.Question) != 1 {
		t.Fatalf("UDP without EDNS: TC=%v answers=%d", plain.Truncated, len(plain.Answer))
	}
	q := question(name, dns.TypeAAAA)
	q.SetEdns0(1232, false)
	big, _ := exchange(t, tab, q, false)
	if big.Truncated || len(big.Answer) != 16 {
		t.Fatalf("UDP with EDNS 1232: TC=%v answers=%d", big.Truncated, len(big.Answer))
	}
	tcp, _ := exchange(t, tab, question(name, dns.TypeAAAA), true)
	if tcp.Truncated || len(tcp.Answer) != 16 {
		t.Fatalf("TCP: TC=%v answers=%d", tcp.Truncated, len(tcp.Answer))
	}
}

func TestRespondMalformed(t *testing.T) {
	tab := testTable(t)
	good, _ := question("api.example.com.", dns.TypeA).Pack()
	cases := map[string]struct {
		req   []byte
		rcode int // -1: no response
	}{
		"empty":             {nil, -1},
		"short header":      {good[:11], -1},
		"a response":        {append([]byte{good[0], good[1], good[2] | 0x80}, good[3:]...), -1},
		"truncated name":    {good[:15], dns.RcodeFormatError},
		"missing type":      {good[:len(good)-3], dns.RcodeFormatError},
		"two questions":     {append(append([]byte{}, good[:4]...), append([]byte{0, 2}, good[6:]...)...), dns.RcodeFormatError},
		"pointer in qname":  {append(append([]byte{}, good[:12]...), 0xC0, 0x0C, 0, 1, 0, 1), dns.RcodeFormatError},
		"label too long":    {append(append([]byte{}, good[:12]...), append([]byte{64}, make([]byte, 70)...)...), dns.RcodeFormatError},
		"additional cut":    {append(append([]byte{}, good[:10]...), append([]byte{0, 1}, good[12:]...)...), dns.RcodeFormatError},
		"answer in a query": {append(append([]byte{}, good[:6]...), append([]byte{0, 1}, good[8:]...)...), dns.RcodeFormatError},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp, _ := Respond(tab, tc.req, make([]byte, 0, 512), false)
			if tc.rcode < 0 {
				if resp != nil {
					t.Fatalf("answered % x", resp)
				}
				return
			}
			m := new(dns.Msg)
			if err := m.Unpack(resp); err != nil {
				t.Fatalf("unpack: %v", err)
			}
			if m.Rcode != tc.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tc.rcode])
			}
		})
	}
}

func TestCountersSurviveRecompile(t *testing.T) {
	z := Compile(testZone(t, "api.example.com", []string{"198.51.100.10"}, nil), nil, Fence{})
	tab := NewTable([]*Zone{z}, nil)
	wire, _ := question("api.example.com.", dns.TypeA).Pack()
	_, out := Respond(tab, wire, nil, false)
	tab.Count(out)
	next := Compile(z.Model, z.Counters(), Fence{})
	if got := next.Counters()[QTypeA][RCodeNoError].Load(); got != 1 {
		t.Fatalf("count after recompile %d, want 1", got)
	}
	_, out = Respond(tab, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, nil, false)
	tab.Count(out)
	if got := tab.Unmatched[QTypeOther][RCodeFormErr].Load(); got != 1 {
		t.Fatalf("FORMERR count %d, want 1", got)
	}
}

// TestRespondTSIGBadKey: a TSIG-signed query (the agent knows no keys)
// gets NOTAUTH with an unsigned TSIG whose error is BADKEY (RFC 8945
// §5.2.2), the OPT kept; never an unsigned NOERROR answer.
func TestRespondTSIGBadKey(t *testing.T) {
	q := question("www.api.example.com.", dns.TypeA)
	q.SetEdns0(1232, false)
	q.SetTsig("transfer-key.", dns.HmacSHA256, 300, time.Now().Unix())
	wire, _, err := dns.TsigGenerate(q, "c2VjcmV0LXNlY3JldC1zZWNyZXQ=", "", false)
	if err != nil {
		t.Fatal(err)
	}
	resp, out := Respond(testTable(t), wire, make([]byte, 0, MaxTCPMessage), false)
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	if m.Rcode != dns.RcodeNotAuth || out.RCode != RCodeNotAuth || len(m.Answer) != 0 || m.Authoritative {
		t.Fatalf("rcode %s, %d answers, outcome %+v", dns.RcodeToString[m.Rcode], len(m.Answer), out)
	}
	if m.IsEdns0() == nil {
		t.Error("OPT missing")
	}
	tsig, ok := m.Extra[len(m.Extra)-1].(*dns.TSIG)
	if !ok || tsig.Error != dns.RcodeBadKey || tsig.MACSize != 0 || tsig.Hdr.Name != "transfer-key." || tsig.OrigId != q.Id ||
		tsig.Algorithm != dns.HmacSHA256 {
		t.Fatalf("TSIG %v", m.Extra[len(m.Extra)-1])
	}
}
