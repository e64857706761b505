package zone

import (
	"strings"
	"testing"
)

func TestFencingFields(t *testing.T) {
	base := `"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com","lb2.example.com"],"soa":{"mname":"lb1.example.com"}`
	z, fe := Decode([]byte(`{`+base+`,"health_check":{"type":"http","target":"127.0.0.1:8080","interval_ms":500},
		"drain":true,"withdraw":"refused","peers":[{"name":"LB2.example.com","ipv4":["203.0.113.20"]}]}`), "api.example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	hc := z.HealthCheck
	if hc == nil || hc.Path != "/" || hc.IntervalMS != 500 || hc.TimeoutMS != 500 || hc.Fall != DefaultFall || hc.Rise != DefaultRise {
		t.Fatalf("defaults not filled: %+v", hc)
	}
	if !z.Drain || z.EffectiveWithdraw() != WithdrawRefused || len(z.Peers) != 1 || z.Peers[0].Name != "lb2.example.com." || !z.Fenced() {
		t.Fatalf("zone %+v", z)
	}
	back, fe := z.Body().Canonical(z.Name)
	if fe != nil || string(Encode(back)) != string(Encode(z)) {
		t.Fatalf("round trip: %s vs %s (%v)", Encode(back), Encode(z), fe)
	}
	plain, _ := Decode([]byte(`{`+base+`}`), "api.example.com")
	if plain.Fenced() || plain.EffectiveWithdraw() != WithdrawRedirect || strings.Contains(string(Encode(plain)), "health_check") {
		t.Fatalf("a zone without fencing must encode as before: %s", Encode(plain))
	}
	cases := []struct{ extra, field, msg string }{
		{`"health_check":{"type":"icmp","target":"127.0.0.1:1"}`, "health_check.type", "use tcp, http or https"},
		{`"health_check":{"type":"tcp","target":"127.0.0.1"}`, "health_check.target", "host:port"},
		{`"health_check":{"type":"tcp","target":"127.0.0.1:0"}`, "health_check.target", "1 to 65535"},
		{`"health_check":{"type":"tcp","target":"127.0.0.1:1","path":"/x"}`, "health_check.path", "only connects"},
		{`"health_check":{"type":"http","target":"127.0.0.1:1","path":"healthz"}`, "health_check.path", "absolute request path"},
		{`"health_check":{"type":"http","target":"127.0.0.1:1","interval_ms":50}`, "health_check.interval_ms", "100 to 3600000"},
		{`"health_check":{"type":"http","target":"127.0.0.1:1","interval_ms":200,"timeout_ms":300}`, "health_check.timeout_ms", "at most the interval"},
		{`"health_check":{"type":"http","target":"127.0.0.1:1","fall":0}`, "health_check.fall", "1 to 100"},
		{`"health_check":{"type":"http","target":"127.0.0.1:1","expect_status":99}`, "health_check.expect_status", "100 to 599"},
		{`"withdraw":"nxdomain"`, "withdraw", "redirect, refused, servfail, silent"},
		{`"peers":[{"name":"lb9.example.com","ipv4":["203.0.113.20"]}]`, "peers[0].name", "not among the zone's nameservers"},
		{`"peers":[{"name":"lb1.example.com","ipv4":["203.0.113.20"]}]`, "peers[0].name", "this node itself"},
		{`"peers":[{"name":"lb2.example.com"}]`, "peers[0]", "has no address"},
		{`"peers":[{"name":"lb2.example.com","ipv4":["224.0.0.1"]}]`, "peers[0].ipv4[0]", "multicast"},
		{`"peer_key":"c2hvcnQ="`, "peer_key", "base64 of 32 bytes"},
		{`"peer_key":"not base64!"`, "peer_key", "base64 of 32 bytes"},
	}
	for _, c := range cases {
		_, fe := Decode([]byte(`{`+base+`,`+c.extra+`}`), "api.example.com")
		if fe == nil || fe.Field != c.field || !strings.Contains(fe.Message, c.msg) {
			t.Errorf("%s: got %v, want %s: ...%s", c.extra, fe, c.field, c.msg)
		}
	}
}
