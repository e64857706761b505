package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAccImportGeneratedConfig: a hostname brought into a state with an
// import block and -generate-config-out. The generated configuration has
// no agent URLs (DNS does not say where an agent's API is), so it plans
// with an error at nodes[i].agent_url instead of failing at apply; with
// the URLs filled in it applies, then plans empty, and destroys cleanly.
func TestAccImportGeneratedConfig(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.16.11", "127.0.16.12"
	r := newRig(t, lb1, lb2)
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Skip("TF_ACC_TERRAFORM_PATH is not set")
	}
	cli, dir := cliIn(t, bin)
	must := mustCLI(t, cli)
	full := r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, []string{"lb1", "lb2"}, "")
	must(full, "apply", "-auto-approve")
	must(full, "state", "rm", "pmgtm_hostname.api")

	// The nodes stay in the configuration; the hostname comes from import.
	nodesOnly := r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, nil, "") + `
import {
  to = pmgtm_hostname.api
  id = "example.test/api"
}
`
	work := filepath.Join(dir, "generated.tf")
	out, err := cli(nodesOnly, "plan", "-generate-config-out=generated.tf")
	flat := strings.Join(strings.Fields(out), " ")
	if err == nil || !strings.Contains(flat, "has no agent_url") {
		t.Fatalf("plan with generated configuration: want the agent_url error, got %v:\n%s", err, out)
	}
	generated, err := os.ReadFile(work)
	if err != nil {
		t.Fatalf("no generated configuration: %v\n%s", err, out)
	}
	nulls := regexp.MustCompile(`agent_url\s*=\s*null`).FindAll(generated, -1)
	if len(nulls) != 2 {
		t.Fatalf("generated configuration: want 2 null agent_url, got %d:\n%s", len(nulls), generated)
	}
	// Planned again from the generated file: still the error, at the path.
	out, err = cli(nodesOnly, "plan")
	if flat := strings.Join(strings.Fields(out), " "); err == nil || !strings.Contains(flat, "has no agent_url") {
		t.Fatalf("second plan: %v\n%s", err, out)
	}

	// The operator fills the URLs in, in the generated file.
	// Each node is an object literal without braces inside.
	fixed := regexp.MustCompile(`\{[^{}]*\}`).ReplaceAllStringFunc(string(generated), func(node string) string {
		for _, ip := range []string{lb1, lb2} {
			if strings.Contains(node, `"`+ip+`"`) {
				return regexp.MustCompile(`agent_url\s*=\s*null`).ReplaceAllString(node, `agent_url = "`+r.agents[ip].APIURL+`"`)
			}
		}
		return node
	})
	if len(regexp.MustCompile(`agent_url = "http`).FindAllString(fixed, -1)) != 2 {
		t.Fatalf("could not fill the agent URLs in:\n%s", fixed)
	}
	if err := os.WriteFile(work, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	must(nodesOnly, "apply", "-auto-approve")
	must(nodesOnly, "plan", "-detailed-exitcode")
	if err := r.expectDelegation("lb1", "lb2"); err != nil {
		t.Fatal(err)
	}
	// The generated hostname names its nodes by value, not by reference, so
	// Terraform does not order it before them: destroyed alone first, as
	// the node's refusal to leave a hostname without nameservers says.
	must(nodesOnly, "destroy", "-auto-approve", "-target=pmgtm_hostname.api")
	must(nodesOnly, "destroy", "-auto-approve")
	if got, _ := delegation(r.srv.Addr, "api.example.test."); len(got) != 0 {
		t.Fatalf("delegation left after destroy: %v", got)
	}
}
