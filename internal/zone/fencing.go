package zone

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Withdraw modes: what a node answers for a zone it has withdrawn (its
// local load balancer fails the health check, or it is drained).
const (
	WithdrawRedirect = "redirect" // answer with healthy peers' addresses (the default)
	WithdrawRefused  = "refused"  // REFUSED: resolvers ask the next nameserver at once
	WithdrawServFail = "servfail" // SERVFAIL: likewise
	WithdrawSilent   = "silent"   // no answer, like a dead node
)

// WithdrawModes lists the modes, the default first.
var WithdrawModes = []string{WithdrawRedirect, WithdrawRefused, WithdrawServFail, WithdrawSilent}

// HealthCheck is how the agent checks the node's local load balancer.
type HealthCheck struct {
	Type         string `json:"type"`   // tcp, http or https
	Target       string `json:"target"` // host:port
	Path         string `json:"path,omitempty"`
	ExpectStatus uint32 `json:"expect_status,omitempty"` // 0: any 2xx or 3xx
	IntervalMS   uint32 `json:"interval_ms"`
	TimeoutMS    uint32 `json:"timeout_ms"`
	Fall         uint32 `json:"fall"` // failures in a row that make the node unhealthy
	Rise         uint32 `json:"rise"` // successes in a row that make it healthy again
}

// HealthCheckBody is the client form; numbers are optional.
type HealthCheckBody struct {
	Type         string `json:"type"`
	Target       string `json:"target"`
	Path         string `json:"path"`
	ExpectStatus *int64 `json:"expect_status"`
	IntervalMS   *int64 `json:"interval_ms"`
	TimeoutMS    *int64 `json:"timeout_ms"`
	Fall         *int64 `json:"fall"`
	Rise         *int64 `json:"rise"`
}

// Peer is another node of the hostname, with the addresses a withdrawn
// node redirects to and asks for its health.
type Peer struct {
	Name string   `json:"name"`
	IPv4 []string `json:"ipv4"`
	IPv6 []string `json:"ipv6"`
}

// Health-check defaults and limits.
const (
	DefaultIntervalMS = 1000
	DefaultTimeoutMS  = 1000
	DefaultFall       = 3
	DefaultRise       = 2
	MinIntervalMS     = 100
	MaxIntervalMS     = 3600_000
	MinTimeoutMS      = 50
	MaxFallRise       = 100
)

// CheckHealthCheck validates a health check and fills its defaults.
func CheckHealthCheck(in *HealthCheckBody) (*HealthCheck, *FieldError) { return healthCheck(in) }

func healthCheck(in *HealthCheckBody) (*HealthCheck, *FieldError) {
	if in == nil {
		return nil, nil
	}
	h := &HealthCheck{Type: in.Type, Target: in.Target, Path: in.Path}
	switch in.Type {
	case "tcp":
		if in.Path != "" || in.ExpectStatus != nil {
			return nil, fieldErr("health_check.path", "a tcp check only connects; remove path and expect_status, or use type http")
		}
	case "http", "https":
		if h.Path == "" {
			h.Path = "/"
		}
		if !strings.HasPrefix(h.Path, "/") || strings.ContainsAny(h.Path, " \t\r\n#") {
			return nil, fieldErr("health_check.path", "%q must be an absolute request path such as /healthz", in.Path)
		}
	default:
		return nil, fieldErr("health_check.type", "%q is not a check type; use tcp, http or https", in.Type)
	}
	host, port, err := net.SplitHostPort(in.Target)
	if err != nil || host == "" {
		return nil, fieldErr("health_check.target", "%q must be host:port of the local load balancer, e.g. 127.0.0.1:443", in.Target)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return nil, fieldErr("health_check.target", "%q has no valid port (1 to 65535)", in.Target)
	}
	var fe *FieldError
	if in.ExpectStatus != nil {
		if h.ExpectStatus, fe = rangeField("health_check.expect_status", *in.ExpectStatus, 100, 599); fe != nil {
			return nil, fe
		}
	}
	if h.IntervalMS, fe = optionalRange("health_check.interval_ms", in.IntervalMS, DefaultIntervalMS, MinIntervalMS, MaxIntervalMS); fe != nil {
		return nil, fe
	}
	if h.TimeoutMS, fe = optionalRange("health_check.timeout_ms", in.TimeoutMS, min(DefaultTimeoutMS, h.IntervalMS), MinTimeoutMS, int64(h.IntervalMS)); fe != nil {
		fe.Message += " (at most the interval)"
		return nil, fe
	}
	if h.Fall, fe = optionalRange("health_check.fall", in.Fall, DefaultFall, 1, MaxFallRise); fe != nil {
		return nil, fe
	}
	if h.Rise, fe = optionalRange("health_check.rise", in.Rise, DefaultRise, 1, MaxFallRise); fe != nil {
		return nil, fe
	}
	return h, nil
}

func (h *HealthCheck) body() *HealthCheckBody {
	if h == nil {
		return nil
	}
	i := func(v uint32) *int64 { x := int64(v); return &x }
	b := &HealthCheckBody{Type: h.Type, Target: h.Target, Path: h.Path, IntervalMS: i(h.IntervalMS), TimeoutMS: i(h.TimeoutMS),
		Fall: i(h.Fall), Rise: i(h.Rise)}
	if h.ExpectStatus != 0 {
		b.ExpectStatus = i(h.ExpectStatus)
	}
	return b
}

func withdrawMode(s string) (string, *FieldError) {
	if s == "" || slices.Contains(WithdrawModes, s) {
		return s, nil
	}
	return "", fieldErr("withdraw", "%q is not a withdraw mode; use one of %s", s, strings.Join(WithdrawModes, ", "))
}

// peers checks that each peer is one of the zone's nameservers, other than
// the node itself (the SOA primary), with valid addresses.
func peers(z Zone, in []Peer) ([]Peer, *FieldError) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]Peer, 0, len(in))
	for i, p := range in {
		f := fmt.Sprintf("peers[%d]", i)
		name, err := CanonicalName(p.Name)
		if err != nil {
			return nil, fieldErr(f+".name", "%v", err)
		}
		if !slices.Contains(z.Nameservers, name) {
			return nil, fieldErr(f+".name", "%s is not among the zone's nameservers; peers are the other nodes of the hostname", name)
		}
		if name == z.SOA.MName {
			return nil, fieldErr(f+".name", "%s is this node itself (the SOA primary); list only the other nodes", name)
		}
		if slices.ContainsFunc(out, func(o Peer) bool { return o.Name == name }) {
			return nil, fieldErr(f+".name", "%s is listed twice", name)
		}
		v4, fe := addresses(f+".ipv4", p.IPv4, true)
		if fe != nil {
			return nil, fe
		}
		v6, fe := addresses(f+".ipv6", p.IPv6, false)
		if fe != nil {
			return nil, fe
		}
		if len(v4)+len(v6) == 0 {
			return nil, fieldErr(f, "%s has no address; give ipv4 or ipv6", name)
		}
		out = append(out, Peer{Name: name, IPv4: v4, IPv6: v6})
	}
	slices.SortFunc(out, func(a, b Peer) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// EffectiveWithdraw is the withdraw mode in force: the zone's, or the
// default.
func (z Zone) EffectiveWithdraw() string {
	if z.Withdraw == "" {
		return WithdrawRedirect
	}
	return z.Withdraw
}

// Fenced reports whether the zone has anything for self-fencing to do.
func (z Zone) Fenced() bool { return z.HealthCheck != nil || z.Drain }
