package store

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// TestZoneReaddedAroundReloadIsNotWithdrawn: a withdrawn zone whose file
// is removed (SIGHUP) and later put back (SIGHUP) is served, not
// withdrawn by the fencing state of its earlier life.
func TestZoneReaddedAroundReloadIsNotWithdrawn(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	z, fe := zone.Body{IPv4: []string{"192.0.2.1"}, Nameservers: []string{"lb1.example.test"}}.Canonical("api.example.test")
	if fe != nil {
		t.Fatal(fe)
	}
	if _, _, err := s.Put(z); err != nil {
		t.Fatal(err)
	}
	s.SetFence(z.Name, responder.Fence{Withdraw: zone.WithdrawRefused, Health: zone.HealthFailing})
	file := filepath.Join(s.dir, fileName(z.Name))
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	wire, _ := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA).Pack()
	resp, _ := responder.Respond(s.Table(), wire, nil, false)
	m := new(dns.Msg)
	if err := m.Unpack(resp); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Fatalf("re-added zone answered %v (%v); want its address", m, err)
	}
}
