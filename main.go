package main

import (
	"context"
	"flag"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/profiling"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/provider"
)

// version is set by the release build (goreleaser ldflags).
var version = "dev"

func main() {
	if strings.HasPrefix(filepath.Base(os.Args[0]), "pmgtm-agent") {
		os.Exit(agent.Main(os.Args[1:], version))
	}
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		os.Exit(agent.Main(os.Args[2:], version))
	}

	var debug bool
	flag.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	flag.Parse()

	provider.QuietWhenNotLogging()
	stopProfiling := profiling.Start()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/pmgtm/pmgtm",
		Debug:   debug,
	})
	stopProfiling()
	if err != nil {
		log.Fatal(err.Error())
	}
}
