package zone

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Static records at the hostname itself, the same on every node: what a
// public entry point needs beside its addresses. CAA restricts which CA may
// issue for it (RFC 8659), TXT carries domain verifications, and HTTPS
// (RFC 9460) tells clients the protocols it speaks, with address hints that
// are the answering node's own addresses, so that a client following the
// hints lands where the A/AAAA answer would have sent it.
type Static struct {
	CAA   []CAA    `json:"caa,omitempty"`
	TXT   []string `json:"txt,omitempty"`
	HTTPS *HTTPS   `json:"https,omitempty"`
}

// CAA is one CAA record.
type CAA struct {
	Flags uint8  `json:"flags"` // 0, or 128 (critical)
	Tag   string `json:"tag"`   // issue, issuewild, iodef, ... (lower case)
	Value string `json:"value"`
}

// HTTPS is the hostname's HTTPS record in service mode, its target the
// hostname itself ("."). Hints come from the node's addresses.
type HTTPS struct {
	Priority uint16   `json:"priority"` // 1 and up; 0 (alias mode) is not offered
	ALPN     []string `json:"alpn,omitempty"`
	Port     uint16   `json:"port,omitempty"` // 0: the scheme's default
}

// Limits of the static records.
const (
	MaxStaticRecords = 16   // of each type
	MaxTXTBytes      = 2048 // one TXT value (sent as strings of 255 bytes)
	MaxCAAValueBytes = 255
	MaxALPNIDs       = 8
)

// Empty reports whether s holds no record.
func (s Static) Empty() bool { return len(s.CAA) == 0 && len(s.TXT) == 0 && s.HTTPS == nil }

// Canonical checks s and returns it in canonical form: CAA tags lower case,
// CAA and TXT records sorted (their order means nothing in DNS, so a
// reordered list is the same zone). Field names are the JSON paths.
func (s Static) Canonical() (Static, *FieldError) {
	out := Static{}
	if len(s.CAA) > MaxStaticRecords || len(s.TXT) > MaxStaticRecords {
		return out, fieldErr("caa", "at most %d CAA and %d TXT records", MaxStaticRecords, MaxStaticRecords)
	}
	for i, c := range s.CAA {
		field := "caa[" + strconv.Itoa(i) + "]"
		if c.Flags != 0 && c.Flags != 128 {
			return out, fieldErr(field+".flags", "flags %d: use 0, or 128 for a property a CA must understand (RFC 8659 §4.1)", c.Flags)
		}
		tag := strings.ToLower(c.Tag)
		if !validCAATag(tag) {
			return out, fieldErr(field+".tag", "tag %q: 1 to 15 letters or digits, such as issue, issuewild or iodef", c.Tag)
		}
		if len(c.Value) > MaxCAAValueBytes || !printable(c.Value) {
			return out, fieldErr(field+".value", "value %q: printable ASCII, at most %d bytes, e.g. \"letsencrypt.org\"", c.Value, MaxCAAValueBytes)
		}
		out.CAA = append(out.CAA, CAA{Flags: c.Flags, Tag: tag, Value: c.Value})
	}
	for i, t := range s.TXT {
		if len(t) == 0 || len(t) > MaxTXTBytes {
			return out, fieldErr("txt["+strconv.Itoa(i)+"]", "a TXT value of %d bytes: 1 to %d", len(t), MaxTXTBytes)
		}
		out.TXT = append(out.TXT, t)
	}
	slices.SortFunc(out.CAA, func(a, b CAA) int {
		return cmp.Or(strings.Compare(a.Tag, b.Tag), strings.Compare(a.Value, b.Value), cmp.Compare(a.Flags, b.Flags))
	})
	out.CAA = slices.Compact(out.CAA)
	slices.Sort(out.TXT)
	out.TXT = slices.Compact(out.TXT)
	if h := s.HTTPS; h != nil {
		if h.Priority == 0 {
			return out, fieldErr("https.priority", "priority 0 is alias mode, which points elsewhere; use 1 or more")
		}
		if len(h.ALPN) > MaxALPNIDs {
			return out, fieldErr("https.alpn", "at most %d protocol ids", MaxALPNIDs)
		}
		c := &HTTPS{Priority: h.Priority, Port: h.Port}
		for i, id := range h.ALPN {
			if len(id) == 0 || len(id) > 255 || strings.ContainsAny(id, ",\\") || !printable(id) {
				return out, fieldErr("https.alpn["+strconv.Itoa(i)+"]", "protocol id %q: 1 to 255 printable characters without , or \\, such as h2, h3 or http/1.1", id)
			}
			if slices.Contains(c.ALPN, id) {
				return out, fieldErr("https.alpn["+strconv.Itoa(i)+"]", "protocol id %q is listed twice", id)
			}
			c.ALPN = append(c.ALPN, id)
		}
		out.HTTPS = c
	}
	return out, nil
}

func validCAATag(t string) bool {
	if len(t) == 0 || len(t) > 15 {
		return false
	}
	for _, r := range t {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s Static) clone() Static {
	c := Static{CAA: slices.Clone(s.CAA), TXT: slices.Clone(s.TXT)}
	if s.HTTPS != nil {
		h := *s.HTTPS
		h.ALPN = slices.Clone(h.ALPN)
		c.HTTPS = &h
	}
	return c
}
