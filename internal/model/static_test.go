package model

import (
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestStaticRecordsZone(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	ok := StaticRecords{CAA: []CAA{{Tag: "issue", Value: "letsencrypt.org"}}, HTTPS: &HTTPS{ALPN: []string{"h2"}}}
	z, problems := ok.Zone()
	if problems != nil || z.HTTPS == nil || z.HTTPS.Priority != 1 || z.HTTPS.Port != 0 || z.CAA[0] != (zone.CAA{Tag: "issue", Value: "letsencrypt.org"}) {
		t.Fatalf("defaults: %+v %v", z, problems)
	}
	for _, tc := range []struct {
		s    StaticRecords
		attr string
	}{
		{StaticRecords{CAA: []CAA{{Tag: "issue", Value: "x"}, {Flags: n(256), Tag: "issue", Value: "y"}}}, "caa[1].flags"},
		{StaticRecords{HTTPS: &HTTPS{Priority: n(0)}}, "https.priority"},
		{StaticRecords{HTTPS: &HTTPS{Port: n(70000)}}, "https.port"},
		{StaticRecords{CAA: []CAA{{Tag: "", Value: "x"}}}, "caa[0].tag"},
		{StaticRecords{TXT: []string{""}}, "txt[0]"},
	} {
		if _, problems := tc.s.Zone(); len(problems) != 1 || problems[0].Attribute != tc.attr {
			t.Errorf("%+v: %v; want one problem at %s", tc.s, problems, tc.attr)
		}
	}
	h := Hostname{Zone: "example.com", Name: "api", StaticKnown: true, Static: StaticRecords{HTTPS: &HTTPS{Priority: n(-1)}}}
	if errs, _ := ValidateHostname(h); len(errs) != 1 || errs[0].Attribute != "https.priority" {
		t.Errorf("ValidateHostname: %v", errs)
	}
}
