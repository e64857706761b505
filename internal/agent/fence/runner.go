package fence

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/responder"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Zones is what the runner needs of the store.
type Zones interface {
	Fenced() []string // names of the zones with a health check or drain
	Get(name string) (zone.Zone, bool)
	SetFence(name string, f responder.Fence) bool
}

// Status is one fenced zone's state, as /v1/health reports it.
type Status = zone.FenceStatus

// Runner runs one loop per fenced zone.
type Runner struct {
	Zones Zones
	Log   *slog.Logger
	// PeerPort is where peers answer DNS (53; tests on one host change it).
	PeerPort uint16
	// Scan is how often the zone list is read for zones that gained or lost
	// fencing (default 250 ms).
	Scan time.Duration

	// exchange asks one peer; nil: a DNS client over UDP. Tests inject
	// latency here.
	exchange func(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error)

	mu     sync.Mutex
	loops  map[string]context.CancelFunc
	status map[string]Status
}

// Statuses returns the state of every fenced zone, sorted by zone.
func (r *Runner) Statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.status))
	for _, s := range r.status {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Zone < out[j].Zone })
	return out
}

// Run keeps a loop running for each fenced zone until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	r.loops, r.status = map[string]context.CancelFunc{}, map[string]Status{}
	r.mu.Unlock()
	scan := r.Scan
	if scan <= 0 {
		scan = 250 * time.Millisecond
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(scan)
	defer tick.Stop()
	for {
		fenced := map[string]bool{}
		for _, name := range r.Zones.Fenced() {
			fenced[name] = true
		}
		r.mu.Lock()
		for name, cancel := range r.loops {
			if !fenced[name] {
				cancel()
				delete(r.loops, name)
				delete(r.status, name)
			}
		}
		for name := range fenced {
			if _, ok := r.loops[name]; !ok {
				lctx, cancel := context.WithCancel(ctx)
				r.loops[name] = cancel
				wg.Add(1)
				go func() { defer wg.Done(); r.loop(lctx, name) }()
			}
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// loop checks one zone until its context ends; on the way out it serves
// the zone normally again (fencing was removed from it, or it was deleted).
func (r *Runner) loop(ctx context.Context, name string) {
	var tracker *Tracker
	var trackedCheck zone.HealthCheck
	current := responder.Fence{}
	since := time.Now()
	defer func() {
		if current.Withdraw != "" || current.Health != "" {
			r.Zones.SetFence(name, responder.Fence{})
			r.Log.Info("zone no longer fenced: serving", "zone", name)
		}
	}()
	for {
		z, ok := r.Zones.Get(name)
		if !ok {
			return
		}
		interval := time.Duration(zone.DefaultIntervalMS) * time.Millisecond
		in := Inputs{LocalHealthy: true, Drained: z.Drain, Mode: z.EffectiveWithdraw()}
		st := Status{Zone: name, Local: zone.LocalUnchecked, Drained: z.Drain, Mode: in.Mode}
		if hc := z.HealthCheck; hc != nil {
			if tracker == nil || *hc != trackedCheck {
				tracker, trackedCheck = NewTracker(int(hc.Fall), int(hc.Rise)), *hc
			}
			interval = time.Duration(hc.IntervalMS) * time.Millisecond
			err := CheckLocal(ctx, *hc)
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors is this agent's problem (perhaps a
				// flood of connections), not the load balancer's: it
				// says nothing about the check, so it does not count.
				r.Log.Warn("health check not run: out of file descriptors", "zone", name, "error", err)
			} else if tracker.Observe(err == nil) {
				r.Log.Info("local health changed", "zone", name, "healthy", tracker.Healthy(), "check", hc.Type+" "+hc.Target, "last_error", errString(err))
			}
			in.LocalHealthy = tracker.Healthy()
			st.Local = map[bool]string{true: zone.HealthOK, false: zone.HealthFailing}[in.LocalHealthy]
			st.LastCheck = "ok"
			if err != nil {
				st.LastCheck = err.Error()
			}
		} else {
			tracker = nil
		}
		if in.Wants() {
			// Publish our own state before asking: of nodes that fail
			// together, the last to publish finds every other one not
			// "ok", so it keeps answering and they cannot all withdraw.
			if published := (responder.Fence{Withdraw: current.Withdraw, IPv4: current.IPv4, IPv6: current.IPv6, Health: in.Health()}); !Same(published, current) {
				if !r.Zones.SetFence(name, published) {
					return
				}
				current = published
			}
			in.HealthyPeers = r.healthyPeers(ctx, z, min(interval, 2*time.Second))
		}
		d := Decide(in)
		if !Same(d.Fence, current) {
			if d.Withdrawn() != (current.Withdraw != "") {
				since = time.Now()
			}
			if !r.Zones.SetFence(name, d.Fence) {
				return
			}
			level := slog.LevelInfo
			if d.Withdrawn() {
				level = slog.LevelWarn
			}
			r.Log.Log(ctx, level, "fencing state changed", "zone", name, "withdrawn", d.Withdrawn(), "mode", in.Mode, "reason", d.Reason)
			current = d.Fence
		}
		st.Withdrawn, st.Reason, st.Since = d.Withdrawn(), d.Reason, since
		r.mu.Lock()
		if _, live := r.loops[name]; live {
			r.status[name] = st
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// CheckLocal runs one health check of the local load balancer.
func CheckLocal(ctx context.Context, hc zone.HealthCheck) error {
	timeout := time.Duration(hc.TimeoutMS) * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if hc.Type == "tcp" {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", hc.Target)
		if err != nil {
			return err
		}
		return c.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, hc.Type+"://"+hc.Target+hc.Path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "pmgtm-agent health check")
	client := &http.Client{
		// The load balancer is local and usually serves a certificate for
		// the public name, not for the address checked: the check is about
		// liveness, so the certificate is not verified.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}, //nolint:gosec // liveness of the local load balancer, see above
		// A redirect is an answer: the load balancer is up.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if hc.ExpectStatus != 0 && uint32(resp.StatusCode) != hc.ExpectStatus {
		return fmt.Errorf("status %d, want %d", resp.StatusCode, hc.ExpectStatus)
	}
	if hc.ExpectStatus == 0 && (resp.StatusCode < 200 || resp.StatusCode > 399) {
		return fmt.Errorf("status %d, want 2xx or 3xx", resp.StatusCode)
	}
	return nil
}

// healthyPeers asks every peer, in parallel and directly, for its health
// with a fresh nonce; those answering "ok" with a valid MAC are healthy. A
// zone without a peer key believes no peer: a withdrawal must never rest
// on an answer anyone on the path could have made up.
func (r *Runner) healthyPeers(ctx context.Context, z zone.Zone, timeout time.Duration) []zone.Peer {
	key := zone.DecodePeerKey(z.PeerKey)
	if key == nil {
		return nil
	}
	ok := make([]bool, len(z.Peers))
	var wg sync.WaitGroup
	for i, p := range z.Peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok[i] = r.peerHealthy(ctx, key, z.Name, p, timeout)
		}()
	}
	wg.Wait()
	var out []zone.Peer
	for i, p := range z.Peers {
		if ok[i] {
			out = append(out, p)
		}
	}
	return out
}

func (r *Runner) peerHealthy(ctx context.Context, key []byte, zoneName string, p zone.Peer, timeout time.Duration) bool {
	port := r.PeerPort
	if port == 0 {
		port = 53
	}
	exchange := r.exchange
	if exchange == nil {
		c := &dns.Client{Timeout: timeout}
		exchange = func(ctx context.Context, m *dns.Msg, addr string) (*dns.Msg, error) {
			resp, _, err := c.ExchangeContext(ctx, m, addr)
			return resp, err
		}
	}
	for _, s := range slices.Concat(p.IPv4, p.IPv6) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		// A new nonce per question: an answer recorded earlier, or meant
		// for another asker, cannot be replayed.
		nonce := zone.NewHealthNonce()
		name := zone.HealthChallengeName(zoneName, nonce)
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeTXT)
		m.RecursionDesired = false
		resp, err := exchange(ctx, m, netip.AddrPortFrom(a, port).String())
		if err != nil || !resp.Authoritative || resp.Rcode != dns.RcodeSuccess ||
			len(resp.Question) != 1 || !strings.EqualFold(resp.Question[0].Name, name) || resp.Question[0].Qtype != dns.TypeTXT {
			continue // not an answer to this question
		}
		for _, rr := range resp.Answer {
			txt, ok := rr.(*dns.TXT)
			if !ok || !strings.EqualFold(txt.Hdr.Name, name) {
				continue // a record for another name proves nothing
			}
			if rec, ok := zone.ParseHealthTXT(txt.Txt); ok && rec.State == zone.HealthOK && rec.Verify(key, nonce, zoneName, p.Name) {
				return true
			}
		}
	}
	return false
}
