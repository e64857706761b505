package responder

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestRespondFenced(t *testing.T) {
	z := testZone(t, "api.example.com", []string{"198.51.100.10"}, []string{"2001:db8::10"})
	cases := []struct {
		name    string
		fence   Fence
		rcode   int
		aa      bool
		dropped bool
		answer  []string // A answer for www.api.example.com
		health  string
	}{
		{"serving", Fence{}, dns.RcodeSuccess, true, false, []string{"www.api.example.com.\t30\tIN\tA\t198.51.100.10"}, "ok"},
		{"redirect", Fence{Withdraw: zone.WithdrawRedirect, IPv4: []string{"203.0.113.20", "203.0.113.21"}, Health: zone.HealthFailing},
			dns.RcodeSuccess, true, false, []string{"www.api.example.com.\t30\tIN\tA\t203.0.113.20", "www.api.example.com.\t30\tIN\tA\t203.0.113.21"}, "failing"},
		{"refused", Fence{Withdraw: zone.WithdrawRefused, Health: zone.HealthDrained}, dns.RcodeRefused, false, false, nil, "drained"},
		{"servfail", Fence{Withdraw: zone.WithdrawServFail, Health: zone.HealthFailing}, dns.RcodeServerFailure, false, false, nil, "failing"},
		{"silent", Fence{Withdraw: zone.WithdrawSilent, Health: zone.HealthFailing}, 0, false, true, nil, "failing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tab := NewTable([]*Zone{Compile(z, nil, c.fence)}, nil)
			m, out := exchange(t, tab, question("www.api.example.com.", dns.TypeA), false)
			if c.dropped {
				if m != nil || !out.Dropped || out.RCode != RCodeDropped {
					t.Fatalf("silent mode answered: %v %+v", m, out)
				}
			} else {
				if m.Rcode != c.rcode || m.Authoritative != c.aa {
					t.Fatalf("rcode %s aa %v, want %s aa %v", dns.RcodeToString[m.Rcode], m.Authoritative, dns.RcodeToString[c.rcode], c.aa)
				}
				assertRRs(t, "answer", m.Answer, c.answer)
			}
			// The health name answers in every mode, with TTL 0.
			h, _ := exchange(t, tab, question("_PMGTM-health.api.example.com.", dns.TypeTXT), false)
			if h == nil || !h.Authoritative || len(h.Answer) != 1 {
				t.Fatalf("health answer %v", h)
			}
			txt, ok := h.Answer[0].(*dns.TXT)
			if !ok {
				t.Fatalf("health answer %v is not TXT", h.Answer[0])
			}
			if len(txt.Txt) != 2 || txt.Txt[0] != c.health || txt.Txt[1] != "serial=2026112501" || txt.Hdr.Ttl != 0 || txt.Hdr.Name != "_PMGTM-health.api.example.com." {
				t.Fatalf("health %v", txt)
			}
		})
	}
}

// TestRespondHealthChallenge: <nonce>._pmgtm-health answers, in every
// fencing mode, with a MAC over that nonce that verifies under the zone's
// key only; a zone without a key, or a name that is not a nonce, gets no
// MAC (NODATA or its withdraw mode's answer).
func TestRespondHealthChallenge(t *testing.T) {
	z := testZone(t, "api.example.com", []string{"198.51.100.10"}, nil)
	z.SOA.MName = "lb1.example.com."
	keyed := z
	keyed.PeerKey = zone.NewPeerKey()
	key := zone.DecodePeerKey(keyed.PeerKey)
	nonce := zone.NewHealthNonce()
	for _, f := range []Fence{{}, {Withdraw: zone.WithdrawRefused, Health: zone.HealthFailing}, {Withdraw: zone.WithdrawSilent, Health: zone.HealthDrained}} {
		tab := NewTable([]*Zone{Compile(keyed, nil, f)}, nil)
		m, _ := exchange(t, tab, question(zone.HealthChallengeName("api.example.com.", nonce), dns.TypeTXT), false)
		if m == nil || !m.Authoritative || len(m.Answer) != 1 {
			t.Fatalf("%+v: challenge answered %v", f, m)
		}
		txt, ok := m.Answer[0].(*dns.TXT)
		if !ok {
			t.Fatalf("%+v: health answer %v is not TXT", f, m.Answer[0])
		}
		rec, ok := zone.ParseHealthTXT(txt.Txt)
		want := f.Health
		if want == "" {
			want = zone.HealthOK
		}
		if !ok || rec.State != want || rec.Serial != z.Serial || !rec.Verify(key, nonce, "api.example.com.", "lb1.example.com.") {
			t.Fatalf("%+v: record %+v does not verify", f, rec)
		}
		for _, wrong := range []struct {
			key         []byte
			nonce, node string
		}{
			{zone.DecodePeerKey(zone.NewPeerKey()), nonce, "lb1.example.com."},
			{key, zone.NewHealthNonce(), "lb1.example.com."},
			{key, nonce, "lb2.example.com."},
		} {
			if rec.Verify(wrong.key, wrong.nonce, "api.example.com.", wrong.node) {
				t.Errorf("%+v: verifies with a wrong key, nonce or node", f)
			}
		}
	}
	plain := NewTable([]*Zone{Compile(z, nil, Fence{})}, nil)
	m, _ := exchange(t, plain, question(zone.HealthChallengeName("api.example.com.", nonce), dns.TypeTXT), false)
	if len(m.Answer) != 0 || m.Rcode != dns.RcodeSuccess {
		t.Errorf("a zone without a key answered the challenge: %v", m)
	}
	keyedTab := NewTable([]*Zone{Compile(keyed, nil, Fence{})}, nil)
	m, _ = exchange(t, keyedTab, question("not-a-nonce._pmgtm-health.api.example.com.", dns.TypeTXT), false)
	if len(m.Answer) != 0 {
		t.Errorf("a name that is not a nonce got a MAC: %v", m)
	}
}

// TestRespondACMEChallenge: _acme-challenge.<zone> is an alias to the
// configured target, for every query type and in every fencing mode (a
// renewal must not depend on which node the CA's resolver asks); without
// a target it is an ordinary name beneath the zone.
func TestRespondACMEChallenge(t *testing.T) {
	z := testZone(t, "api.example.com", []string{"198.51.100.10"}, nil)
	withACME := z
	withACME.ACMEChallenge = "api._acme-challenge.example.com."
	for _, f := range []Fence{{}, {Withdraw: zone.WithdrawRefused, Health: zone.HealthFailing}, {Withdraw: zone.WithdrawSilent, Health: zone.HealthDrained}} {
		tab := NewTable([]*Zone{Compile(withACME, nil, f)}, nil)
		for _, qt := range []uint16{dns.TypeTXT, dns.TypeA, dns.TypeCNAME} {
			m, _ := exchange(t, tab, question("_ACME-challenge.api.example.com.", qt), false)
			if m == nil || !m.Authoritative || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
				t.Fatalf("%+v %s: %v", f, dns.TypeToString[qt], m)
			}
			c, ok := m.Answer[0].(*dns.CNAME)
			if !ok || c.Target != "api._acme-challenge.example.com." || c.Hdr.Name != "_ACME-challenge.api.example.com." || c.Hdr.Ttl != z.AnswerTTL {
				t.Fatalf("%+v %s: answer %v", f, dns.TypeToString[qt], m.Answer[0])
			}
		}
	}
	plain := NewTable([]*Zone{Compile(z, nil, Fence{})}, nil)
	m, _ := exchange(t, plain, question("_acme-challenge.api.example.com.", dns.TypeA), false)
	if len(m.Answer) != 1 || m.Answer[0].Header().Rrtype != dns.TypeA {
		t.Errorf("without a target: %v", m)
	}
	if _, fe := (zone.Body{IPv4: []string{"198.51.100.10"}, Nameservers: []string{"lb1.example.com"}, ACMEChallenge: "x._acme-challenge.api.example.com"}).Canonical("api.example.com"); fe == nil || fe.Field != "acme_challenge" {
		t.Errorf("a target inside the zone was accepted: %v", fe)
	}
}
