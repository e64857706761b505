package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

// TestAccLogsAndNodeCredentials: two nodes whose agents each accept only
// their own token (the provider block has none) are applied and destroyed
// with TF_LOG=debug. Each agent sees only its own token (no 401 in its
// log), and the log shows every parent-zone call, agent call, DNS
// verification and apply step pmgtm made, with no secret in it: not the
// nodes' tokens and not the TSIG secrets (update and transfer key).
func TestAccLogsAndNodeCredentials(t *testing.T) {
	accOnly(t)
	r := newRigOn(t, bind.Options{TransferKey: true}) // two secrets to mask
	ips := []string{"127.0.9.11", "127.0.9.12"}
	tokens := map[string]string{ips[0]: "node-one-token-0123456789", ips[1]: "node-two-token-9876543210"}
	for _, ip := range ips {
		r.agents[ip] = agentproc.Start(t, agentproc.Options{IP: ip, DNSPort: 53, Token: tokens[ip]})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "provider \"pmgtm\" {%s\n  agent {}\n}\n", r.backend)
	for i, ip := range ips {
		fmt.Fprintf(&b, `
resource "pmgtm_node" "lb%d" {
  zone        = "example.test"
  name        = "lb%[1]d"
  ipv4        = %q
  agent_url   = %q
  agent_token = %q
}
`, i+1, ip, r.agents[ip].APIURL, tokens[ip])
	}
	b.WriteString(`
resource "pmgtm_hostname" "api" {
  zone       = "example.test"
  name       = "api"
  nodes      = [pmgtm_node.lb1.node, pmgtm_node.lb2.node]
  answer_ttl = 5
  ns_ttl     = 60
}
`)
	logFile := filepath.Join(t.TempDir(), "terraform.log")
	t.Setenv("PMGTM_AGENT_TOKEN", "")
	t.Setenv("TF_LOG", "debug")
	t.Setenv("TF_LOG_PATH", logFile)
	cli := terraformCLI(t)
	for _, args := range [][]string{{"apply", "-auto-approve"}, {"destroy", "-auto-approve"}} {
		if out, err := cli(b.String(), args...); err != nil {
			t.Fatalf("terraform %v: %v\n%s", args, err, out)
		}
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	// Fields come in any order: a line matches when it holds every part.
	lines := strings.Split(log, "\n")
	for _, want := range [][]string{
		{"parent zone call:", "operation=list"}, {"parent zone call:", "operation=change"},
		{"agent call:", "method=PUT", "status=20"}, {"agent call:", "method=DELETE"},
		{"dns verification:", "fqdn=api.example.test", "status=ok"},
		{"[INFO]", "apply step:", "step=push"}, {"[INFO]", "apply step:", "step=verify"}, {"[INFO]", "apply step:", "step=delegate"},
		{"[INFO]", "apply step:", "step=undelegate"}, {"[INFO]", "apply step:", "step=remove"},
	} {
		if !slices.ContainsFunc(lines, func(l string) bool {
			for _, part := range want {
				if !strings.Contains(l, part) {
					return false
				}
			}
			return true
		}) {
			t.Errorf("the debug log has no line with all of %q", want)
		}
	}
	for what, secret := range map[string]string{"lb1's token": tokens[ips[0]], "lb2's token": tokens[ips[1]], "the TSIG secret": r.srv.KeySecret, "the transfer key's secret": r.srv.TransferKeySecret} {
		if strings.Contains(log, secret) {
			t.Errorf("the debug log holds %s", what)
		}
	}
	for _, ip := range ips {
		if logs := r.agents[ip].Logs(); strings.Contains(logs, "without a valid token") {
			t.Errorf("the agent at %s was sent another token:\n%s", ip, logs)
		}
	}
}
