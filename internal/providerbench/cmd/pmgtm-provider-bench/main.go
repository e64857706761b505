package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/providerbench"
)

func main() {
	o := providerbench.Options{Log: os.Stderr}
	flag.StringVar(&o.Binary, "binary", "bin/terraform-provider-pmgtm", "provider binary (also the agent)")
	flag.StringVar(&o.Terraform, "terraform", "terraform", "terraform CLI")
	sizes := flag.String("sizes", "100,1000", "numbers of hostnames, comma-separated")
	phases := flag.String("phases", strings.Join(providerbench.Phases, ","), "the commands to run, a prefix of the default (leave out destroy to inspect the state in -profiles)")
	keep := flag.String("profiles", "", "keep the provider's CPU profiles under this directory")
	flag.Parse()
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-sizes: %q is not a positive number", s))
		}
		o.Sizes = append(o.Sizes, n)
	}
	o.Phases = strings.Split(*phases, ",")
	if !slices.Equal(o.Phases, providerbench.Phases[:len(o.Phases)]) {
		fail(fmt.Errorf("-phases: %q is not a prefix of %s", *phases, strings.Join(providerbench.Phases, ",")))
	}
	o.Dir = *keep
	if o.Dir == "" {
		tmp, err := os.MkdirTemp("", "pmgtm-provider-bench-")
		if err != nil {
			fail(err)
		}
		o.Dir = tmp
	}
	results, err := providerbench.Run(o)
	providerbench.Report(os.Stdout, results)
	if *keep == "" {
		os.RemoveAll(o.Dir)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "provider bench:", err)
	os.Exit(1)
}
