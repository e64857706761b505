package model

import (
	"strings"
	"testing"
)

func TestValidateNode(t *testing.T) {
	good := Node{Zone: "example.com", Name: "lb1", IPv4: "198.51.100.10", IPv6: "2001:db8::10", AgentURL: "https://198.51.100.10:8053", TTL: ptr(300)}
	if p, w := ValidateNode(good); len(p) != 0 || len(w) != 0 {
		t.Fatalf("good node rejected: %+v %+v", p, w)
	}
	cases := []struct {
		edit func(*Node)
		attr string
		msg  string
	}{
		{func(n *Node) { n.Zone = "exa mple.com" }, "zone", "contains"},
		{func(n *Node) { n.Name = "lb1.example.com." }, "name", "relative"},
		{func(n *Node) { n.Name = "-lb1" }, "name", "hyphen"},
		{func(n *Node) { n.Name = strings.Repeat("a", 64) }, "name", "at most 63"},
		{func(n *Node) { n.Name = "x._pmgtm" }, "name", "ownership markers"},
		{func(n *Node) { n.IPv4 = "2001:db8::1" }, "ipv4", "not an IPv4"},
		{func(n *Node) { n.IPv4 = "224.0.0.1" }, "ipv4", "multicast"},
		{func(n *Node) { n.IPv6 = "fe80::1" }, "ipv6", "link-local"},
		{func(n *Node) { n.IPv6 = "banana" }, "ipv6", "not an IP"},
		{func(n *Node) { n.TTL = ptr(5) }, "ttl", "60 to 86400"},
		{func(n *Node) { n.TTL = ptr(0) }, "ttl", "ttl = 0"},
		{func(n *Node) { n.AgentURL = "ftp://x" }, "agent_url", "https://"},
		{func(n *Node) { n.AgentURL = "https://x:8053/v1?a=b" }, "agent_url", "without path"},
		{func(n *Node) { n.AgentURL = "https://:8053" }, "agent_url", "no host"},
		{func(n *Node) { n.IPv4, n.IPv6, n.NoAddress = "", "", true }, "ipv4", "Set ipv4, ipv6 or both"},
		{func(n *Node) { n.Credentials.Fingerprint = "abc" }, "agent_tls_fingerprint", "fingerprint"},
		{func(n *Node) { n.Credentials.ClientCertPEM = "x" }, "agent_client_cert_pem", "go together"},
		{func(n *Node) { n.Credentials.ClientCertPEM, n.Credentials.ClientKeyPEM = "x", "y" }, "agent_client_cert_pem", "usable pair"},
	}
	for _, c := range cases {
		n := good
		c.edit(&n)
		p, _ := ValidateNode(n)
		if len(p) != 1 || p[0].Attribute != c.attr || !strings.Contains(p[0].Detail, c.msg) {
			t.Errorf("%+v: got %+v, want one problem on %s mentioning %q", n, p, c.attr, c.msg)
		}
	}
}

// TestNodeWarnings: an http:// agent beyond loopback is a warning (the
// token would cross the network in clear); loopback and https are not; a
// valid pinned fingerprint is no problem.
func TestNodeWarnings(t *testing.T) {
	for url, warn := range map[string]bool{"http://198.51.100.10:8053": true, "http://127.0.0.1:8053": false,
		"http://localhost:8053": false, "https://198.51.100.10:8053": false} {
		n := Node{Zone: "example.com", Name: "lb1", IPv4: "198.51.100.10", AgentURL: url}
		errs, warns := ValidateNode(n)
		if len(errs) != 0 || (len(warns) == 1) != warn || (warn && warns[0].Attribute != AttrAgentURL) {
			t.Errorf("%s: errors %+v, warnings %+v; want a warning: %v", url, errs, warns, warn)
		}
	}
	n := Node{Zone: "example.com", Name: "lb1", IPv4: "198.51.100.10",
		Credentials: AgentCredentials{Fingerprint: "sha256:" + strings.Repeat("ab", 32)}}
	if errs, _ := ValidateNode(n); len(errs) != 0 {
		t.Errorf("a valid fingerprint: %+v", errs)
	}
}

// TestHostnameNodeCredentials: a node inside pmgtm_hostname.nodes is
// checked like pmgtm_node's own, at its element's path.
func TestHostnameNodeCredentials(t *testing.T) {
	h := Hostname{Zone: "example.com", Name: "api", Nodes: []HostnameNode{
		{Nameserver: "lb1.example.com", IPv4: "198.51.100.10"},
		{Nameserver: "lb2.example.com", IPv4: "198.51.100.11", Credentials: AgentCredentials{ClientKeyPEM: "k"}},
	}}
	errs, _ := ValidateHostname(h)
	if len(errs) != 1 || errs[0].Attribute != "nodes[1].agent_client_cert_pem" {
		t.Errorf("problems %+v, want one at nodes[1].agent_client_cert_pem", errs)
	}
}

func ptr(v int64) *int64 { return &v }

// TestValidateZoneFile: the rendered node must be one of nodes, and a
// fixed serial must fit the SOA's 32 bits (0 is not a serial pmgtm writes).
func TestValidateZoneFile(t *testing.T) {
	nodes := []HostnameNode{{Nameserver: "lb1.example.com.", IPv4: "198.51.100.10"}, {Nameserver: "lb2.example.com.", IPv4: "198.51.100.11"}}
	base := ZoneFile{Hostname: Hostname{Zone: "example.com", Name: "api", Nodes: nodes}, Self: &nodes[1]}
	if errs, _ := ValidateZoneFile(base); len(errs) != 0 {
		t.Fatalf("valid zone file: %+v", errs)
	}
	stranger := HostnameNode{Nameserver: "lb3.example.com.", IPv4: "198.51.100.12"}
	for _, c := range []struct {
		edit func(*ZoneFile)
		attr string
	}{
		{func(z *ZoneFile) { z.Self = &stranger }, "node"},
		{func(z *ZoneFile) { z.Serial = ptr(0) }, "serial"},
		{func(z *ZoneFile) { z.Serial = ptr(1 << 32) }, "serial"},
	} {
		z := base
		c.edit(&z)
		if errs, _ := ValidateZoneFile(z); len(errs) != 1 || errs[0].Attribute != c.attr {
			t.Errorf("%+v: problems %+v, want one at %s", z, errs, c.attr)
		}
	}
	z := base
	z.Serial = ptr(4294967295)
	if errs, _ := ValidateZoneFile(z); len(errs) != 0 {
		t.Errorf("largest serial refused: %+v", errs)
	}
}
