package model

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Problem is one validation failure: the attribute, and what to do.
type Problem struct {
	Attribute string
	Summary   string
	Detail    string
}

// TTL bounds for records in the parent zone. Cloudflare accepts 60 and up
// (or "automatic"), so the lower bound keeps configurations portable.
const (
	MinRecordTTL = 60
	MaxRecordTTL = 86400
)

// Node is a pmgtm_node as configured. Empty strings are unset values.
type Node struct {
	Zone, Name, IPv4, IPv6, AgentURL string
	TTL                              *int64 // nil when unknown
	// NoAddress: ipv4 and ipv6 are both null (not merely unknown).
	NoAddress   bool
	Credentials AgentCredentials
}

// ValidateNode returns the errors and warnings for n; unknown values are
// passed as "" (or a nil TTL) and skipped.
func ValidateNode(n Node) (errs, warns []Problem) {
	_, errs = checkName(n.Zone, n.Name, nodeName)
	errs = append(errs, checkAddress("ipv4", n.IPv4, true)...)
	errs = append(errs, checkAddress("ipv6", n.IPv6, false)...)
	if n.NoAddress {
		errs = append(errs, Problem{"ipv4", "Node without an address", "Set ipv4, ipv6 or both: resolvers reach the node's agent at these addresses."})
	}
	if n.TTL != nil && (*n.TTL < MinRecordTTL || *n.TTL > MaxRecordTTL) {
		errs = append(errs, Problem{"ttl", "TTL out of range", fmt.Sprintf("ttl = %d; use %d to %d seconds.", *n.TTL, MinRecordTTL, MaxRecordTTL)})
	}
	if n.AgentURL != "" {
		if p := CheckAgentURL(n.AgentURL); p != "" {
			errs = append(errs, Problem{AttrAgentURL, "Invalid agent URL", p})
		}
	}
	errs = append(errs, validateCredentials(n.Credentials, "")...)
	return errs, plaintextWarning(n.AgentURL, "")
}

// nameKind is what a checked name is, for messages: a node's name or a
// hostname, which (unlike a node) is delegated and so cannot be the apex.
type nameKind struct{ what, relative string }

var (
	nodeName     = nameKind{"node name", "name %q must be relative to the zone, e.g. \"lb1\" for lb1.<zone>."}
	hostnameName = nameKind{"hostname", "name %q must be relative to the zone and strictly inside it, e.g. \"api\" for api.<zone>; the zone apex cannot be delegated."}
)

// checkName checks a zone and a name relative to it; it returns the
// canonical full name where both are known and valid ("" where not), and
// the problems, at the zone and name attributes.
func checkName(zoneIn, name string, kind nameKind) (full string, out []Problem) {
	zoneName := ""
	if zoneIn != "" {
		z, err := zone.CanonicalName(zoneIn)
		if err != nil {
			out = append(out, Problem{"zone", "Invalid zone", fmt.Sprintf("zone %q: %v. Give the parent zone, e.g. \"example.com\".", zoneIn, err)})
		} else {
			zoneName = z
		}
	}
	if name == "" {
		return "", out
	}
	invalid := "Invalid " + kind.what
	if strings.HasSuffix(name, ".") || name == "@" {
		return "", append(out, Problem{"name", invalid, fmt.Sprintf(kind.relative, name)})
	}
	if _, err := zone.CanonicalName(name); err != nil {
		return "", append(out, Problem{"name", invalid, fmt.Sprintf("name %q: %v.", name, err)})
	}
	if p, bad := NameWithZone(name, zoneName); bad {
		return "", append(out, p)
	}
	if zoneName == "" {
		return "", out
	}
	f, err := zone.CanonicalName(name + "." + zoneName)
	switch {
	case err != nil:
		return "", append(out, Problem{"name", strings.ToUpper(kind.what[:1]) + kind.what[1:] + " too long", fmt.Sprintf("%s.%s: %v.", name, strings.TrimSuffix(zoneName, "."), err)})
	case strings.HasPrefix(f, "_pmgtm.") || strings.Contains(f, "._pmgtm."):
		return "", append(out, Problem{"name", "Reserved name", "labels named _pmgtm hold pmgtm's ownership markers; choose another name."})
	}
	return f, out
}

// NameWithZone catches a name that repeats its zone ("api.example.com" in
// zone example.com), which would otherwise become api.example.com.example.com.
func NameWithZone(name, zoneName string) (Problem, bool) {
	z := strings.TrimSuffix(strings.ToLower(zoneName), ".")
	n := strings.ToLower(name)
	if z == "" {
		return Problem{}, false
	}
	if n == z {
		return Problem{"name", "Name is the zone", fmt.Sprintf("name %q is the zone itself; give the name relative to the zone, e.g. \"api\" for api.%s (the apex cannot be delegated).", name, z)}, true
	}
	rel, ok := strings.CutSuffix(n, "."+z)
	if !ok {
		return Problem{}, false
	}
	return Problem{"name", "Name repeats the zone", fmt.Sprintf("name %q ends with the zone %q and would mean %s.%s; names are relative to the zone. Did you mean %q?", name, z, n, z, rel)}, true
}

func checkAddress(attr, s string, v4 bool) []Problem {
	if s == "" {
		return nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return []Problem{{attr, "Invalid address", fmt.Sprintf("%s = %q is not an IP address.", attr, s)}}
	}
	if err := zone.CheckUnicast(a, v4); err != nil {
		return []Problem{{attr, "Invalid address", fmt.Sprintf("%s = %q: %v.", attr, s, err)}}
	}
	return nil
}

// CheckAgentURL explains what is wrong with an agent URL, or returns "".
func CheckAgentURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("agent_url %q is not a URL: %v.", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("agent_url %q must start with https:// (or http:// on a trusted network), e.g. \"https://198.51.100.10:8053\".", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("agent_url %q has no host.", s)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.User != nil:
		return fmt.Sprintf("agent_url %q must be just scheme://host:port, without path, query or credentials (the token goes in the provider's agent block).", s)
	}
	return ""
}
