package providerbench

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"
)

// Report writes the results as the Markdown tables BENCHMARKS.md keeps.
func Report(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs; 3 nodes, BIND over RFC 2136, terraform's default parallelism.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	for _, r := range results {
		fmt.Fprintf(w, "State per hostname at N=%d: %d bytes as Terraform writes it, %d sensitive paths.\n", r.N, r.StateBytes, r.Marks)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| hostnames | command | terraform_data x N | pmgtm | above the floor, per hostname | terraform_data x N, same state size | above it, per hostname | the same with as many sensitive paths | above it, per hostname | CPU: terraform_data / pmgtm (provider) | provider peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|")
	rows(results, func(r Result, p string) {
		fmt.Fprintf(w, "| %d | %s | %.2f s | %.2f s | %.1f ms | %.2f s | %.1f ms | %.2f s | %.1f ms | %.1f / %.1f (%.1f) s | %.0f MiB |\n", r.N, p, r.Floor[p].Seconds(), r.Pmgtm[p].Seconds(),
			r.Above(r.Floor, p), r.Sized[p].Seconds(), r.Above(r.Sized, p), r.Marked[p].Seconds(), r.Above(r.Marked, p),
			r.FloorCPU[p], r.CPU[p], r.ProviderCPU[p], float64(r.PeakRSS[p])/(1<<20))
	})
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| hostnames | command | UPDATE messages | zone transfers | other parent queries | agent API requests | agent API connections | DNS queries to agents |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	rows(results, func(r Result, p string) {
		c := r.Counts[p]
		dnsQueries := strconv.FormatInt(c.AgentDNS, 10)
		if c.AgentDNS < 0 {
			dnsQueries = "-" // the counters are per zone and went with the zones
		}
		fmt.Fprintf(w, "| %d | %s | %d | %d | %d | %d | %d | %s |\n", r.N, p, c.Updates, c.Transfers, c.ParentQueries,
			c.AgentRequests, c.AgentConns, dnsQueries)
	})
}

// rows calls row for every size and measured phase, in order.
func rows(results []Result, row func(r Result, phase string)) {
	for _, r := range results {
		for _, p := range Phases {
			if _, ok := r.Pmgtm[p]; ok {
				row(r, p)
			}
		}
	}
}
