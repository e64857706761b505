package providerbench

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// Report writes the results as the Markdown tables BENCHMARKS.md keeps.
func Report(w io.Writer, results []Result) {
	fmt.Fprintf(w, "%s, %s/%s, %d CPUs; 3 nodes, BIND over RFC 2136, terraform's default parallelism.\n\n",
		time.Now().UTC().Format("2006-01-02"), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	fmt.Fprintln(w, "| hostnames | command | terraform_data x N | pmgtm | above the floor, per hostname | CPU: terraform_data / pmgtm (provider) | provider peak RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range results {
		for _, p := range Phases {
			if _, ok := r.Pmgtm[p]; !ok {
				continue
			}
			fmt.Fprintf(w, "| %d | %s | %.2f s | %.2f s | %.1f ms | %.1f / %.1f (%.1f) s | %.0f MiB |\n", r.N, p, r.Floor[p].Seconds(), r.Pmgtm[p].Seconds(),
				float64(r.PerHostname(p).Microseconds())/1000, r.FloorCPU[p], r.CPU[p], r.ProviderCPU[p], float64(r.PeakRSS[p])/(1<<20))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| hostnames | command | UPDATE messages | zone transfers | other parent queries | agent API requests | agent API connections | DNS queries to agents |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		for _, p := range Phases {
			if _, ok := r.Pmgtm[p]; !ok {
				continue
			}
			c := r.Counts[p]
			fmt.Fprintf(w, "| %d | %s | %d | %d | %d | %d | %d | %d |\n", r.N, p, c.Updates, c.Transfers, c.ParentQueries,
				c.AgentRequests, c.AgentConns, c.AgentDNS)
		}
	}
}
