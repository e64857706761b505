package failoverbench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Options bound the benchmark.
type Options struct {
	Trials      int           // first-lookup trials per resolver, event and cache state (20)
	Lookups     int           // fresh lookups for the share (200)
	RecoveryCap time.Duration // give up waiting for a recovered node after this (60 s)
	Log         io.Writer     // progress
}

// Lookup is one fresh lookup's outcome.
type Lookup struct {
	Took   time.Duration
	Result string // "live" (node 2's address), "dead" (node 1's), or the failure
}

var seq atomic.Int64

// fresh resolves a name beneath the hostname that no cache holds, with one
// try and a 10 s timeout, so the resolver's own latency is measured.
func fresh(resolver string) Lookup {
	name := fmt.Sprintf("b%d-%d.%s", os.Getpid(), seq.Add(1), hostname)
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	start := time.Now()
	resp, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(m, resolver)
	took := time.Since(start)
	if err != nil {
		return Lookup{took, "timeout"}
	}
	if resp.Rcode != dns.RcodeSuccess {
		return Lookup{took, dns.RcodeToString[resp.Rcode]}
	}
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			switch a.A.String() {
			case node2IP:
				return Lookup{took, "live"}
			case node1IP:
				return Lookup{took, "dead"}
			}
		}
	}
	return Lookup{took, "empty"}
}

// Result is one resolver's numbers for one event.
type Result struct {
	Resolver, Event string
	Cold, Warm      []Lookup
	Share           []Lookup
	Recovery        time.Duration // -1: not within the cap
}

// Run measures every resolver against every event.
func Run(r *Rig, resolvers []Resolver, o Options) ([]Result, error) {
	var out []Result
	for _, res := range resolvers {
		for _, ev := range r.Events() {
			fmt.Fprintf(o.Log, "%s / %s ...\n", res.Name(), ev.Name)
			result, err := measure(res, ev, o)
			if err != nil {
				return out, fmt.Errorf("%s, %s: %w", res.Name(), ev.Name, err)
			}
			out = append(out, result)
		}
	}
	return out, nil
}

func measure(res Resolver, ev Event, o Options) (Result, error) {
	result := Result{Resolver: res.Name(), Event: ev.Name}
	warmUp := func(addr string) {
		for i := 0; i < 20; i++ {
			fresh(addr)
		}
	}
	for i := 0; i < o.Trials; i++ {
		// Cold: the event has happened; a resolver that knows nothing asks.
		if err := ev.Apply(); err != nil {
			return result, err
		}
		addr, err := res.Start()
		if err != nil {
			return result, err
		}
		result.Cold = append(result.Cold, fresh(addr))
		res.Stop()
		if err := ev.Undo(); err != nil {
			return result, err
		}
		// Warm: the resolver knows both nodes (and their speed), then the
		// event happens.
		if addr, err = res.Start(); err != nil {
			return result, err
		}
		warmUp(addr)
		if err := ev.Apply(); err != nil {
			return result, err
		}
		result.Warm = append(result.Warm, fresh(addr))
		res.Stop()
		if err := ev.Undo(); err != nil {
			return result, err
		}
	}
	// Share and recovery, on one warm resolver.
	addr, err := res.Start()
	if err != nil {
		return result, err
	}
	defer res.Stop()
	warmUp(addr)
	if err := ev.Apply(); err != nil {
		return result, err
	}
	for i := 0; i < o.Lookups; i++ {
		result.Share = append(result.Share, fresh(addr))
	}
	if err := ev.Undo(); err != nil {
		return result, err
	}
	start := time.Now()
	result.Recovery = -1
	for time.Since(start) < o.RecoveryCap {
		if fresh(addr).Result == "dead" { // node 1's own address: it answered again
			result.Recovery = time.Since(start)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return result, nil
}

// Report writes the results as Markdown.
func Report(w io.Writer, results []Result, resolvers []Resolver, o Options) {
	fmt.Fprintf(w, "Resolvers: %s. %d trials per cell; %d fresh lookups for the share; recovery capped at %s.\n\n",
		versions(resolvers), o.Trials, o.Lookups, o.RecoveryCap)
	fmt.Fprintln(w, "| resolver | node 1 | first lookup, cold: median / p95 / max | first lookup, warm: median / p95 / max | fresh lookups reaching the live node | recovered node used again after |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		rec := "> " + o.RecoveryCap.String()
		if r.Recovery >= 0 {
			rec = fmt.Sprintf("%.1f s", r.Recovery.Seconds())
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Resolver, r.Event, latencies(r.Cold), latencies(r.Warm), share(r.Share), rec)
	}
}

func latencies(ls []Lookup) string {
	if len(ls) == 0 {
		return "-"
	}
	var ds []time.Duration
	failed := map[string]int{}
	for _, l := range ls {
		ds = append(ds, l.Took)
		if l.Result != "live" {
			failed[l.Result]++
		}
	}
	slices.Sort(ds)
	q := func(p float64) string {
		return fmt.Sprintf("%.0f", float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds())/1000)
	}
	s := fmt.Sprintf("%s / %s / %s ms", q(0.5), q(0.95), q(1))
	if len(failed) > 0 {
		var parts []string
		for k, v := range failed {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
		slices.Sort(parts)
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

func share(ls []Lookup) string {
	live := 0
	other := map[string]int{}
	for _, l := range ls {
		if l.Result == "live" {
			live++
		} else {
			other[l.Result]++
		}
	}
	s := fmt.Sprintf("%d/%d (%.1f%%)", live, len(ls), 100*float64(live)/float64(max(len(ls), 1)))
	if len(other) > 0 {
		var parts []string
		for k, v := range other {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
		slices.Sort(parts)
		s += "; " + strings.Join(parts, ", ")
	}
	return s
}

func versions(resolvers []Resolver) string {
	var parts []string
	for _, r := range resolvers {
		parts = append(parts, r.Name()+" "+r.Version())
	}
	return strings.Join(parts, ", ")
}

var versionRE = regexp.MustCompile(`\d+\.\d+\.\d+`)

func commandVersion(name string, arg string) string {
	out, _ := exec.Command(name, arg).CombinedOutput()
	if v := versionRE.FindString(string(out)); v != "" {
		return v
	}
	return "?"
}
