package model

import (
	"strings"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestValidateHostname(t *testing.T) {
	lb1 := HostnameNode{Nameserver: "lb1.example.com.", IPv4: "198.51.100.10", AgentURL: "https://198.51.100.10:8053"}
	lb2 := HostnameNode{Nameserver: "lb2.example.com.", IPv4: "198.51.100.11", IPv6: "2001:db8::11", AgentURL: "https://198.51.100.11:8053"}
	good := Hostname{Zone: "example.com", Name: "api", Nodes: []HostnameNode{lb1, lb2}, AnswerTTL: ptr(30), NSTTL: ptr(300)}
	if errs, warns := ValidateHostname(good); len(errs)+len(warns) != 0 {
		t.Fatalf("good hostname: %+v %+v", errs, warns)
	}
	cases := []struct {
		name string
		edit func(*Hostname)
		warn bool
		attr string
		msg  string
	}{
		{"apex", func(h *Hostname) { h.Name = "@" }, false, "name", "apex cannot be delegated"},
		{"absolute name", func(h *Hostname) { h.Name = "api.example.com." }, false, "name", "relative to the zone"},
		{"bad zone", func(h *Hostname) { h.Zone = "exa..mple.com" }, false, "zone", "empty label"},
		{"label too long", func(h *Hostname) { h.Name = strings.Repeat("x", 64) }, false, "name", "at most 63"},
		{"name too long", func(h *Hostname) { h.Name = strings.Repeat("abcdefghi.", 25) + "x" }, false, "name", "at most 253"},
		{"marker label", func(h *Hostname) { h.Name = "_pmgtm" }, false, "name", "ownership markers"},
		{"name with zone", func(h *Hostname) { h.Name = "api.example.com" }, false, "name", `Did you mean "api"?`},
		{"name is zone", func(h *Hostname) { h.Name = "Example.com" }, false, "name", "is the zone itself"},
		{"answer ttl", func(h *Hostname) { h.AnswerTTL = ptr(0) }, false, "answer_ttl", "answer_ttl = 0; use 1 to 86400"},
		{"ns ttl", func(h *Hostname) { h.NSTTL = ptr(100000) }, false, "ns_ttl", "ns_ttl = 100000; use 60 to 86400"},
		{"ns below answer", func(h *Hostname) { h.AnswerTTL, h.NSTTL = ptr(600), ptr(300) }, true, "ns_ttl", "ns_ttl = 300 is below answer_ttl = 600"},
		{"no nodes", func(h *Hostname) { h.Nodes = []HostnameNode{} }, false, "nodes", "at least one"},
		{"one node", func(h *Hostname) { h.Nodes = []HostnameNode{lb1} }, true, "nodes", "add a second"},
		{"duplicate node", func(h *Hostname) { h.Nodes = []HostnameNode{lb1, lb1} }, false, "nodes[1]", "nodes[0] and nodes[1] are both lb1.example.com"},
		{"shared address", func(h *Hostname) {
			x := lb2
			x.IPv4 = lb1.IPv4
			h.Nodes = []HostnameNode{lb1, x}
		}, false, "nodes[1].ipv4", "share the address 198.51.100.10"},
		{"ns beneath", func(h *Hostname) {
			x := lb2
			x.Nameserver = "ns.api.example.com"
			h.Nodes = []HostnameNode{lb1, x}
		}, false, "nodes[1].nameserver", "nodes[1].nameserver ns.api.example.com lies at or beneath api.example.com"},
		{"bad url", func(h *Hostname) {
			x := lb2
			x.AgentURL = "198.51.100.11:8053"
			h.Nodes = []HostnameNode{lb1, x}
		}, false, "nodes[1].agent_url", "nodes[1]: agent_url"},
		{"no address", func(h *Hostname) {
			x := lb2
			x.IPv4, x.IPv6 = "", ""
			h.Nodes = []HostnameNode{lb1, x}
		}, false, "nodes[1]", "neither ipv4 nor ipv6"},
	}
	for _, c := range cases {
		h := good
		c.edit(&h)
		errs, warns := ValidateHostname(h)
		got := errs
		if c.warn {
			got = warns
			if len(errs) != 0 {
				t.Errorf("%s: unexpected errors %+v", c.name, errs)
			}
		}
		if len(got) != 1 || got[0].Attribute != c.attr || !strings.Contains(got[0].Detail, c.msg) {
			t.Errorf("%s: got errors %+v warnings %+v; want one on %s mentioning %q", c.name, errs, warns, c.attr, c.msg)
		}
	}
	// At plan time every node needs an agent URL (imports have none).
	if p := ValidateNodesUsable([]HostnameNode{lb1, {Nameserver: "lb2.example.com."}}); len(p) != 1 || p[0].Attribute != "nodes[1].agent_url" {
		t.Errorf("missing agent_url: %+v", p)
	}
	// Unknown parts are skipped, not reported.
	if errs, warns := ValidateHostname(Hostname{Zone: "example.com", Name: "api"}); len(errs)+len(warns) != 0 {
		t.Errorf("unknown nodes and TTLs reported: %+v %+v", errs, warns)
	}
}

func TestFailoverBudget(t *testing.T) {
	b := FailoverBudget(30)
	want := map[string]float64{"unbound": 30.4, "knot_resolver": 30.4, "bind": 30.8, "powerdns_recursor": 31.5}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("%s: %v, want %v", k, b[k], v)
		}
	}
	if len(b) != len(want) {
		t.Errorf("families %v", b)
	}
}

func TestNodeZoneIsAcceptedByTheAgentModel(t *testing.T) {
	lb1 := HostnameNode{Nameserver: "lb1.example.com.", IPv4: "198.51.100.10", IPv6: "2001:db8::10"}
	lb2 := HostnameNode{Nameserver: "lb2.example.com.", IPv4: "198.51.100.11"}
	hc := &zone.HealthCheckBody{Type: "tcp", Target: "{ipv4}:443"}
	z, fe := NodeZone("api.example.com.", lb1, []HostnameNode{lb1, lb2}, ZoneSettings{AnswerTTL: 30, NSTTL: 300, Serial: 7,
		HealthCheck: hc, Withdraw: zone.WithdrawRefused, Drained: []string{"LB1.example.com"}}).Canonical("api.example.com.")
	if fe != nil {
		t.Fatal(fe)
	}
	if z.Serial != 7 || z.SOA.MName != "lb1.example.com." || len(z.Nameservers) != 2 || z.IPv4[0] != "198.51.100.10" || z.IPv6[0] != "2001:db8::10" {
		t.Fatalf("zone %+v", z)
	}
	if !z.Drain || z.Withdraw != zone.WithdrawRefused || z.HealthCheck.Target != "198.51.100.10:443" ||
		len(z.Peers) != 1 || z.Peers[0].Name != "lb2.example.com." || z.Peers[0].IPv4[0] != "198.51.100.11" {
		t.Fatalf("fencing fields %+v", z)
	}
	other, _ := NodeZone("api.example.com.", lb2, []HostnameNode{lb1, lb2}, ZoneSettings{AnswerTTL: 30, NSTTL: 300, Drained: []string{"lb1.example.com"}}).Canonical("api.example.com.")
	if other.Drain {
		t.Fatal("draining lb1 drained lb2")
	}
}

func TestHostnameFencingValidation(t *testing.T) {
	lb1 := HostnameNode{Nameserver: "lb1.example.com.", IPv4: "198.51.100.10", AgentURL: "https://198.51.100.10:8053"}
	lb2 := HostnameNode{Nameserver: "lb2.example.com.", IPv4: "198.51.100.11", AgentURL: "https://198.51.100.11:8053"}
	base := Hostname{Zone: "example.com", Name: "api", Nodes: []HostnameNode{lb1, lb2}}
	ok := base
	ok.HealthCheck = &HealthCheck{Type: "http", Target: "127.0.0.1:443", Path: "/healthz", Interval: "500ms", Timeout: "250ms", Fall: ptr(3), Rise: ptr(2)}
	ok.Withdraw, ok.Drain = "refused", []string{"lb1.example.com"}
	if errs, warns := ValidateHostname(ok); len(errs)+len(warns) != 0 {
		t.Fatalf("valid fencing: %+v %+v", errs, warns)
	}
	body, _ := ok.HealthCheck.Body()
	if *body.IntervalMS != 500 || *body.TimeoutMS != 250 {
		t.Fatalf("durations: %+v", body)
	}
	cases := []struct {
		edit func(*Hostname)
		warn bool
		attr string
		msg  string
	}{
		{func(h *Hostname) {
			h.HealthCheck = &HealthCheck{Type: "http", Target: "127.0.0.1:443", Interval: "soon"}
		}, false, "health_check", `interval = "soon" is not a duration`},
		{func(h *Hostname) {
			h.HealthCheck = &HealthCheck{Type: "http", Target: "127.0.0.1:443", Interval: "50ms"}
		}, false, "health_check", "interval: 50 is out of range; use 100 to 3600000 milliseconds"},
		{func(h *Hostname) { h.HealthCheck = &HealthCheck{Type: "ping", Target: "127.0.0.1:443"} }, false, "health_check", "use tcp, http or https"},
		{func(h *Hostname) { h.HealthCheck = &HealthCheck{Type: "tcp", Target: "localhost"} }, false, "health_check", "host:port"},
		{func(h *Hostname) { h.HealthCheck = &HealthCheck{Type: "http", Target: "127.0.0.1:80", Rise: ptr(0)} }, false, "health_check", "rise: 0 is out of range"},
		{func(h *Hostname) { h.Withdraw = "nxdomain" }, false, "withdraw_mode", "use one of redirect, refused, servfail, silent"},
		{func(h *Hostname) { h.Drain = []string{"lb9.example.com"} }, false, "drain", `"lb9.example.com", which is not the nameserver of any node`},
		{func(h *Hostname) { h.Drain = []string{"lb1.example.com", "lb2.example.com"} }, true, "drain", "All nodes are drained"},
	}
	for i, c := range cases {
		h := base
		c.edit(&h)
		errs, warns := ValidateHostname(h)
		got := errs
		if c.warn {
			got = warns
		}
		if len(got) != 1 || got[0].Attribute != c.attr || !strings.Contains(got[0].Detail, c.msg) {
			t.Errorf("case %d: got %+v / %+v, want %s: %q", i, errs, warns, c.attr, c.msg)
		}
	}
}
