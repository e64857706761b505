package model

import (
	"strings"
	"testing"
)

func TestValidateNode(t *testing.T) {
	good := Node{Zone: "example.com", Name: "lb1", IPv4: "198.51.100.10", IPv6: "2001:db8::10", AgentURL: "https://198.51.100.10:8053", TTL: ptr(300)}
	if p := ValidateNode(good); len(p) != 0 {
		t.Fatalf("good node rejected: %+v", p)
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
	}
	for _, c := range cases {
		n := good
		c.edit(&n)
		p := ValidateNode(n)
		if len(p) != 1 || p[0].Attribute != c.attr || !strings.Contains(p[0].Detail, c.msg) {
			t.Errorf("%+v: got %+v, want one problem on %s mentioning %q", n, p, c.attr, c.msg)
		}
	}
}

func ptr(v int64) *int64 { return &v }
