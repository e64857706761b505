package responder

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"
)

// BenchmarkRespond measures the pure answer path (no sockets): one query
// beneath a zone in a table of 10,000 zones.
func BenchmarkRespond(b *testing.B) {
	var zones []*Zone
	for i := range 10000 {
		zones = append(zones, Compile(testZone(b, fmt.Sprintf("z%d.bench.test", i), []string{"198.51.100.10"}, []string{"2001:db8::10"}), nil, Fence{}))
	}
	tab := NewTable(zones, nil)
	q := new(dns.Msg).SetQuestion("w1234.z777.bench.test.", dns.TypeA)
	q.SetEdns0(1232, false)
	wire, _ := q.Pack()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		resp, out := Respond(tab, wire, buf, false)
		tab.Count(out)
		if len(resp) == 0 {
			b.Fatal("no answer")
		}
	}
}
