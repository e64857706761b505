package model

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// HostnameNode is one member of a hostname's node list, as pmgtm_node
// exports it. Empty strings are unset (or not yet known) values.
type HostnameNode struct {
	Nameserver, IPv4, IPv6, AgentURL string
	Credentials                      AgentCredentials
}

// Hostname is a pmgtm_hostname as configured. Nodes is nil while the list
// is not known (it usually refers to nodes planned in the same run).
type Hostname struct {
	Zone, Name string
	Nodes      []HostnameNode
	AnswerTTL  *int64 // nil when unknown
	NSTTL      *int64 // nil when unknown
	// Self-fencing: nil/empty when unset or unknown.
	HealthCheck *HealthCheck
	Withdraw    string
	Drain       []string // nameservers of nodes to drain; nil when unknown
	// Static records at the hostname (CAA, TXT, HTTPS); StaticKnown is
	// false while part of them is unknown.
	Static      StaticRecords
	StaticKnown bool
}

// HealthCheck is the health_check attribute as configured; durations are
// text ("1s", "500ms") and empty strings or nil numbers are unset. Target
// may name the node's own address as {ipv4} or {ipv6}, for load balancers
// that listen on the node's public address: each node checks its own.
type HealthCheck struct {
	Type, Target, Path, Interval, Timeout string
	ExpectStatus, Fall, Rise              *int64
}

// Body converts the check to the agent's form, or explains what is wrong.
func (h HealthCheck) Body() (*zone.HealthCheckBody, []Problem) {
	b := &zone.HealthCheckBody{Type: h.Type, Target: h.Target, Path: h.Path, ExpectStatus: h.ExpectStatus, Fall: h.Fall, Rise: h.Rise}
	var out []Problem
	for _, d := range []struct {
		name, text string
		dst        **int64
	}{{"interval", h.Interval, &b.IntervalMS}, {"timeout", h.Timeout, &b.TimeoutMS}} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v <= 0 || v%time.Millisecond != 0 {
			out = append(out, Problem{"health_check", "Invalid " + d.name, fmt.Sprintf("health_check.%s = %q is not a duration in whole milliseconds such as \"1s\" or \"500ms\".", d.name, d.text)})
			continue
		}
		ms := v.Milliseconds()
		*d.dst = &ms
	}
	if len(out) > 0 {
		return nil, out
	}
	sample := *b
	sample.Target = expandTarget(b.Target, "192.0.2.1", "2001:db8::1")
	if _, fe := zone.CheckHealthCheck(&sample); fe != nil {
		field := strings.NewReplacer("interval_ms", "interval", "timeout_ms", "timeout").Replace(fe.Field)
		msg := fe.Message
		if strings.HasSuffix(fe.Field, "_ms") {
			msg += " milliseconds"
		}
		return nil, []Problem{{"health_check", "Invalid health check", fmt.Sprintf("%s: %s.", field, msg)}}
	}
	return b, nil
}

// Limits of the hostname's own TTLs. Answers may be as short as 1 s (fast
// failover is the point); the delegation lives in the parent zone, where
// Cloudflare accepts 60 s and up.
const (
	MinAnswerTTL = 1
	MaxAnswerTTL = 86400
	MaxNodes     = zone.MaxNSCount
)

// ValidateHostname returns the errors and warnings for h. Unknown values
// are skipped; the same call at plan time, when node lists are known,
// checks the rest.
func ValidateHostname(h Hostname) (errs, warns []Problem) {
	hostFQDN, errs := checkName(h.Zone, h.Name, hostnameName)
	if h.StaticKnown {
		_, problems := h.Static.Zone()
		errs = append(errs, problems...)
	}
	if a := h.AnswerTTL; a != nil && (*a < MinAnswerTTL || *a > MaxAnswerTTL) {
		errs = append(errs, Problem{"answer_ttl", "TTL out of range", fmt.Sprintf("answer_ttl = %d; use %d to %d seconds (30 is a good start: it bounds failover time).", *a, MinAnswerTTL, MaxAnswerTTL)})
	}
	if n := h.NSTTL; n != nil && (*n < MinRecordTTL || *n > MaxRecordTTL) {
		errs = append(errs, Problem{"ns_ttl", "TTL out of range", fmt.Sprintf("ns_ttl = %d; use %d to %d seconds.", *n, MinRecordTTL, MaxRecordTTL)})
	}
	if h.AnswerTTL != nil && h.NSTTL != nil && *h.NSTTL < *h.AnswerTTL {
		warns = append(warns, Problem{"ns_ttl", "Delegation TTL shorter than answer TTL",
			fmt.Sprintf("ns_ttl = %d is below answer_ttl = %d: resolvers will ask the parent again more often than they ask the nodes, which slows lookups and gains nothing. Set ns_ttl >= answer_ttl.", *h.NSTTL, *h.AnswerTTL)})
	}
	if h.HealthCheck != nil {
		_, p := h.HealthCheck.Body()
		errs = append(errs, p...)
	}
	if h.Withdraw != "" && !slices.Contains(zone.WithdrawModes, h.Withdraw) {
		errs = append(errs, Problem{"withdraw_mode", "Invalid withdraw mode", fmt.Sprintf("withdraw_mode = %q; use one of %s.", h.Withdraw, strings.Join(zone.WithdrawModes, ", "))})
	}
	if h.Nodes == nil {
		return errs, warns
	}
	e, w := validateNodes(h.Nodes, hostFQDN)
	errs, warns = append(errs, e...), append(warns, w...)
	for _, d := range h.Drain {
		if !slices.ContainsFunc(h.Nodes, func(n HostnameNode) bool { return SameName(n.Nameserver, d) }) {
			errs = append(errs, Problem{"drain", "Drained node not in nodes", fmt.Sprintf("drain names %q, which is not the nameserver of any node in nodes; use e.g. pmgtm_node.lb1.nameserver.", d)})
		}
	}
	if len(h.Drain) > 0 && len(h.Drain) >= len(h.Nodes) {
		warns = append(warns, Problem{"drain", "Every node drained", "All nodes are drained: each agent keeps answering (a node withdraws only while a peer is healthy), so draining everything changes nothing."})
	}
	return errs, warns
}

func validateNodes(nodes []HostnameNode, hostFQDN string) (errs, warns []Problem) {
	switch {
	case len(nodes) == 0:
		errs = append(errs, Problem{"nodes", "No nodes", "nodes is empty; give at least one pmgtm_node's node (two or more for failover), e.g. nodes = [pmgtm_node.lb1.node, pmgtm_node.lb2.node]."})
	case len(nodes) == 1:
		warns = append(warns, Problem{"nodes", "Single node: no failover", "With one node the hostname fails when that node does; add a second pmgtm_node to nodes."})
	case len(nodes) > MaxNodes:
		errs = append(errs, Problem{"nodes", "Too many nodes", fmt.Sprintf("%d nodes; at most %d fit a delegation that resolvers handle well.", len(nodes), MaxNodes)})
	}
	seenNS := map[string]int{}
	seenAddr := map[netip.Addr]int{}
	for i, n := range nodes {
		at := fmt.Sprintf("nodes[%d]", i)
		duplicate := false
		if n.Nameserver != "" {
			ns, err := zone.CanonicalName(n.Nameserver)
			switch {
			case err != nil:
				errs = append(errs, Problem{at + ".nameserver", "Invalid nameserver", fmt.Sprintf("%s.nameserver %q: %v.", at, n.Nameserver, err)})
			case hostFQDN != "" && zone.IsSubdomain(ns, hostFQDN):
				errs = append(errs, Problem{at + ".nameserver", "Nameserver inside the hostname",
					fmt.Sprintf("%s.nameserver %s lies at or beneath %s: the delegation would need glue that pmgtm does not publish, and the node could not be found. Name nodes outside the hostname, e.g. lb1.<zone>.", at, strings.TrimSuffix(ns, "."), strings.TrimSuffix(hostFQDN, "."))})
			default:
				if j, dup := seenNS[ns]; dup {
					duplicate = true
					errs = append(errs, Problem{at, "Duplicate node", fmt.Sprintf("nodes[%d] and %s are both %s; list each node once.", j, at, strings.TrimSuffix(ns, "."))})
				}
				seenNS[ns] = i
			}
		}
		if n.IPv4 == "" && n.IPv6 == "" && n.Nameserver != "" {
			// Only reported once the object is known: a planned node has its
			// addresses from configuration.
			errs = append(errs, Problem{at, "Node without an address", fmt.Sprintf("%s (%s) has neither ipv4 nor ipv6.", at, n.Nameserver)})
		}
		for family, s := range map[string]string{"ipv4": n.IPv4, "ipv6": n.IPv6} {
			if s == "" || duplicate {
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil {
				errs = append(errs, Problem{at + "." + family, "Invalid address", fmt.Sprintf("%s address %q is not an IP address.", at, s)})
				continue
			}
			if j, dup := seenAddr[a]; dup {
				errs = append(errs, Problem{at + "." + family, "Duplicate address", fmt.Sprintf("nodes[%d] and %s share the address %s; each node needs its own, or failover cannot tell them apart.", j, at, a)})
			}
			seenAddr[a] = i
		}
		if n.AgentURL != "" {
			if p := CheckAgentURL(n.AgentURL); p != "" {
				errs = append(errs, Problem{at + "." + AttrAgentURL, "Invalid agent URL", at + ": " + p})
			}
		}
		errs = append(errs, validateCredentials(n.Credentials, at+".")...)
	}
	return errs, warns
}

// ValidateNodesUsable reports, at plan time, what the node list needs
// before apply can push zones: an agent URL for every node (an imported
// hostname, or generated configuration, has none until it is set).
func ValidateNodesUsable(nodes []HostnameNode) []Problem {
	var out []Problem
	for i, n := range nodes {
		if n.AgentURL == "" {
			out = append(out, Problem{fmt.Sprintf("nodes[%d].agent_url", i), "Node without an agent URL",
				fmt.Sprintf("nodes[%d] (%s) has no agent_url, so apply could not push the hostname's zone to it. Use pmgtm_node.<name>.node, or set agent_url to the node agent's API, e.g. \"https://198.51.100.10:8053\" (an import cannot read it from DNS).", i, n.Nameserver)})
		}
	}
	return out
}

// expandTarget puts a node's addresses into a health-check target.
func expandTarget(target, ipv4, ipv6 string) string {
	return strings.NewReplacer("{ipv4}", ipv4, "{ipv6}", "["+ipv6+"]").Replace(target)
}

// SameName reports whether two names are the same domain name.
func SameName(a, b string) bool {
	ca, errA := zone.CanonicalName(a)
	cb, errB := zone.CanonicalName(b)
	return errA == nil && errB == nil && ca == cb
}

// Resolver families and the time each takes, beyond the answer TTL, to
// give up on a dead nameserver and ask the next one for a new lookup:
// Unbound's first timeout for an unknown server is 376 ms, Knot Resolver's
// 400 ms; BIND starts at 800 ms; PowerDNS Recursor at 1.5 s when a server
// is silent (it moves on at once on ICMP unreachable).
var resolverRetry = map[string]float64{
	"unbound":           0.4,
	"knot_resolver":     0.4,
	"bind":              0.8,
	"powerdns_recursor": 1.5,
}

// FailoverBudget is the worst-case time, in seconds per resolver family,
// for new lookups to move off a dead node: cached answers live out the
// answer TTL, then the resolver's first timeout decides.
func FailoverBudget(answerTTL int64) map[string]float64 {
	out := make(map[string]float64, len(resolverRetry))
	for family, retry := range resolverRetry {
		out[family] = float64(answerTTL) + retry
	}
	return out
}

// ZoneSettings are a hostname's settings shared by every node's zone.
type ZoneSettings struct {
	AnswerTTL, NSTTL int64
	Serial           uint32 // 0: the agent assigns one
	HealthCheck      *zone.HealthCheckBody
	Withdraw         string
	Drained          []string // nameservers of drained nodes
	PeerKey          string   // authenticates health answers between the nodes
	ACMEChallenge    string   // CNAME target of _acme-challenge.<fqdn>; "" for none
	Static           zone.Static
}

// NodeZone is the zone one node serves for a hostname: the node's own
// addresses, every node of the hostname as nameserver and the others as
// peers (for self-fencing), and the node itself as the SOA's primary.
func NodeZone(fqdn string, self HostnameNode, all []HostnameNode, s ZoneSettings) zone.Body {
	answerTTL, nsTTL := s.AnswerTTL, s.NSTTL
	b := zone.Body{Name: fqdn, AnswerTTL: &answerTTL, NSTTL: &nsTTL, SOA: &zone.SOABody{MName: self.Nameserver},
		Withdraw: s.Withdraw, PeerKey: s.PeerKey, ACMEChallenge: s.ACMEChallenge, Static: s.Static}
	if s.HealthCheck != nil {
		hc := *s.HealthCheck
		hc.Target = expandTarget(hc.Target, self.IPv4, self.IPv6)
		b.HealthCheck = &hc
	}
	if s.Serial != 0 {
		serial := int64(s.Serial)
		b.Serial = &serial
	}
	if self.IPv4 != "" {
		b.IPv4 = []string{self.IPv4}
	}
	if self.IPv6 != "" {
		b.IPv6 = []string{self.IPv6}
	}
	selfName, _ := zone.CanonicalName(self.Nameserver)
	for _, d := range s.Drained {
		if c, err := zone.CanonicalName(d); err == nil && c == selfName {
			b.Drain = true
		}
	}
	for _, n := range all {
		b.Nameservers = append(b.Nameservers, n.Nameserver)
		if c, err := zone.CanonicalName(n.Nameserver); err == nil && c == selfName {
			continue
		}
		p := zone.Peer{Name: n.Nameserver}
		if n.IPv4 != "" {
			p.IPv4 = []string{n.IPv4}
		}
		if n.IPv6 != "" {
			p.IPv6 = []string{n.IPv6}
		}
		b.Peers = append(b.Peers, p)
	}
	return b
}

// ZoneFile is a pmgtm_zone_file as configured: a hostname, the node whose
// zone it renders (nil while unknown) and an optional fixed serial.
type ZoneFile struct {
	Hostname
	Self   *HostnameNode
	Serial *int64
}

// ValidateZoneFile returns the errors and warnings for z: the hostname's,
// a node missing from nodes (nodes is the NS set, which includes it) and
// a serial that SOA cannot carry.
func ValidateZoneFile(z ZoneFile) (errs, warns []Problem) {
	errs, warns = ValidateHostname(z.Hostname)
	if z.Self != nil && z.Nodes != nil && z.Self.Nameserver != "" &&
		!slices.ContainsFunc(z.Nodes, func(o HostnameNode) bool { return SameName(o.Nameserver, z.Self.Nameserver) }) {
		errs = append(errs, Problem{"node", "Node not among nodes", fmt.Sprintf("node %s is not in nodes; list it there too (nodes is the NS set, which includes this node).", z.Self.Nameserver)})
	}
	if s := z.Serial; s != nil && (*s < 1 || *s > 4294967295) {
		errs = append(errs, Problem{"serial", "Serial out of range", fmt.Sprintf("serial = %d; use 1 to 4294967295.", *s)})
	}
	return errs, warns
}
