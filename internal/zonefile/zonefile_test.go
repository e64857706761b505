package zonefile

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func testZone(t *testing.T) zone.Zone {
	t.Helper()
	serial, answer, min := int64(2026112501), int64(30), int64(20)
	z, fe := zone.Body{Name: "api.example.com", Serial: &serial, IPv4: []string{"198.51.100.10"}, IPv6: []string{"2001:db8::10"},
		AnswerTTL: &answer, Nameservers: []string{"lb1.example.com", "lb2.example.com"},
		SOA: &zone.SOABody{MName: "lb1.example.com", Minimum: &min}, ACMEChallenge: "api._acme-challenge.example.com"}.Canonical("api.example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	z.Static, fe = zone.Static{
		CAA:   []zone.CAA{{Tag: "issue", Value: "letsencrypt.org"}, {Flags: 128, Tag: "iodef", Value: `mailto:"sec"@example.com`}},
		TXT:   []string{"v=spf1 -all", strings.Repeat("long ", 60) + `with "quotes" and \ a backslash`},
		HTTPS: &zone.HTTPS{Priority: 1, ALPN: []string{"h3", "h2"}, Port: 8443},
	}.Canonical()
	if fe != nil {
		t.Fatal(fe)
	}
	return z
}

// TestTextAnswersLikeTheAgent loads the text with miekg/dns's zone parser
// and checks that, for every question, the records it holds are the ones
// the agent's responder answers with.
func TestTextAnswersLikeTheAgent(t *testing.T) {
	z := testZone(t)
	text := Text(z)
	var rrs []dns.RR
	zp := dns.NewZoneParser(strings.NewReader(text), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone text does not parse: %v\n%s", err, text)
	}
	table := responder.NewTable([]*responder.Zone{responder.Compile(z, nil, responder.Fence{})}, nil)
	for _, name := range []string{"api.example.com.", "www.api.example.com.", "a.b.api.example.com.", "_acme-challenge.api.example.com."} {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSOA, dns.TypeNS, dns.TypeTXT, dns.TypeCAA, dns.TypeHTTPS} {
			fromFile := fileAnswer(rrs, name, qtype)
			q := new(dns.Msg).SetQuestion(name, qtype)
			wire, _ := q.Pack()
			out, _ := responder.Respond(table, wire, make([]byte, 0, 1232), false)
			resp := new(dns.Msg)
			if err := resp.Unpack(out); err != nil {
				t.Fatal(err)
			}
			var fromAgent []string
			for _, rr := range resp.Answer {
				rr.Header().Name = strings.ToLower(rr.Header().Name)
				fromAgent = append(fromAgent, rr.String())
			}
			slices.Sort(fromAgent)
			if !slices.Equal(fromFile, fromAgent) {
				t.Errorf("%s %s:\n file  %v\n agent %v", name, dns.TypeToString[qtype], fromFile, fromAgent)
			}
		}
	}
}

// fileAnswer is what an authoritative server holding rrs answers: exact
// owner match, else the wildcard synthesised at the query name (only for
// names beneath the apex: SOA and NS live at the apex only).
func fileAnswer(rrs []dns.RR, name string, qtype uint16) []string {
	var out []string
	for _, rr := range rrs {
		// A CNAME at the name answers every type (RFC 1034 §3.6.2).
		if (rr.Header().Rrtype == qtype || rr.Header().Rrtype == dns.TypeCNAME) && rr.Header().Name == name {
			out = append(out, rr.String())
		}
	}
	if len(out) == 0 && name != "api.example.com." && !slices.ContainsFunc(rrs, func(rr dns.RR) bool { return rr.Header().Name == name }) {
		for _, rr := range rrs {
			if rr.Header().Rrtype == qtype && rr.Header().Name == "*.api.example.com." {
				c := dns.Copy(rr)
				c.Header().Name = name
				out = append(out, c.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestTextPassesNamedCheckzone runs BIND's own checker on the text.
func TestTextPassesNamedCheckzone(t *testing.T) {
	checker, err := exec.LookPath("named-checkzone")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("named-checkzone missing in CI; .ci/run installs bind9")
		}
		t.Skip("named-checkzone not installed (apt-get install bind9-utils)")
	}
	z := testZone(t)
	path := filepath.Join(t.TempDir(), FileName(z))
	if err := os.WriteFile(path, []byte(Text(z)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(checker, "-i", "local", strings.TrimSuffix(z.Name, "."), path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "loaded serial 2026112501") {
		t.Fatalf("named-checkzone: %v\n%s\n%s", err, out, Text(z))
	}
}

func TestCorefile(t *testing.T) {
	z := testZone(t)
	got := Corefile(z, "/etc/coredns/"+FileName(z))
	want := "api.example.com.:53 {\n    file /etc/coredns/db.api.example.com\n    errors\n}\n"
	if got != want {
		t.Fatalf("Corefile:\n%s\nwant\n%s", got, want)
	}
}
