package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/failoverbench"
)

func main() {
	o := failoverbench.Options{Log: os.Stderr}
	binary := flag.String("binary", "bin/terraform-provider-pmgtm", "provider binary (also the agent)")
	flag.IntVar(&o.Trials, "trials", 20, "first-lookup trials per resolver, event and cache state")
	flag.IntVar(&o.Lookups, "lookups", 200, "fresh lookups for the share of the live node")
	flag.DurationVar(&o.RecoveryCap, "recovery-cap", 60*time.Second, "longest wait for a recovered node to be used again")
	only := flag.String("resolver", "", "measure only this resolver (Unbound, Knot Resolver, PowerDNS Recursor)")
	flag.Parse()
	dir, err := os.MkdirTemp("", "pmgtm-failover-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	rig := &failoverbench.Rig{Dir: dir, Binary: *binary}
	stop, err := rig.Start()
	if err != nil {
		fail(err)
	}
	defer stop()
	var resolvers []failoverbench.Resolver
	for _, r := range failoverbench.Resolvers(dir) {
		if *only == "" || r.Name() == *only {
			resolvers = append(resolvers, r)
		}
	}
	results, err := failoverbench.Run(rig, resolvers, o)
	failoverbench.Report(os.Stdout, results, resolvers, o)
	if err != nil {
		stop()
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "failover bench:", err)
	os.Exit(1)
}
