package zone

import (
	"strings"
	"testing"
	"time"
)

func TestCanonicalName(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	cases := []struct {
		in, want, err string
	}{
		{"api.example.com", "api.example.com.", ""},
		{"API.Example.COM.", "api.example.com.", ""},
		{"_dmarc.example.com", "_dmarc.example.com.", ""},
		{"xn--bcher-kva.example", "xn--bcher-kva.example.", ""},
		{long63 + ".example.com", long63 + ".example.com.", ""},
		{"", "", "empty"},
		{".", "", "empty"},
		{"a..b", "", "empty label"},
		{"a.b..", "", "two dots"},
		{long63 + "a.example.com", "", "at most 63"},
		{strings.Repeat("abcdefghi.", 26), "", "at most 253"},
		{"-api.example.com", "", "hyphen"},
		{"api-.example.com", "", "hyphen"},
		{"a pi.example.com", "", `contains " "`},
		{"api.exa*mple.com", "", `contains "*"`},
	}
	for _, tc := range cases {
		got, err := CanonicalName(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("CanonicalName(%q) error %v, want one containing %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CanonicalName(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	const ok = `"nameservers":["lb1.example.com"],"ipv4":["198.51.100.10"]`
	cases := []struct {
		name, path, body, field, msg string
	}{
		{"not JSON", "api.example.com", `{`, "", "not valid JSON"},
		{"empty", "api.example.com", ``, "", "empty"},
		{"two objects", "api.example.com", `{` + ok + `}{}`, "", "after the JSON object"},
		{"unknown field", "api.example.com", `{` + ok + `,"ttl":5}`, "ttl", "unknown field"},
		{"wrong type", "api.example.com", `{` + ok + `,"answer_ttl":"30"}`, "answer_ttl", "expected int64"},
		{"bad path name", "api..example.com", `{` + ok + `}`, "zone", "empty label"},
		{"bad body name", "api.example.com", `{` + ok + `,"zone":"a_b-.example.com"}`, "zone", "hyphen"},
		{"body names another zone", "api.example.com", `{` + ok + `,"zone":"www.example.com"}`, "zone", "must agree"},
		{"top-level domain", "com", `{` + ok + `}`, "zone", "top-level"},
		{"no address", "api.example.com", `{"nameservers":["lb1.example.com"]}`, "ipv4", "no address"},
		{"not an address", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":["198.51.100"]}`, "ipv4[0]", "not an IP address"},
		{"v6 in ipv4", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":["2001:db8::1"]}`, "ipv4[0]", "put IPv6 addresses in ipv6"},
		{"v4 in ipv6", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv6":["198.51.100.1"]}`, "ipv6[0]", "put IPv4 addresses in ipv4"},
		{"mapped v4 in ipv6", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv6":["::ffff:198.51.100.1"]}`, "ipv6[0]", "not an IPv6"},
		{"multicast", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":["224.0.0.1"]}`, "ipv4[0]", "multicast"},
		{"unspecified", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv6":["::"]}`, "ipv6[0]", "unspecified"},
		{"broadcast", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":["255.255.255.255"]}`, "ipv4[0]", "broadcast"},
		{"link-local", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv6":["fe80::1"]}`, "ipv6[0]", "link-local"},
		{"zone index", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv6":["2001:db8::1%eth0"]}`, "ipv6[0]", "zone index"},
		{"duplicate address", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":["198.51.100.1","198.51.100.1"]}`, "ipv4[1]", "twice"},
		{"too many addresses", "api.example.com", `{"nameservers":["lb1.example.com"],"ipv4":[` + strings.Repeat(`"198.51.100.1",`, 16) + `"198.51.100.2"]}`, "ipv4", "at most 16"},
		{"answer TTL zero", "api.example.com", `{` + ok + `,"answer_ttl":0}`, "answer_ttl", "out of range"},
		{"answer TTL too big", "api.example.com", `{` + ok + `,"answer_ttl":86401}`, "answer_ttl", "1 to 86400"},
		{"negative ns TTL", "api.example.com", `{` + ok + `,"ns_ttl":-1}`, "ns_ttl", "out of range"},
		{"SOA minimum too big", "api.example.com", `{` + ok + `,"soa":{"minimum":100000}}`, "soa.minimum", "out of range"},
		{"SOA bad mname", "api.example.com", `{` + ok + `,"soa":{"mname":"bad name"}}`, "soa.mname", "contains"},
		{"serial zero", "api.example.com", `{` + ok + `,"serial":0}`, "serial", "out of range"},
		{"no nameservers", "api.example.com", `{"ipv4":["198.51.100.10"]}`, "nameservers", "is empty"},
		{"bad nameserver", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1..example.com"]}`, "nameservers[0]", "empty label"},
		{"nameserver inside zone", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["ns.api.example.com"]}`, "nameservers[0]", "inside the zone"},
		{"duplicate nameserver", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com","LB1.example.com."]}`, "nameservers[1]", "twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, fe := Decode([]byte(tc.body), tc.path)
			if fe == nil {
				t.Fatal("accepted")
			}
			if fe.Field != tc.field || !strings.Contains(fe.Message, tc.msg) {
				t.Fatalf("got field %q message %q; want field %q message containing %q", fe.Field, fe.Message, tc.field, tc.msg)
			}
		})
	}
}

func TestDecodeCanonical(t *testing.T) {
	z, fe := Decode([]byte(`{"zone":"API.example.com.","ipv4":["198.51.100.20","198.51.100.10"],
		"ipv6":["2001:DB8:0::10"],"nameservers":["LB2.example.com","lb1.example.com."],"answer_ttl":60}`), "api.example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	want := `{"zone":"api.example.com.","serial":0,"ipv4":["198.51.100.10","198.51.100.20"],"ipv6":["2001:db8::10"],` +
		`"answer_ttl":60,"nameservers":["lb1.example.com.","lb2.example.com."],"ns_ttl":300,` +
		`"soa":{"mname":"lb1.example.com.","rname":"hostmaster.api.example.com.","refresh":3600,"retry":600,"expire":604800,"minimum":60}}` + "\n"
	if got := string(Encode(z)); got != want {
		t.Fatalf("canonical form\n got %s\nwant %s", got, want)
	}
	z.Serial = 7
	back, err := Parse(Encode(z))
	if err != nil || !SameContent(back, z) || back.Serial != 7 {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestParseRejectsDamage(t *testing.T) {
	z, _ := Decode([]byte(`{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"]}`), "api.example.com")
	z.Serial = 3
	good := Encode(z)
	for name, data := range map[string][]byte{
		"truncated":  good[:len(good)/2],
		"no serial":  []byte(strings.Replace(string(good), `"serial":3,`, "", 1)),
		"bad value":  []byte(strings.Replace(string(good), "198.51.100.10", "198.51.100.300", 1)),
		"empty file": nil,
	} {
		if _, err := Parse(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestAssignSerial(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	z, _ := Decode([]byte(`{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"]}`), "api.example.com")
	first := Assign(z, nil, now)
	if first.Serial != 1_800_000_000 {
		t.Fatalf("first serial %d", first.Serial)
	}
	if again := Assign(z, &first, now.Add(time.Hour)); again.Serial != first.Serial {
		t.Fatalf("unchanged content moved the serial to %d", again.Serial)
	}
	changed := z
	changed.AnswerTTL = 60
	if next := Assign(changed, &first, now); next.Serial != first.Serial+1 {
		t.Fatalf("change in the same second: serial %d, want %d", next.Serial, first.Serial+1)
	}
	if later := Assign(changed, &first, now.Add(time.Minute)); later.Serial != 1_800_000_060 {
		t.Fatalf("later change: serial %d", later.Serial)
	}
	explicit := changed
	explicit.Serial = 42
	if got := Assign(explicit, &first, now); got.Serial != 42 {
		t.Fatalf("explicit serial replaced by %d", got.Serial)
	}
}

func TestBodyRoundTrip(t *testing.T) {
	serial := int64(42)
	min := int64(5)
	z, fe := Body{Name: "api.example.com", Serial: &serial, IPv4: []string{"198.51.100.10"}, IPv6: []string{"2001:db8::10"},
		Nameservers: []string{"lb2.example.com", "lb1.example.com"}, SOA: &SOABody{RName: "ops@example.org", Minimum: &min}}.Canonical("api.example.com")
	if fe != nil {
		t.Fatal(fe)
	}
	back, fe := z.Body().Canonical(z.Name)
	if fe != nil || string(Encode(back)) != string(Encode(z)) {
		t.Fatalf("round trip changed the zone:\n%s%s(%v)", Encode(z), Encode(back), fe)
	}
}

func TestNextSerial(t *testing.T) {
	for _, c := range []struct {
		prev uint32
		now  int64
		want uint32
	}{{0, 1764000000, 1764000000}, {1764000000, 1764000000, 1764000001}, {1764000005, 1764000000, 1764000006}, {4294967295, 1764000000, 1}} {
		if got := NextSerial(c.prev, c.now); got != c.want {
			t.Errorf("NextSerial(%d, %d) = %d, want %d", c.prev, c.now, got, c.want)
		}
	}
}
