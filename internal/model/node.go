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
}

// ValidateNode returns every problem with n; unknown values are passed as
// "" (or a nil TTL) and skipped.
func ValidateNode(n Node) []Problem {
	var out []Problem
	zoneOK := n.Zone != ""
	if zoneOK {
		if _, err := zone.CanonicalName(n.Zone); err != nil {
			zoneOK = false
			out = append(out, Problem{"zone", "Invalid zone", fmt.Sprintf("zone %q: %v. Give the parent zone, e.g. \"example.com\".", n.Zone, err)})
		}
	}
	if n.Name != "" {
		if strings.HasSuffix(n.Name, ".") || strings.EqualFold(n.Name, "@") {
			out = append(out, Problem{"name", "Invalid node name", fmt.Sprintf("name %q must be relative to the zone, e.g. \"lb1\" for lb1.<zone>.", n.Name)})
		} else if _, err := zone.CanonicalName(n.Name); err != nil {
			out = append(out, Problem{"name", "Invalid node name", fmt.Sprintf("name %q: %v.", n.Name, err)})
		} else if p, bad := NameWithZone(n.Name, n.Zone); bad && zoneOK {
			out = append(out, p)
		} else if zoneOK {
			if full, err := zone.CanonicalName(n.Name + "." + n.Zone); err != nil {
				out = append(out, Problem{"name", "Node name too long", fmt.Sprintf("%s.%s: %v.", n.Name, n.Zone, err)})
			} else if strings.HasPrefix(full, "_pmgtm.") || strings.Contains(full, "._pmgtm.") {
				out = append(out, Problem{"name", "Reserved name", "labels named _pmgtm hold pmgtm's ownership markers; choose another name."})
			}
		}
	}
	out = append(out, checkAddress("ipv4", n.IPv4, true)...)
	out = append(out, checkAddress("ipv6", n.IPv6, false)...)
	if n.TTL != nil && (*n.TTL < MinRecordTTL || *n.TTL > MaxRecordTTL) {
		out = append(out, Problem{"ttl", "TTL out of range", fmt.Sprintf("ttl = %d; use %d to %d seconds.", *n.TTL, MinRecordTTL, MaxRecordTTL)})
	}
	if n.AgentURL != "" {
		if p := CheckAgentURL(n.AgentURL); p != "" {
			out = append(out, Problem{"agent_url", "Invalid agent URL", p})
		}
	}
	return out
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
