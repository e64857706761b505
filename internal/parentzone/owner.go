package parentzone

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Ownership is recorded in a TXT record beside the name, never at it: a TXT
// at a delegated name would be occluded by the delegation (Cloudflare
// refuses it with error 89018, RFC 2136 servers by zone-cut rules), so the
// marker for "api" lives at "api._pmgtm", inside a label no delegation of
// ours ever covers.
//
// The marker is public and anyone with TXT write access can edit it, so it
// decides only who may act on a name, never what is deleted: what a
// resource deletes comes from its Terraform state.
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

// Holder is who holds a name: the owner id of a provider configuration and
// the instance id of the one resource in one Terraform state that wrote it.
// Releases before instance ids wrote markers with an empty Instance.
type Holder struct {
	Owner, Instance string
}

func (h Holder) String() string {
	if h.Instance == "" {
		return fmt.Sprintf("owner %q (a marker without instance id, from an earlier pmgtm release)", h.Owner)
	}
	return fmt.Sprintf("owner %q, instance %s", h.Owner, h.Instance)
}

// NewInstanceID returns a random instance id for a resource being created.
func NewInstanceID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}

// MarkerText is the marker value that holder writes for records of types.
// The types list is informative only (for people reading the zone).
func MarkerText(h Holder, types []string) string {
	s := markerPrefix + ",owner=" + h.Owner
	if h.Instance != "" {
		s += ",instance=" + h.Instance
	}
	return s + ",types=" + strings.Join(types, "+")
}

// ParseMarker reads a marker value; ok is false for any other TXT.
func ParseMarker(text string) (h Holder, ok bool) {
	if !strings.HasPrefix(text, markerPrefix+",") {
		return Holder{}, false
	}
	for _, field := range strings.Split(text, ",")[1:] {
		k, v, _ := strings.Cut(field, "=")
		switch k {
		case "owner":
			h.Owner = v
		case "instance":
			h.Instance = v
		}
	}
	return h, h.Owner != ""
}

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
