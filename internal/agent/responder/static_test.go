package responder

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// TestRespondStatic: CAA, TXT and HTTPS at the hostname are answered as
// the zone gives them, the HTTPS hints being the addresses this node
// answers with (the healthy node's while it redirects); beneath the
// hostname, and for types it lacks, the answer is NODATA.
func TestRespondStatic(t *testing.T) {
	z := testZone(t, "api.example.com", []string{"198.51.100.10"}, []string{"2001:db8::10"})
	long := strings.Repeat("v", 300) // two character-strings on the wire
	z.Static = zone.Static{
		CAA:   []zone.CAA{{Tag: "issue", Value: "letsencrypt.org"}, {Flags: 128, Tag: "iodef", Value: "mailto:sec@example.com"}},
		TXT:   []string{"v=spf1 -all", long},
		HTTPS: &zone.HTTPS{Priority: 1, ALPN: []string{"h2", "h3"}, Port: 8443},
	}
	for _, tc := range []struct {
		name   string
		fence  Fence
		v4, v6 string
	}{
		{"serving", Fence{}, "198.51.100.10", "2001:db8::10"},
		{"redirecting", Fence{Withdraw: zone.WithdrawRedirect, Health: zone.HealthFailing, IPv4: []string{"198.51.100.20"}}, "198.51.100.20", ""},
	} {
		tab := NewTable([]*Zone{Compile(z, nil, tc.fence)}, nil)
		m, out := exchange(t, tab, question("api.example.com.", dns.TypeCAA), false)
		if !m.Authoritative || len(m.Answer) != 2 || !out.Answer {
			t.Fatalf("%s: CAA %v", tc.name, m)
		}
		var caa []string
		for _, rr := range m.Answer {
			c := rr.(*dns.CAA)
			caa = append(caa, c.Tag+"="+c.Value)
			if c.Hdr.Ttl != 300 || c.Hdr.Name != "api.example.com." {
				t.Errorf("%s: CAA header %v", tc.name, c.Hdr)
			}
		}
		slices.Sort(caa)
		if !slices.Equal(caa, []string{"iodef=mailto:sec@example.com", "issue=letsencrypt.org"}) {
			t.Errorf("%s: CAA %v", tc.name, caa)
		}
		m, _ = exchange(t, tab, question("api.example.com.", dns.TypeTXT), true)
		var txt []string
		for _, rr := range m.Answer {
			txt = append(txt, strings.Join(rr.(*dns.TXT).Txt, ""))
		}
		slices.Sort(txt)
		if !slices.Equal(txt, []string{"v=spf1 -all", long}) {
			t.Errorf("%s: TXT %q", tc.name, txt)
		}
		m, _ = exchange(t, tab, question("api.example.com.", dns.TypeHTTPS), false)
		if len(m.Answer) != 1 {
			t.Fatalf("%s: HTTPS %v", tc.name, m)
		}
		h := m.Answer[0].(*dns.HTTPS)
		params := map[string]string{}
		for _, kv := range h.Value {
			params[kv.Key().String()] = kv.String()
		}
		want := map[string]string{"alpn": "h2,h3", "port": "8443", "ipv4hint": tc.v4}
		if tc.v6 != "" {
			want["ipv6hint"] = tc.v6
		}
		if h.Priority != 1 || h.Target != "." || h.Hdr.Ttl != 30 || !mapsEqual(params, want) {
			t.Errorf("%s: HTTPS %v, want params %v", tc.name, h, want)
		}
	}
	tab := NewTable([]*Zone{Compile(z, nil, Fence{})}, nil)
	for _, q := range []*dns.Msg{question("www.api.example.com.", dns.TypeCAA), question("www.api.example.com.", dns.TypeTXT), question("api.example.com.", dns.TypeMX)} {
		m, _ := exchange(t, tab, q, false)
		if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || len(m.Ns) != 1 {
			t.Errorf("%s: want NODATA, got %v", q.Question[0].String(), m)
		}
	}
	// Without static records the apex has no TXT.
	plain := testZone(t, "api.example.com", []string{"198.51.100.10"}, nil)
	m, _ := exchange(t, NewTable([]*Zone{Compile(plain, nil, Fence{})}, nil), question("api.example.com.", dns.TypeTXT), false)
	if len(m.Answer) != 0 {
		t.Errorf("TXT without static records: %v", m)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
