package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Answer is what a nameserver said to one question.
type Answer struct {
	Rcode         string
	Authoritative bool
	Addrs         []netip.Addr // A/AAAA in the answer section, sorted
	TTL           uint32       // of the first answer record
	Serial        uint32       // of an SOA in the answer or authority section
	HasSOA        bool
}

// Ask sends one non-recursive question over UDP, and again over TCP when the
// answer is truncated.
func Ask(ctx context.Context, server netip.AddrPort, name string, qtype uint16) (Answer, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.RecursionDesired = false
	m.SetEdns0(1232, false)
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < c.Timeout {
		c.Timeout = max(time.Until(d), time.Millisecond)
	}
	r, _, err := c.ExchangeContext(ctx, m, server.String())
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server.String())
	}
	if err != nil {
		return Answer{}, err
	}
	a := Answer{Rcode: dns.RcodeToString[r.Rcode], Authoritative: r.Authoritative}
	for i, rr := range r.Answer {
		if i == 0 {
			a.TTL = rr.Header().Ttl
		}
		switch v := rr.(type) {
		case *dns.A:
			a.Addrs = append(a.Addrs, netip.AddrFrom4([4]byte(v.A.To4())))
		case *dns.AAAA:
			a.Addrs = append(a.Addrs, netip.AddrFrom16([16]byte(v.AAAA.To16())))
		}
	}
	for _, rr := range append(slices.Clone(r.Answer), r.Ns...) {
		if soa, ok := rr.(*dns.SOA); ok {
			a.Serial, a.HasSOA = soa.Serial, true
			break
		}
	}
	slices.SortFunc(a.Addrs, func(x, y netip.Addr) int { return x.Compare(y) })
	return a, nil
}

// Want is what a node must answer for a hostname.
type Want struct {
	FQDN   string
	Addrs  []netip.Addr // the node's own addresses, at least one
	Serial uint32       // 0: any serial
	// PeerKey and Node, when set, make the health answer prove it is the
	// node's own (zone.HealthMAC), not something on the path.
	PeerKey []byte
	Node    string
}

// CheckOnce asks the node at each of its addresses (port 53 unless port is
// set) for the SOA and for each address family, and returns every way the
// answers differ from want.
func CheckOnce(ctx context.Context, port uint16, want Want) error {
	if port == 0 {
		port = 53
	}
	var problems []string
	for _, at := range want.Addrs {
		server := netip.AddrPortFrom(at, port)
		// The health name is answered in every fencing state: it shows the
		// zone is in service (and which serial) even on a node that has
		// withdrawn it on purpose (drained, or its load balancer failing),
		// whose other answers then follow its withdraw mode.
		state, serial, err := Health(ctx, server, want.FQDN, want.PeerKey, want.Node)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", server, err))
			continue
		case want.Serial != 0 && serial != want.Serial:
			problems = append(problems, fmt.Sprintf("%s: serves serial %d of %s, want %d (the new zone is not in service)", server, serial, want.FQDN, want.Serial))
			continue
		case state != "ok":
			continue // fenced by the agent itself; its answers are its withdraw mode's
		}
		soa, err := Ask(ctx, server, want.FQDN, dns.TypeSOA)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: no answer to SOA %s: %v", server, want.FQDN, err))
			continue
		case soa.Rcode != "NOERROR" || !soa.Authoritative || !soa.HasSOA:
			problems = append(problems, fmt.Sprintf("%s: SOA %s answered %s, authoritative=%v, SOA present=%v; want an authoritative SOA", server, want.FQDN, soa.Rcode, soa.Authoritative, soa.HasSOA))
			continue
		case want.Serial != 0 && soa.Serial != want.Serial:
			problems = append(problems, fmt.Sprintf("%s: serves serial %d of %s, want %d (the new zone is not in service)", server, soa.Serial, want.FQDN, want.Serial))
			continue
		}
		qtype := dns.TypeA
		if at.Is6() && !at.Is4In6() {
			qtype = dns.TypeAAAA
		}
		ans, err := Ask(ctx, server, want.FQDN, qtype)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: no answer to %s %s: %v", server, dns.TypeToString[qtype], want.FQDN, err))
		case ans.Rcode != "NOERROR" || !ans.Authoritative:
			problems = append(problems, fmt.Sprintf("%s: %s %s answered %s, authoritative=%v", server, dns.TypeToString[qtype], want.FQDN, ans.Rcode, ans.Authoritative))
		case !slices.Contains(ans.Addrs, at):
			problems = append(problems, fmt.Sprintf("%s: %s %s answered %v; the node must answer with its own address %s", server, dns.TypeToString[qtype], want.FQDN, ans.Addrs, at))
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Check repeats CheckOnce until it passes or ctx ends (an agent serves a
// zone as soon as it acknowledges it, but a node behind a slow path may
// drop the first packets), and returns the last failure.
func Check(ctx context.Context, port uint16, want Want) error {
	delay := 100 * time.Millisecond
	for {
		err := CheckOnce(ctx, port, want)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// Health asks a node for the zone's fencing state (zone.HealthOK, ...)
// and serial. With a peer key the question carries a fresh nonce and the
// answer must bear node's MAC for it.
func Health(ctx context.Context, server netip.AddrPort, fqdn string, key []byte, node string) (state string, serial uint32, err error) {
	name, nonce := zone.HealthName(fqdn), ""
	if key != nil {
		nonce = zone.NewHealthNonce()
		name = zone.HealthChallengeName(fqdn, nonce)
	}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	m.RecursionDesired = false
	c := &dns.Client{Timeout: 2 * time.Second}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < c.Timeout {
		c.Timeout = max(time.Until(d), time.Millisecond)
	}
	r, _, err := c.ExchangeContext(ctx, m, server.String())
	if err != nil {
		return "", 0, fmt.Errorf("no answer for %s: %w", fqdn, err)
	}
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
		return "", 0, fmt.Errorf("%s answered %s, authoritative=%v; the node does not serve %s", name, dns.RcodeToString[r.Rcode], r.Authoritative, fqdn)
	}
	zoneName, _ := zone.CanonicalName(fqdn)
	nodeName, _ := zone.CanonicalName(node)
	for _, rr := range r.Answer {
		txt, ok := rr.(*dns.TXT)
		if !ok || !strings.EqualFold(txt.Hdr.Name, name) {
			continue
		}
		rec, ok := zone.ParseHealthTXT(txt.Txt)
		switch {
		case !ok:
			continue
		case key != nil && !rec.Verify(key, nonce, zoneName, nodeName):
			return "", 0, fmt.Errorf("%s: the health answer does not bear %s's key (another server answered, or the node serves another version of the zone)", fqdn, node)
		}
		return rec.State, rec.Serial, nil
	}
	return "", 0, fmt.Errorf("%s: no pmgtm health record; is the node running pmgtm-agent?", fqdn)
}

// ErrNoAddress is returned by Resolve when a nameserver name has no address.
var ErrNoAddress = errors.New("nameserver name has no address")

// Resolve returns the addresses of a nameserver name through the system
// resolver.
func Resolve(ctx context.Context, name string) ([]netip.Addr, error) {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(name, "."))
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, ErrNoAddress
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	return addrs, nil
}
