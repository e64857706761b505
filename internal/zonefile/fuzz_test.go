package zonefile

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// FuzzTextRoundTrip: every zone the agent accepts renders to master-file
// text that parses back (miekg/dns's zone parser) to exactly the zone's
// records: SOA, NS set, and the addresses at the apex and the wildcard.
func FuzzTextRoundTrip(f *testing.F) {
	f.Add([]byte(`{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com","lb2.example.com"]}`), "api.example.com")
	f.Add([]byte(`{"ipv6":["2001:db8::1","2001:db8::2"],"nameservers":["a.example.net"],"answer_ttl":1,"ns_ttl":86400,"soa":{"rname":"ops@example.org","minimum":0}}`), "x-1.y_z.example")
	f.Add([]byte(`{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"],"caa":[{"flags":0,"tag":"issue","value":"ca.example"}],"txt":["a \\"b\\" c"],"https":{"priority":1,"alpn":["h2"],"port":443}}`), "api.example.com")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		z, fe := zone.Decode(body, name)
		if fe != nil {
			return
		}
		z.Serial = 7
		text := Text(z)
		zp := dns.NewZoneParser(strings.NewReader(text), "", "")
		var soa *dns.SOA
		var ns []string
		addrs := map[string][]netip.Addr{}
		static := map[uint16]int{}
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			switch v := rr.(type) {
			case *dns.SOA:
				soa = v
			case *dns.NS:
				ns = append(ns, strings.ToLower(v.Ns))
			case *dns.A:
				addrs[v.Hdr.Name] = append(addrs[v.Hdr.Name], netip.AddrFrom4([4]byte(v.A.To4())))
			case *dns.AAAA:
				addrs[v.Hdr.Name] = append(addrs[v.Hdr.Name], netip.AddrFrom16([16]byte(v.AAAA.To16())))
			case *dns.CAA, *dns.TXT, *dns.HTTPS:
				static[rr.Header().Rrtype]++
			default:
				t.Fatalf("unexpected record %v", rr)
			}
		}
		if err := zp.Err(); err != nil {
			t.Fatalf("text does not parse: %v\n%s", err, text)
		}
		https := 0
		if z.HTTPS != nil {
			https = 1
		}
		if static[dns.TypeCAA] != len(z.CAA) || static[dns.TypeTXT] != len(z.TXT) || static[dns.TypeHTTPS] != https {
			t.Fatalf("static records %v, want %d CAA, %d TXT, %d HTTPS\n%s", static, len(z.CAA), len(z.TXT), https, text)
		}
		if soa == nil || soa.Serial != 7 || strings.ToLower(soa.Ns) != z.SOA.MName || soa.Minttl != z.SOA.Minimum || soa.Hdr.Name != z.Name {
			t.Fatalf("SOA %v from\n%s", soa, text)
		}
		slices.Sort(ns)
		if !slices.Equal(ns, z.Nameservers) {
			t.Fatalf("NS %v, want %v", ns, z.Nameservers)
		}
		var want []netip.Addr
		for _, s := range slices.Concat(z.IPv4, z.IPv6) {
			want = append(want, netip.MustParseAddr(s))
		}
		for _, owner := range []string{z.Name, "*." + z.Name} {
			got := addrs[owner]
			slices.SortFunc(got, netip.Addr.Compare)
			slices.SortFunc(want, netip.Addr.Compare)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v\n%s", owner, got, want, text)
			}
		}
	})
}
