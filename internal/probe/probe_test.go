package probe

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestMain(m *testing.M) { agentproc.Main(m) }

func TestCheckAgainstARealAgent(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{IP: "127.0.0.1"})
	port := netip.MustParseAddrPort(a.DNSAddr).Port()
	c := &agentclient.Client{BaseURL: a.APIURL, HTTP: a.HTTP}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	serial := int64(2026112501)
	body := zone.Body{Name: "api.example.test", Serial: &serial, IPv4: []string{"127.0.0.1"},
		Nameservers: []string{"lb1.example.test", "lb2.example.test"}}
	if _, _, err := c.PutZone(ctx, "api.example.test", body); err != nil {
		t.Fatal(err)
	}
	self := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	if err := CheckOnce(ctx, port, Want{FQDN: "api.example.test", Addrs: self, Serial: uint32(serial)}); err != nil {
		t.Fatalf("a correct node failed the check: %v", err)
	}
	ans, err := Ask(ctx, netip.MustParseAddrPort(a.DNSAddr), "API.example.test", 1)
	if err != nil || !ans.Authoritative || ans.TTL != zone.DefaultAnswerTTL || len(ans.Addrs) != 1 || ans.Addrs[0] != self[0] {
		t.Fatalf("Ask: %+v %v", ans, err)
	}
	cases := []struct {
		want Want
		msg  string
	}{
		{Want{FQDN: "api.example.test", Addrs: self, Serial: 7}, "serves serial 2026112501 of api.example.test, want 7"},
		{Want{FQDN: "other.example.test", Addrs: self}, "answered REFUSED, authoritative=false"},
		{Want{FQDN: "api.example.test", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}}, "127.0.0.2:"},
	}
	for _, c := range cases {
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := CheckOnce(short, port, c.want)
		cancel()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: got %v, want an error containing %q", c.want, err, c.msg)
		}
	}
	// An agent answering with another address than the node's own: the
	// zone says 127.0.0.1, but we expect the node at ::1 to answer for it.
	body.IPv4, body.IPv6 = nil, []string{"::1"}
	if _, _, err := c.PutZone(ctx, "api.example.test", body); err != nil {
		t.Fatal(err)
	}
	err = CheckOnce(ctx, port, Want{FQDN: "api.example.test", Addrs: self})
	if err == nil || !strings.Contains(err.Error(), "must answer with its own address 127.0.0.1") {
		t.Fatalf("got %v, want the own-address complaint", err)
	}
	// Check gives up at the deadline with the last reason.
	short, cancel2 := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel2()
	if err := Check(short, port, Want{FQDN: "api.example.test", Addrs: self}); err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("Check: %v", err)
	}
}
