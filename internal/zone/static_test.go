package zone

import (
	"strings"
	"testing"
)

func TestStaticCanonical(t *testing.T) {
	ok := Static{
		CAA:   []CAA{{Tag: "ISSUE", Value: "letsencrypt.org"}, {Flags: 128, Tag: "iodef", Value: "mailto:sec@example.com"}, {Tag: "issue", Value: "letsencrypt.org"}},
		TXT:   []string{"v=spf1 -all", "google-site-verification=abc"},
		HTTPS: &HTTPS{Priority: 1, ALPN: []string{"h2", "http/1.1"}, Port: 8443},
	}
	got, fe := ok.Canonical()
	if fe != nil {
		t.Fatal(fe)
	}
	if len(got.CAA) != 2 || got.CAA[0].Tag != "iodef" || got.CAA[1] != (CAA{Tag: "issue", Value: "letsencrypt.org"}) {
		t.Errorf("CAA not lower-cased, sorted and deduplicated: %+v", got.CAA)
	}
	if got.TXT[0] != "google-site-verification=abc" {
		t.Errorf("TXT not sorted: %q", got.TXT)
	}
	for _, tc := range []struct {
		name  string
		s     Static
		field string
		says  string
	}{
		{"flags", Static{CAA: []CAA{{Flags: 1, Tag: "issue", Value: "ca.example"}}}, "caa[0].flags", "128"},
		{"tag", Static{CAA: []CAA{{Tag: "is-sue", Value: "ca.example"}}}, "caa[0].tag", "letters or digits"},
		{"value", Static{CAA: []CAA{{Tag: "issue", Value: "ca\nexample"}}}, "caa[0].value", "printable"},
		{"empty txt", Static{TXT: []string{"ok", ""}}, "txt[1]", "1 to"},
		{"long txt", Static{TXT: []string{strings.Repeat("x", MaxTXTBytes+1)}}, "txt[0]", "1 to"},
		{"alias mode", Static{HTTPS: &HTTPS{}}, "https.priority", "alias mode"},
		{"alpn", Static{HTTPS: &HTTPS{Priority: 1, ALPN: []string{"h2", "h2,h3"}}}, "https.alpn[1]", "without ,"},
		{"alpn twice", Static{HTTPS: &HTTPS{Priority: 1, ALPN: []string{"h2", "h2"}}}, "https.alpn[1]", "twice"},
	} {
		if _, fe := tc.s.Canonical(); fe == nil || fe.Field != tc.field || !strings.Contains(fe.Message, tc.says) {
			t.Errorf("%s: %v; want an error on %s saying %q", tc.name, fe, tc.field, tc.says)
		}
	}
}

// TestUnknownFieldNamesEveryField: the message lists the fields a body
// accepts, those of embedded structs too.
func TestUnknownFieldNamesEveryField(t *testing.T) {
	_, fe := Decode([]byte(`{"ipv4":["192.0.2.1"],"nameservers":["ns1.example.com"],"bogus":1}`), "api.example.com")
	if fe == nil || fe.Field != "bogus" {
		t.Fatalf("%v", fe)
	}
	for _, f := range []string{"zone", "soa", "health_check", "peer_key", "acme_challenge", "caa", "txt", "https"} {
		if !strings.Contains(fe.Message, f) {
			t.Errorf("the message does not name %s: %s", f, fe.Message)
		}
	}
}
