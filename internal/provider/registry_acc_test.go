package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/registry"
)

// TestAccRegistryInstall installs the provider and the module the way users
// do, from a registry, using the files a release publishes: the goreleaser
// snapshot in PMGTM_RELEASE_DIST, whose SHA256SUMS a throwaway key signed
// (`make release-snapshot` builds both and runs this test). A loopback HTTPS
// registry serves them under the public registry's own host name (the CLI
// configuration's host block points it here), so the configuration is the
// one in the docs: source "pmgtm/pmgtm" and module "pmgtm/gtm/pmgtm". For
// terraform and tofu: init verifies checksums and the signature and installs
// the release's binary, which then plans (terraform also applies and
// destroys) against BIND and two agents; a zip that differs from its
// published checksum, and a SHA256SUMS its signature does not cover, make
// init fail.
func TestAccRegistryInstall(t *testing.T) {
	accOnly(t)
	dist := os.Getenv("PMGTM_RELEASE_DIST")
	if dist == "" {
		t.Skip("PMGTM_RELEASE_DIST is not set (make release-snapshot sets it)")
	}
	armor, err := os.ReadFile(os.Getenv("PMGTM_RELEASE_KEY"))
	if err != nil {
		t.Fatalf("PMGTM_RELEASE_KEY: %v", err)
	}
	fingerprint := os.Getenv("PMGTM_RELEASE_KEY_FINGERPRINT")
	if len(fingerprint) < 16 {
		t.Fatalf("PMGTM_RELEASE_KEY_FINGERPRINT %q is not a fingerprint", fingerprint)
	}
	keyID := fingerprint[len(fingerprint)-16:] // a v4 key's long id
	reg := registry.Start(t, registry.Release{
		Dist: dist, KeyArmor: string(armor), KeyID: keyID, Namespace: "pmgtm", Type: "pmgtm",
		Module: "pmgtm/gtm/pmgtm", ModuleVersion: "1.0.0", ModuleArchive: "pmgtm-gtm-module",
	})
	version, zipSum := reg.Version(), reg.ZipSum(runtime.GOOS, runtime.GOARCH)
	if zipSum == "" {
		t.Fatalf("SHA256SUMS lists no provider zip for %s_%s", runtime.GOOS, runtime.GOARCH)
	}
	const lb1, lb2 = "127.0.14.11", "127.0.14.12"
	r := newRig(t, lb1, lb2)
	root := fmt.Sprintf(`terraform {
  required_providers {
    pmgtm = { source = "pmgtm/pmgtm", version = %q }
  }
}
`, version) + r.moduleConfigFrom(`"pmgtm/gtm/pmgtm"
  version   = "~> 1.0"`, map[string]string{"lb1": lb1, "lb2": lb2})

	clis := map[string]string{"terraform": os.Getenv("TF_ACC_TERRAFORM_PATH"), "tofu": os.Getenv("PMGTM_TOFU_PATH")}
	for name, bin := range clis {
		t.Run(name, func(t *testing.T) {
			if bin == "" {
				t.Skipf("no %s binary given", name)
			}
			host := map[string]string{"terraform": "registry.terraform.io", "tofu": "registry.opentofu.org"}[name]
			reg.SetTamper(registry.Honest)
			cli := newInstallCLI(t, bin, reg.CLIConfig(host), reg.CAFile)
			out, err := cli.run(root, "init")
			if err != nil {
				t.Fatalf("init from the registry: %v\n%s", err, out)
			}
			installed := regexp.MustCompile(`Installed (?:` + regexp.QuoteMeta(host) + `/)?pmgtm/pmgtm v` + regexp.QuoteMeta(version) + ` \(([^)]*)\)`).FindStringSubmatch(out)
			if installed == nil || !strings.Contains(installed[1], keyID) {
				t.Fatalf("init did not report the provider installed and signed by key %s:\n%s", keyID, out)
			}
			if !strings.Contains(out, "pmgtm/gtm/pmgtm 1.0.0") {
				t.Fatalf("init did not fetch module version 1.0.0 from the registry:\n%s", out)
			}
			lock, err := os.ReadFile(filepath.Join(cli.work, ".terraform.lock.hcl"))
			if err != nil || !strings.Contains(string(lock), `version     = "`+version+`"`) || !strings.Contains(string(lock), `"zh:`+zipSum+`"`) {
				t.Fatalf("lock file does not pin %s with the release's checksums (%v):\n%s", version, err, lock)
			}
			if out, err := cli.run(root, "plan"); err != nil || !strings.Contains(out, "Plan: 3 to add") {
				t.Fatalf("plan with the installed provider: %v\n%s", err, out)
			}
			if name == "terraform" {
				if out, err := cli.run(root, "apply", "-auto-approve"); err != nil {
					t.Fatalf("apply with the installed provider: %v\n%s", err, out)
				}
				if err := r.expectDelegation("lb1", "lb2"); err != nil {
					t.Fatalf("after apply: %v", err)
				}
				if out, err := cli.run(root, "destroy", "-auto-approve"); err != nil {
					t.Fatalf("destroy with the installed provider: %v\n%s", err, out)
				}
				if err := r.expectDelegation(); err != nil {
					t.Fatalf("after destroy: %v", err)
				}
			}

			for _, tc := range []struct {
				tamper registry.Tamper
				want   *regexp.Regexp
			}{
				{registry.TamperZip, regexp.MustCompile(`incorrect\s+checksum`)},
				{registry.TamperSums, regexp.MustCompile(`error\s+checking\s+signature`)},
			} {
				reg.SetTamper(tc.tamper)
				out, err := newInstallCLI(t, bin, reg.CLIConfig(host), reg.CAFile).run(root, "init")
				if err == nil || !tc.want.MatchString(out) {
					t.Fatalf("init from a registry with tamper mode %d: want a failure matching %s, got %v:\n%s", tc.tamper, tc.want, err, out)
				}
			}
		})
	}
}

// installCLI is terraform or tofu in a fresh directory with a CLI
// configuration that has only the registry's host block: no dev_overrides,
// no plugin cache, a HOME of its own (no implied local mirrors), and the
// registry's certificate as the only trusted root.
type installCLI struct {
	bin, work string
	env       []string
}

func newInstallCLI(t *testing.T, bin, hostBlock, caFile string) *installCLI {
	t.Helper()
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraformrc")
	if err := os.WriteFile(rc, []byte("disable_checkpoint = true\n"+hostBlock), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &installCLI{bin: bin, work: filepath.Join(dir, "work")}
	home := filepath.Join(dir, "home")
	for _, d := range []string{c.work, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "TF_") && k != "HOME" && k != "SSL_CERT_DIR" {
			c.env = append(c.env, kv)
		}
	}
	c.env = append(c.env, "HOME="+home, "TF_CLI_CONFIG_FILE="+rc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1", "SSL_CERT_FILE="+caFile)
	return c
}

// run writes config as main.tf and runs the CLI with args.
func (c *installCLI) run(config string, args ...string) (string, error) {
	if err := os.WriteFile(filepath.Join(c.work, "main.tf"), []byte(config), 0o644); err != nil {
		return "", err
	}
	cmd := exec.Command(c.bin, append(args, "-no-color", "-input=false")...)
	cmd.Dir, cmd.Env = c.work, c.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}
