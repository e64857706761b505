package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// Addresses the demo uses; all loopback.
const (
	parentIP   = "127.0.0.1" // BIND binds to interface addresses only: lo's own
	resolverIP = "127.0.0.3"
	node1IP    = "127.0.0.11"
	node2IP    = "127.0.0.12"
	agentPort  = 8053
	lbPort     = 8080
	hostname   = "api.example.test."
)

// Options configure Run.
type Options struct {
	Terraform string    // terraform CLI
	Binary    string    // the provider binary, also run as the agent
	Example   string    // directory with the demo configuration (examples/demo)
	Out       io.Writer // the timeline
}

type demo struct {
	Options
	start    time.Time
	dir      string
	cleanups []func()
	unbound  *dnsrig.Unbound
	seq      int
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.Out, "[%5.1fs] %s\n", time.Since(d.start).Seconds(), fmt.Sprintf(format, args...))
}

func (d *demo) onExit(f func()) { d.cleanups = append(d.cleanups, f) }

// Run runs the demo; it returns when the story is told or ctx ends.
func Run(ctx context.Context, o Options) (err error) {
	if os.Geteuid() != 0 {
		return errors.New("the demo answers DNS on port 53 of 127.0.0.x, as delegated nameservers must; run it as root (sudo make demo)")
	}
	d := &demo{Options: o, start: time.Now()}
	if d.dir, err = os.MkdirTemp("", "pmgtm-demo-"); err != nil {
		return err
	}
	defer func() {
		for i := len(d.cleanups) - 1; i >= 0; i-- {
			d.cleanups[i]()
		}
		os.RemoveAll(d.dir)
		d.say("stopped every process the demo started and removed %s", d.dir)
	}()
	fmt.Fprintln(d.Out, "pmgtm demo: DNS-delegation failover on loopback (BIND parent, two nodes, Unbound resolver)")

	port, err := dnsrig.FreePort(parentIP)
	if err != nil {
		return err
	}
	parent, err := dnsrig.StartBIND(dnsrig.PrimaryOptions{Dir: filepath.Join(d.dir, "bind"), IP: parentIP, Port: port, Zone: "example.test"})
	if err != nil {
		return err
	}
	d.onExit(parent.Stop)
	d.say("parent zone example.test on BIND %s, updates signed with TSIG key %s", parent.Addr, parent.KeyName)

	lb1, err := dnsrig.StartLoadBalancer(net.JoinHostPort(node1IP, fmt.Sprint(lbPort)))
	if err != nil {
		return err
	}
	d.onExit(lb1.Close)
	lb2, err := dnsrig.StartLoadBalancer(net.JoinHostPort(node2IP, fmt.Sprint(lbPort)))
	if err != nil {
		return err
	}
	d.onExit(lb2.Close)
	token := randomHex(16)
	agents := map[string]*dnsrig.Agent{}
	for i, ip := range []string{node1IP, node2IP} {
		a, err := dnsrig.StartAgent(dnsrig.AgentOptions{Binary: o.Binary, Dir: filepath.Join(d.dir, fmt.Sprintf("lb%d", i+1)), IP: ip, APIPort: agentPort, Token: token})
		if err != nil {
			return err
		}
		agents[ip] = a
		d.onExit(func() { agents[ip].Stop() })
	}
	d.say("node lb1: load balancer %s:%d, pmgtm-agent DNS %s:53, API :%d", node1IP, lbPort, node1IP, agentPort)
	d.say("node lb2: load balancer %s:%d, pmgtm-agent DNS %s:53, API :%d", node2IP, lbPort, node2IP, agentPort)

	if d.unbound, err = dnsrig.StartUnbound(dnsrig.UnboundOptions{Dir: filepath.Join(d.dir, "unbound"), IP: resolverIP, Port: 53,
		ControlPort: 8953, StubZone: "example.test", StubAddr: parent.Addr}); err != nil {
		return err
	}
	d.onExit(d.unbound.Stop)
	d.say("Unbound resolver on %s (clients ask it; it follows the delegation)", d.unbound.Addr)

	tf, err := d.terraform(parent, token)
	if err != nil {
		return err
	}
	d.say("terraform apply examples/demo ...")
	if out, err := tf("apply", "-auto-approve", "-input=false", "-no-color"); err != nil {
		return fmt.Errorf("terraform apply failed:\n%s", out)
	}
	d.onExit(func() {
		d.say("terraform destroy: delegation first, then the zones, then the node records")
		if out, err := tf("destroy", "-auto-approve", "-input=false", "-no-color"); err != nil {
			d.say("terraform destroy failed:\n%s", out)
		}
	})
	out, _ := tf("output", "-json", "failover_budget")
	d.say("applied: %s is delegated to %s; failover budget (s) %s", hostname, strings.Join(delegation(parent.Addr), ", "), strings.TrimSpace(out))

	if err := d.sample(ctx, "both nodes healthy"); err != nil {
		return err
	}

	d.say(">>> lb1's load balancer stops answering (its agent checks it every 250 ms, 2 failures to fall)")
	lb1.Down.Store(true)
	if err := d.waitFencing(ctx, agents[node1IP], true); err != nil {
		return err
	}
	if err := d.sample(ctx, "lb1 withdrawn"); err != nil {
		return err
	}
	d.say(">>> lb1's load balancer is back")
	lb1.Down.Store(false)
	if err := d.waitFencing(ctx, agents[node1IP], false); err != nil {
		return err
	}
	if err := d.sample(ctx, "lb1 recovered"); err != nil {
		return err
	}

	d.say(">>> lb1 dies entirely (kill -9 of its agent): Unbound must time out on it and ask lb2")
	agents[node1IP].Kill()
	if err := d.sample(ctx, "lb1 dead"); err != nil {
		return err
	}
	d.say(">>> lb1's agent restarts, with its zone from disk")
	if agents[node1IP], err = dnsrig.StartAgent(agents[node1IP].Opts); err != nil {
		return err
	}
	d.say("Unbound remembers a dead server for minutes (infra cache); flushing it so lb1 is used again now")
	if err := d.unbound.Flush(); err != nil {
		return err
	}
	return d.sample(ctx, "lb1 restarted")
}

// terraform prepares a working copy of the demo configuration that uses
// the provider built from this checkout, and returns a runner for it.
func (d *demo) terraform(parent *dnsrig.Primary, token string) (func(args ...string) (string, error), error) {
	work := filepath.Join(d.dir, "terraform")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(d.Example, "*.tf"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), data, 0o644); err != nil {
			return nil, err
		}
	}
	rc := filepath.Join(d.dir, "terraformrc")
	bin, _ := filepath.Abs(filepath.Dir(d.Binary))
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/pmgtm/pmgtm\" = %q\n  }\n  direct {}\n}\n", bin)), 0o644); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_VAR_rfc2136_server="+parent.Addr, "TF_VAR_tsig_secret="+parent.KeySecret, "TF_VAR_agent_token="+token)
	return func(args ...string) (string, error) {
		cmd := exec.Command(d.Terraform, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}, nil
}

// samples is how many fresh lookups each phase of the story makes.
const samples = 20

// sample makes fresh lookups (names no cache holds) through Unbound and
// prints who answered and how fast.
func (d *demo) sample(ctx context.Context, label string) error {
	n := samples
	counts := map[string]int{}
	var first, worst time.Duration
	for i := 0; i < n && ctx.Err() == nil; i++ {
		d.seq++
		name := fmt.Sprintf("demo%d-%d.%s", os.Getpid(), d.seq, hostname)
		start := time.Now()
		answer := lookup(d.unbound.Addr, name)
		took := time.Since(start)
		if i == 0 {
			first = took
		}
		worst = max(worst, took)
		counts[answer]++
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var parts []string
	for k, v := range counts {
		who := map[string]string{node1IP: " (lb1)", node2IP: " (lb2)"}[k]
		parts = append(parts, fmt.Sprintf("%s%s x%d", k, who, v))
	}
	sort.Strings(parts)
	d.say("%s: %d fresh lookups -> %s; first took %s, slowest %s", label, n, strings.Join(parts, ", "), ms(first), ms(worst))
	return nil
}

// waitFencing waits (at most 10 s) until the agent reports the hostname
// withdrawn or served, and prints why.
func (d *demo) waitFencing(ctx context.Context, a *dnsrig.Agent, withdrawn bool) error {
	started := time.Now()
	for time.Since(started) < 10*time.Second && ctx.Err() == nil {
		var h zone.HealthReport
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.APIURL+"/v1/health", nil)
		req.Header.Set("Authorization", "Bearer "+a.Opts.Token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
		}
		if len(h.Fencing) == 1 && h.Fencing[0].Withdrawn == withdrawn {
			d.say("lb1's agent, after %s: %s", time.Since(started).Round(10*time.Millisecond), h.Fencing[0].Reason)
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("lb1's agent did not report withdrawn=%v within 10 s", withdrawn)
}

// lookup resolves name through a resolver like a stub resolver does (two
// tries of 2 s) and returns the first address, or what went wrong.
func lookup(resolver, name string) string {
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	for try := 0; try < 2; try++ {
		resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, resolver)
		if err != nil {
			continue
		}
		for _, rr := range resp.Answer {
			if a, ok := rr.(*dns.A); ok {
				return a.A.String()
			}
		}
		return dns.RcodeToString[resp.Rcode]
	}
	return "timeout"
}

// delegation returns the parent's NS set for the hostname.
func delegation(parent string) []string {
	m := new(dns.Msg).SetQuestion(hostname, dns.TypeNS)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, parent)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, rr := range append(resp.Answer, resp.Ns...) {
		if ns, ok := rr.(*dns.NS); ok {
			out = append(out, ns.Ns)
		}
	}
	sort.Strings(out)
	return out
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
