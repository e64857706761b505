package zone

import (
	"bytes"
	"testing"
)

// FuzzDecode: no body may panic the decoder, and every accepted body must
// survive the trip through storage unchanged (Encode, then Parse).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"]}`), "api.example.com")
	f.Add([]byte(`{"zone":"api.example.com.","ipv6":["2001:db8::1"],"nameservers":["lb1.example.com"],"answer_ttl":5,"soa":{"minimum":0}}`), "API.example.com.")
	f.Add([]byte(`{"ipv4":["1.2.3.4"],"nameservers":["a.b"],"serial":4294967295,"ns_ttl":604800}`), "x.y")
	f.Add([]byte(`{"ipv4":[]}`), "")
	f.Fuzz(func(t *testing.T, body []byte, name string) {
		z, fe := Decode(body, name)
		if fe != nil {
			if fe.Message == "" {
				t.Fatal("error without a message")
			}
			return
		}
		if z.Serial == 0 {
			z.Serial = 1
		}
		stored := Encode(z)
		back, err := Parse(stored)
		if err != nil {
			t.Fatalf("accepted zone does not parse back: %v\n%s", err, stored)
		}
		if !bytes.Equal(Encode(back), stored) {
			t.Fatalf("round trip changed the zone:\n%s\n%s", stored, Encode(back))
		}
	})
}
