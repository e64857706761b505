package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

// TestAccExamplesPlan runs `terraform plan` on every example directory with
// the real CLI. Examples that only configure the provider are planned as
// they are (each backend's configuration must be accepted); examples with
// resources get their provider block replaced by one for a BIND that serves
// their zone, so the plan reads a real parent zone.
func TestAccExamplesPlan(t *testing.T) {
	accOnly(t)
	com := bind.Start(t, bind.Options{Zone: "example.com"})
	test := bind.Start(t, bind.Options{Zone: "example.test"})
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "pmgtm") // the examples use source = "pmgtm/pmgtm"
	for k, v := range map[string]string{
		"TF_VAR_tsig_secret": test.KeySecret, "TF_VAR_rfc2136_server": test.Addr, "TF_VAR_agent_token": "example-agent-token-0123456789",
		"TF_VAR_cloudflare_api_token": "example-cloudflare-token", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
	} {
		t.Setenv(k, v)
	}
	awsConfig := filepath.Join(t.TempDir(), "aws-config")
	if err := os.WriteFile(awsConfig, []byte("[profile dns-admin]\nregion = us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", awsConfig)

	root, _ := filepath.Abs("../../examples")
	dirs := map[string]string{}
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".tf") {
			data, _ := os.ReadFile(path)
			dirs[filepath.Dir(path)] += string(data) + "\n"
		}
		return nil
	})
	var names []string
	for d := range dirs {
		names = append(names, d)
	}
	sort.Strings(names)
	for _, dir := range names {
		rel, _ := filepath.Rel(root, dir)
		if strings.HasPrefix(rel, "modules") {
			continue // applied by TestAccModule (PlanOnly steps do not install modules)
		}
		t.Run(rel, func(t *testing.T) {
			cfg := dirs[dir]
			hasResources := strings.Contains(cfg, "\nresource \"") || strings.Contains(cfg, "\nmodule \"")
			usesData := strings.Contains(cfg, "\ndata \"")
			if (hasResources || usesData) && !strings.Contains(cfg, "example.test") {
				cfg = stripBlock(cfg, `provider "pmgtm" {`) + providerBlock(com)
			}
			if !strings.Contains(cfg, "required_providers") {
				cfg += requiredProviders
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: protoV6Providers,
				Steps:                    []resource.TestStep{{Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: hasResources || usesData}},
			})
		})
	}
}

// stripBlock removes every top-level block that starts with header.
func stripBlock(cfg, header string) string {
	for {
		i := strings.Index(cfg, header)
		if i < 0 {
			return cfg
		}
		depth, j := 0, i
		for ; j < len(cfg); j++ {
			if cfg[j] == '{' {
				depth++
			} else if cfg[j] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		cfg = cfg[:i] + cfg[min(j+1, len(cfg)):]
	}
}

// TestAccModule applies examples/modules/gtm, the ready module, with two
// real agents behind a BIND parent: two hostnames, each delegated to both
// nodes; its outputs; its input validation; and destroy. It drives the
// terraform CLI directly with the provider binary built from this checkout
// (dev_overrides), as `make demo` does: the test harness does not install
// modules.
func TestAccModule(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.1.51", "127.0.1.52"
	r := newRig(t, lb1, lb2)
	tf := terraformCLI(t)
	module, _ := filepath.Abs("../../examples/modules/gtm")
	cfg := func(nodes string) string {
		return r.provider() + fmt.Sprintf(`
module "gtm" {
  source    = %q
  zone      = "example.test"
  nodes     = {%s}
  hostnames = {
    api = { answer_ttl = 5, ns_ttl = 60 }
    shop = { answer_ttl = 10, ns_ttl = 60, withdraw_mode = "refused" }
  }
}

output "fqdns" {
  value = module.gtm.fqdns
}
`, module, nodes)
	}
	both := fmt.Sprintf("\n    lb1 = { ipv4 = %q, agent_url = %q }\n    lb2 = { ipv4 = %q, agent_url = %q }\n  ",
		lb1, r.agents[lb1].APIURL, lb2, r.agents[lb2].APIURL)
	one := fmt.Sprintf("\n    lb1 = { ipv4 = %q, agent_url = %q }\n  ", lb1, r.agents[lb1].APIURL)

	if out, err := tf(cfg(one), "plan"); err == nil || !strings.Contains(out, "Give at least two nodes") {
		t.Fatalf("module validation: %v\n%s", err, out)
	}
	if out, err := tf(cfg(both), "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	out, err := tf(cfg(both), "output", "-json", "fqdns")
	if err != nil || strings.TrimSpace(out) != `{"api":"api.example.test.","shop":"shop.example.test."}` {
		t.Fatalf("output fqdns: %v %s", err, out)
	}
	for _, name := range []string{"api.example.test.", "shop.example.test."} {
		got, err := delegation(r.srv.Addr, name)
		if err != nil || len(got) != 2 {
			t.Fatalf("%s delegated to %v (%v)", name, got, err)
		}
		for _, ip := range []string{lb1, lb2} {
			if err := authoritative(ip, name); err != nil {
				t.Fatalf("%s at %s: %v", name, ip, err)
			}
		}
	}
	if out, err := tf(cfg(both), "plan", "-detailed-exitcode"); err != nil {
		t.Fatalf("plan after apply is not empty: %v\n%s", err, out)
	}
	if out, err := tf(cfg(both), "destroy", "-auto-approve"); err != nil {
		t.Fatalf("destroy: %v\n%s", err, out)
	}
	for _, name := range []string{"api.example.test.", "shop.example.test.", "lb1.example.test."} {
		if got, _ := delegation(r.srv.Addr, name); len(got) != 0 {
			t.Fatalf("%s still delegated after destroy: %v", name, got)
		}
	}
}

// requiredProviders makes a root module use the pmgtm provider built here.
const requiredProviders = "terraform {\n  required_providers {\n    pmgtm = { source = \"pmgtm/pmgtm\" }\n  }\n}\n"

// terraformCLI returns a runner for the terraform CLI in a fresh directory,
// using the provider built from this checkout; configurations get
// requiredProviders when they do not say it themselves.
func terraformCLI(t *testing.T) func(config string, args ...string) (string, error) {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Skip("TF_ACC_TERRAFORM_PATH is not set")
	}
	return cliFor(t, bin)
}

// cliFor runs the CLI at bin (terraform or tofu) in a directory of its own
// with this provider built from source and installed by dev_overrides;
// plan, apply and destroy run with -no-color and -input=false.
func cliFor(t *testing.T, bin string) func(config string, args ...string) (string, error) {
	t.Helper()
	run, _ := cliIn(t, bin)
	return run
}

// mustCLI wraps a CLI runner so that a failing command fails the test,
// with its output; it returns the output.
func mustCLI(t *testing.T, cli func(config string, args ...string) (string, error)) func(config string, args ...string) string {
	t.Helper()
	return func(config string, args ...string) string {
		t.Helper()
		out, err := cli(config, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
}

// cliIn is cliFor that also returns the working directory, for tests that
// read or write files beside main.tf.
func cliIn(t *testing.T, bin string) (func(config string, args ...string) (string, error), string) {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "terraform-provider-pmgtm"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte(fmt.Sprintf("provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/pmgtm/pmgtm\" = %[1]q\n    \"registry.opentofu.org/pmgtm/pmgtm\" = %[1]q\n  }\n  direct {}\n}\n", plugins)), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	return func(config string, args ...string) (string, error) {
		if !strings.Contains(config, "required_providers") {
			config = requiredProviders + config
		}
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(config), 0o644); err != nil {
			return "", err
		}
		env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
		get := exec.Command(bin, "get", "-no-color")
		get.Dir, get.Env = work, env
		if out, err := get.CombinedOutput(); err != nil {
			return string(out), err
		}
		if slices.Contains([]string{"plan", "apply", "destroy"}, args[0]) {
			// Unattended, and plain text: tests match the output.
			args = append(slices.Clone(args), "-no-color", "-input=false")
		}
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}, work
}
