package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/demo"
)

func main() {
	o := demo.Options{Out: os.Stdout}
	flag.StringVar(&o.Terraform, "terraform", "terraform", "terraform CLI")
	flag.StringVar(&o.Binary, "binary", "bin/terraform-provider-pmgtm", "provider binary (also the agent)")
	flag.StringVar(&o.Example, "example", "examples/demo", "demo configuration")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := demo.Run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
