package model

import (
	"fmt"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// StaticRecords are the caa, txt and https attributes as configured, with
// numbers as Terraform gives them (nil: unset), so that every rule about
// them lives here.
type StaticRecords struct {
	CAA   []CAA
	TXT   []string
	HTTPS *HTTPS
}

// CAA is one caa element.
type CAA struct {
	Flags      *int64
	Tag, Value string
}

// HTTPS is the https attribute.
type HTTPS struct {
	Priority, Port *int64
	ALPN           []string
}

// Zone checks the records and returns them in the zone's canonical form,
// or the problems, each at its attribute path (caa[1].flags).
func (s StaticRecords) Zone() (zone.Static, []Problem) {
	var out zone.Static
	var problems []Problem
	number := func(v *int64, attr string, lo, hi, unset int64) int64 {
		switch {
		case v == nil:
			return unset
		case *v < lo || *v > hi:
			problems = append(problems, Problem{attr, "Number out of range", fmt.Sprintf("%s = %d; use %d to %d.", attr, *v, lo, hi)})
			return unset
		}
		return *v
	}
	for i, c := range s.CAA {
		flags := number(c.Flags, fmt.Sprintf("caa[%d].flags", i), 0, 255, 0)
		out.CAA = append(out.CAA, zone.CAA{Flags: uint8(flags), Tag: c.Tag, Value: c.Value})
	}
	out.TXT = s.TXT
	if h := s.HTTPS; h != nil {
		out.HTTPS = &zone.HTTPS{ALPN: h.ALPN,
			Priority: uint16(number(h.Priority, "https.priority", 1, 65535, 1)),
			Port:     uint16(number(h.Port, "https.port", 1, 65535, 0))}
	}
	if len(problems) > 0 {
		return zone.Static{}, problems
	}
	c, fe := out.Canonical()
	if fe != nil {
		return zone.Static{}, []Problem{{fe.Field, "Invalid record", fe.Message + "."}}
	}
	return c, nil
}
