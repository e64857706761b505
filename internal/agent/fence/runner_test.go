package fence

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// spoofer answers every TXT question authoritatively with "ok", but with
// the owner name (and question) that answer says.
func spoofer(t *testing.T, owner func(q string) string) uint16 {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		m.Authoritative = true
		name := owner(req.Question[0].Name)
		m.Question[0].Name = name
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: zone.HealthTXT(zone.HealthOK, 1)}}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	p, _ := strconv.Atoi(port)
	return uint16(p)
}

// TestPeerHealthChecksTheQuestion: an "ok" for another name, or an answer
// to another question, does not make a peer healthy; the real one does.
func TestPeerHealthChecksTheQuestion(t *testing.T) {
	peer := zone.Peer{Name: "lb2.example.com.", IPv4: []string{"127.0.0.1"}}
	for _, c := range []struct {
		name    string
		owner   func(string) string
		healthy bool
	}{
		{"other owner", func(string) string { return zone.HealthName("other.example.com.") }, false},
		{"any name", func(string) string { return "example.com." }, false},
		{"the question", func(q string) string { return q }, true},
	} {
		r := &Runner{PeerPort: spoofer(t, c.owner)}
		got := r.peerHealthy(context.Background(), "api.example.com.", peer, time.Second)
		if got != c.healthy {
			t.Errorf("%s: healthy = %v, want %v", c.name, got, c.healthy)
		}
	}
}

func TestHealthTXTRoundTrip(t *testing.T) {
	state, serial, ok := zone.ParseHealthTXT(zone.HealthTXT(zone.HealthDrained, 42))
	if !ok || state != zone.HealthDrained || serial != 42 {
		t.Fatalf("%q %d %v", state, serial, ok)
	}
	for _, bad := range [][]string{{"ok"}, {"okay", "serial=1"}, {"ok", "serial=x"}, {"ok", "1"}} {
		if _, _, ok := zone.ParseHealthTXT(bad); ok {
			t.Errorf("%q parsed as a health record", bad)
		}
	}
}
