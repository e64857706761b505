package provider

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

func TestMain(m *testing.M) { agentproc.Main(m) }

// accOnly skips an acceptance test before it starts anything (BIND,
// agents, observers) unless TF_ACC is set, so that plain go test ./...
// passes on a contributor's machine.
func accOnly(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
}

const rigToken = "test-token-0123456789abcdef"

// rig is a parent zone on a real BIND and real agents, each answering DNS
// on port 53 of its own loopback address, as resolvers expect of a node.
type rig struct {
	t       *testing.T
	srv     *bind.Server // nil when the parent is an API emulator
	backend string
	agents  map[string]*agentproc.Agent // by IP
}

func newRig(t *testing.T, ips ...string) *rig {
	t.Helper()
	return newRigSigned(t, "", ips...)
}

// newRigSigned is newRig with a parent zone that BIND signs ("nsec",
// "nsec3"; "" for unsigned).
func newRigSigned(t *testing.T, signing string, ips ...string) *rig {
	t.Helper()
	return newRigOn(t, bind.Options{Signing: signing}, ips...)
}

// newRigOn is newRig with the parent zone on the primary server o
// describes (software, signing, a transfer key); zone and records are the
// rig's own.
func newRigOn(t *testing.T, o bind.Options, ips ...string) *rig {
	t.Helper()
	o.Zone, o.Records = "example.test", []string{"foreign 300 A 192.0.2.99", "www 300 A 192.0.2.80"}
	srv := bind.Start(t, o)
	transfer := ""
	if srv.TransferKeyName != "" {
		transfer = fmt.Sprintf(`
    transfer_key_name   = %q
    transfer_key_secret = %q`, srv.TransferKeyName, srv.TransferKeySecret)
	}
	r := newRigWith(t, fmt.Sprintf(`
  rfc2136 {
    server     = %q
    key_name   = %q
    key_secret = %q%s
  }`, srv.Addr, srv.KeyName, srv.KeySecret, transfer), ips...)
	r.srv = srv
	return r
}

// newRigWith starts the agents for a parent zone described by backend,
// the provider block's backend configuration.
func newRigWith(t *testing.T, backend string, ips ...string) *rig {
	t.Helper()
	r := &rig{t: t, backend: backend, agents: map[string]*agentproc.Agent{}}
	for _, ip := range ips {
		r.agents[ip] = agentproc.Start(t, agentproc.Options{IP: ip, DNSPort: 53, Token: rigToken})
	}
	// Registered after the agents start, so it runs before they (and the
	// parent) stop: whatever a test created it has destroyed by now.
	t.Cleanup(func() {
		if !t.Failed() {
			for _, left := range r.leftovers() {
				t.Errorf("left behind after the test's destroys: %s", left)
			}
		}
	})
	return r
}

// leftovers lists what pmgtm wrote and no destroy removed: zones on the
// rig's agents, and (BIND rigs) pmgtm's records at the parent.
func (r *rig) leftovers() []string {
	var left []string
	// Read from each agent's durable store rather than asked over its
	// API: a test may have given an agent a token of its own. The store
	// writes a zone before acknowledging it and removes the file before
	// acknowledging a delete.
	for ip, a := range r.agents {
		if !a.Alive() {
			// Killed by the test: a destroy cannot reach a dead agent and
			// says so (warning "Zone left on a removed node").
			continue
		}
		files, _ := filepath.Glob(filepath.Join(a.DataDir, "zones", "*.json"))
		for _, f := range files {
			left = append(left, fmt.Sprintf("zone file %s on agent %s", filepath.Base(f), ip))
		}
	}
	if r.srv != nil {
		left = append(left, pmgtmRecords(zoneRecords(r.t, r.srv), r.srv.Zone)...)
	}
	return left
}

// zoneRecords is the whole parent zone, as a TSIG-signed AXFR gives it.
func zoneRecords(t *testing.T, srv *bind.Server) []dns.RR {
	t.Helper()
	key, secret := srv.ReadKey()
	m := new(dns.Msg).SetAxfr(srv.Zone + ".")
	m.SetTsig(key, dns.HmacSHA256, 300, time.Now().Unix())
	tr := &dns.Transfer{TsigSecret: map[string]string{key: secret}}
	env, err := tr.In(m, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var out []dns.RR
	for e := range env {
		if e.Error != nil {
			t.Fatal(e.Error)
		}
		out = append(out, e.RR...)
	}
	return out
}

// zoneText is the whole parent zone one record per line, sorted: to show
// that a refused plan changed nothing at all.
func zoneText(t *testing.T, srv *bind.Server) string {
	t.Helper()
	var lines []string
	for _, rr := range zoneRecords(t, srv) {
		lines = append(lines, rr.String())
	}
	slices.Sort(lines)
	return strings.Join(slices.Compact(lines), "\n")
}

// pmgtmRecords is what of a zone pmgtm could have written, one record per
// line, sorted: ownership markers, the nodes' addresses (every test names
// its nodes lbN) and delegations below the apex to a name in the zone
// (foreign delegations the tests make point elsewhere). The signer's
// records are not among them.
func pmgtmRecords(rrs []dns.RR, zoneName string) []string {
	apex := dns.Fqdn(strings.ToLower(zoneName))
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		switch v := rr.(type) {
		case *dns.TXT:
			if !strings.Contains(name, "._pmgtm.") {
				continue
			}
		case *dns.A, *dns.AAAA:
			if !strings.HasPrefix(name, "lb") {
				continue
			}
		case *dns.NS:
			if name == apex || !dns.IsSubDomain(apex, strings.ToLower(v.Ns)) {
				continue
			}
		default:
			continue
		}
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (r *rig) provider() string {
	return fmt.Sprintf(`
provider "pmgtm" {%s
  agent {
    token = %q
  }
}
`, r.backend, rigToken)
}

// testNode is a pmgtm_node: its name, its address, and the agent that
// serves it (normally the agent at the same address).
type testNode struct{ name, ip, agentIP string }

func (r *rig) config(nodes []testNode, members []string, hostnameExtra string) string {
	var b strings.Builder
	b.WriteString(r.provider())
	for _, n := range nodes {
		agentIP := n.agentIP
		if agentIP == "" {
			agentIP = n.ip
		}
		fmt.Fprintf(&b, `
resource "pmgtm_node" %q {
  zone      = "example.test"
  name      = %[1]q
  ipv4      = %q
  agent_url = %q
}
`, n.name, n.ip, r.agents[agentIP].APIURL)
	}
	if members != nil {
		var refs []string
		for _, m := range members {
			refs = append(refs, "pmgtm_node."+m+".node")
		}
		ttls := ""
		if !strings.Contains(hostnameExtra, "answer_ttl") {
			ttls += "\n  answer_ttl = 5"
		}
		if !strings.Contains(hostnameExtra, "ns_ttl") {
			ttls += "\n  ns_ttl     = 60"
		}
		fmt.Fprintf(&b, `
resource "pmgtm_hostname" "api" {
  zone       = "example.test"
  name       = "api"
  nodes      = [%s]%s
  %s
}
`, strings.Join(refs, ", "), ttls, hostnameExtra)
	}
	return b.String()
}

// delegation returns the NS set the parent gives for name (a referral:
// the NS records are in the authority section), sorted.
func delegation(server, name string) ([]string, error) {
	m := new(dns.Msg).SetQuestion(name, dns.TypeNS)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range append(resp.Answer, resp.Ns...) {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, name) {
			out = append(out, strings.ToLower(ns.Ns))
		}
	}
	slices.Sort(out)
	return out, nil
}

func addresses(server, name string) ([]string, error) {
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out, nil
}

// authoritative reports whether the node at ip answers the hostname's SOA
// authoritatively.
func authoritative(ip, name string) error {
	m := new(dns.Msg).SetQuestion(name, dns.TypeSOA)
	resp, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, net.JoinHostPort(ip, "53"))
	switch {
	case err != nil:
		return err
	case resp.Rcode != dns.RcodeSuccess || !resp.Authoritative:
		return fmt.Errorf("rcode %s aa=%v", dns.RcodeToString[resp.Rcode], resp.Authoritative)
	}
	return nil
}

// client is the admin API client of the agent at ip.
func (r *rig) client(ip string) *agentclient.Client {
	a := r.agents[ip]
	return &agentclient.Client{BaseURL: a.APIURL, Token: rigToken, HTTP: a.HTTP}
}

// hasZone reports whether the agent at ip holds the zone.
func (r *rig) hasZone(ip, fqdn string) bool {
	r.t.Helper()
	_, _, err := r.client(ip).GetZone(context.Background(), fqdn)
	if err != nil && !errors.Is(err, agentclient.ErrNotFound) {
		r.t.Fatalf("agent %s: %v", ip, err)
	}
	return err == nil
}

func (r *rig) expectDelegation(want ...string) error {
	got, err := delegation(r.srv.Addr, "api.example.test.")
	if err != nil {
		return err
	}
	for i := range want {
		want[i] += ".example.test."
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("parent delegates api to %v, want %v", got, want)
	}
	return nil
}

// observer checks, over and over while Terraform works, that every node
// the parent delegates to answers for the hostname. A failed answer counts
// only if the node is still delegated to, at the same address, when asked
// again afterwards: a node may leave between the two questions.
type observer struct {
	// paused while a test breaks the hostname on purpose (drift, a node
	// killed); changes counts pauses and resumes, so that a check that
	// overlapped one does not count either.
	paused     atomic.Bool
	changes    atomic.Int64
	checks     int
	violations []string
	stop       chan struct{}
	done       sync.WaitGroup
}

// parentView is how an observer reads the parent zone: over DNS from a
// real server, or straight from an API emulator.
type parentView struct {
	delegation func(fqdn string) ([]string, error) // the NS set, sorted
	addresses  func(ns string) ([]string, error)   // a nameserver's A records
}

func dnsParent(server string) parentView {
	return parentView{
		delegation: func(fqdn string) ([]string, error) { return delegation(server, fqdn) },
		addresses:  func(ns string) ([]string, error) { return addresses(server, ns) },
	}
}

// observedFQDN is the hostname every rig configures.
const observedFQDN = "api.example.test."

func observe(parent parentView) *observer {
	const fqdn = observedFQDN
	o := &observer{stop: make(chan struct{})}
	o.done.Add(1)
	go func() {
		defer o.done.Done()
		deadline := time.Now().Add(20 * time.Minute) // bounded even if never stopped
		for i := 0; i < 1_000_000 && time.Now().Before(deadline); i++ {
			select {
			case <-o.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			since := o.changes.Load()
			set, err := parent.delegation(fqdn)
			if err != nil {
				continue
			}
			for _, ns := range set {
				addrs, err := parent.addresses(ns)
				if err != nil {
					continue
				}
				if len(addrs) == 0 && strings.HasSuffix(ns, "."+zoneOf(fqdn)) {
					// A nameserver without an address: resolvers cannot
					// follow the delegation to it at all.
					o.checks++
					again, _ := parent.delegation(fqdn)
					if stillAddrs, _ := parent.addresses(ns); slices.Contains(again, ns) && len(stillAddrs) == 0 && o.counting(since) {
						o.violations = append(o.violations, fmt.Sprintf("%s delegated but has no address", ns))
					}
				}
				for _, ip := range addrs {
					o.checks++
					if err := authoritative(ip, fqdn); err != nil {
						again, _ := parent.delegation(fqdn)
						stillAddrs, _ := parent.addresses(ns)
						if slices.Contains(again, ns) && slices.Contains(stillAddrs, ip) && o.counting(since) {
							o.violations = append(o.violations, fmt.Sprintf("%s (%s) delegated but %v", ns, ip, err))
						}
					}
				}
			}
		}
	}()
	return o
}

// watchNoLame runs an observer for the rest of the test and fails the test
// on any lame delegation it saw, or when it saw too little to tell.
func watchNoLame(t *testing.T, parent parentView) *observer {
	t.Helper()
	obs := observe(parent)
	t.Cleanup(func() {
		checks, violations := obs.finish()
		if len(violations) > 0 {
			t.Errorf("lame delegation seen %d times in %d checks: %v", len(violations), checks, violations)
		}
		if checks < 20 {
			t.Errorf("the observer made only %d checks; it did not watch the changes", checks)
		}
		t.Logf("no-lame observer: %d checks, %d violations", checks, len(violations))
	})
	return obs
}

// zoneOf is the parent zone of a hostname: all but its first label.
func zoneOf(fqdn string) string {
	_, z, _ := strings.Cut(fqdn, ".")
	return z
}

// pause stops counting violations, while a test breaks the hostname on
// purpose; resume counts them again.
func (o *observer) pause()  { o.paused.Store(true); o.changes.Add(1) }
func (o *observer) resume() { o.paused.Store(false); o.changes.Add(1) }

// counting reports whether a check begun when changes was since is still
// counted: not paused now, and not paused or resumed in between.
func (o *observer) counting(since int64) bool { return !o.paused.Load() && o.changes.Load() == since }

func (o *observer) finish() (checks int, violations []string) {
	close(o.stop)
	o.done.Wait()
	return o.checks, o.violations
}

// unbound starts a real Unbound on ip that resolves example.test through
// the rig's parent zone (a stub zone), as a user's resolver would.
func (r *rig) unbound(ip string) *dnsrig.Unbound {
	r.t.Helper()
	if dnsrig.UnboundPath() == "" {
		if os.Getenv("CI") != "" {
			r.t.Fatal("unbound is missing in CI; make test installs it")
		}
		r.t.Skip("unbound not installed (apt-get install unbound)")
	}
	ub, err := dnsrig.StartUnbound(dnsrig.UnboundOptions{Dir: r.t.TempDir(), IP: ip, Port: agentproc.FreePort(r.t, ip),
		ControlPort: agentproc.FreePort(r.t, ip), StubZone: "example.test", StubAddr: r.srv.Addr})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(ub.Stop)
	return ub
}

// moduleConfig uses examples/modules/gtm with the named nodes (name ->
// address, each served by the rig's agent there) and one hostname, api.
func (r *rig) moduleConfig(nodes map[string]string) string {
	r.t.Helper()
	module, err := filepath.Abs("../../examples/modules/gtm")
	if err != nil {
		r.t.Fatal(err)
	}
	return r.moduleConfigFrom(strconv.Quote(module), nodes)
}

// moduleRemoveNode applies examples/modules/gtm through cli with the
// nodes lb1, lb2 and lb3 (name -> address), then with lb2 removed, checking
// the delegation after each apply, and destroys it.
func (r *rig) moduleRemoveNode(cli func(config string, args ...string) (string, error), addrs map[string]string) {
	r.t.Helper()
	config := func(names ...string) string {
		nodes := map[string]string{}
		for _, n := range names {
			nodes[n] = addrs[n]
		}
		return r.moduleConfig(nodes)
	}
	for _, names := range [][]string{{"lb1", "lb2", "lb3"}, {"lb1", "lb3"}} {
		if out, err := cli(config(names...), "apply", "-auto-approve"); err != nil {
			r.t.Fatalf("module with %v: %v\n%s", names, err, out)
		}
		if err := r.expectDelegation(names...); err != nil {
			r.t.Fatalf("module with %v: %v", names, err)
		}
	}
	if out, err := cli(config("lb1", "lb3"), "destroy", "-auto-approve"); err != nil {
		r.t.Fatalf("module destroy: %v\n%s", err, out)
	}
	if err := r.expectDelegation(); err != nil {
		r.t.Fatalf("module destroy: %v", err)
	}
}

// moduleConfigFrom is moduleConfig with the module block's source (and
// any arguments after it, such as a version) given as HCL.
func (r *rig) moduleConfigFrom(source string, nodes map[string]string) string {
	names := slices.Sorted(maps.Keys(nodes))
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "\n    %s = { ipv4 = %q, agent_url = %q }", n, nodes[n], r.agents[nodes[n]].APIURL)
	}
	return r.provider() + fmt.Sprintf(`
module "gtm" {
  source    = %s
  zone      = "example.test"
  nodes     = {%s
  }
  hostnames = { api = { answer_ttl = 5, ns_ttl = 60 } }
}
`, source, b.String())
}
