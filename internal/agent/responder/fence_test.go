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
			txt := h.Answer[0].(*dns.TXT)
			if len(txt.Txt) != 2 || txt.Txt[0] != c.health || txt.Txt[1] != "serial=2026112501" || txt.Hdr.Ttl != 0 || txt.Hdr.Name != "_PMGTM-health.api.example.com." {
				t.Fatalf("health %v", txt)
			}
		})
	}
}
