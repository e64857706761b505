package parentzone

import (
	"fmt"
	"slices"
	"strings"
)

// Ownership is recorded in a TXT record beside the name, never at it: a TXT
// at a delegated name would be occluded by the delegation (Cloudflare
// refuses it with error 89018, RFC 2136 servers by zone-cut rules), so the
// marker for "api" lives at "api._pmgtm", inside a label no delegation of
// ours ever covers.
const (
	markerLabel  = "_pmgtm"
	markerPrefix = "heritage=pmgtm"
	markerTTL    = 300
)

// MarkerName returns the relative name of the ownership marker for name.
func MarkerName(name string) string {
	if name == "@" {
		return markerLabel
	}
	return name + "." + markerLabel
}

// marker is the parsed content of an ownership TXT.
type marker struct {
	owner string
	types []string
}

func (m marker) text() string {
	return fmt.Sprintf("%s,owner=%s,types=%s", markerPrefix, m.owner, strings.Join(m.types, "+"))
}

func parseMarker(text string) (marker, bool) {
	if !strings.HasPrefix(text, markerPrefix+",") {
		return marker{}, false
	}
	var m marker
	for _, field := range strings.Split(text, ",")[1:] {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "owner":
			m.owner = v
		case "types":
			if v != "" {
				m.types = strings.Split(v, "+")
			}
		}
	}
	return m, m.owner != ""
}

func (m marker) owns(rtype string) bool { return slices.Contains(m.types, rtype) }

// ValidOwner checks an owner id: it ends up inside a TXT value we parse.
func ValidOwner(owner string) error {
	if owner == "" || len(owner) > 64 {
		return fmt.Errorf("owner id must be 1 to 64 characters, got %d", len(owner))
	}
	for _, c := range owner {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			return fmt.Errorf("owner id %q may hold only letters, digits, '-', '_' and '.'", owner)
		}
	}
	return nil
}
