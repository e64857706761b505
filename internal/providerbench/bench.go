package providerbench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/profiling"
)

// The rig's loopback addresses: BIND on parentIP, agents on nodeIPs.
const (
	parentIP   = "127.0.0.1"
	agentPort  = 8053
	parentZone = "example.test"
)

var nodeIPs = []string{"127.0.0.61", "127.0.0.62", "127.0.0.63"}

// Phases are the commands measured, in order: plan of the create, apply,
// a plan with everything in place (a refresh of every resource that must
// show no changes), destroy.
var Phases = []string{"plan", "apply", "refresh", "destroy"}

// Options configure Run.
type Options struct {
	Terraform string   // terraform CLI
	Binary    string   // the provider binary, also run as the agent
	Sizes     []int    // numbers of hostnames
	Phases    []string // a prefix of Phases; all when empty
	Dir       string   // scratch directory; profiles stay in Dir/profiles
	Log       io.Writer
}

// Counts are what one command sent to the parent and the agents.
type Counts struct {
	Updates, Transfers, ParentQueries   int64 // at BIND: UPDATE messages, AXFR+IXFR, other queries
	AgentRequests, AgentConns, AgentDNS int64 // summed over the agents
}

// Result is one size's measurement.
type Result struct {
	N       int
	Floor   map[string]time.Duration // terraform_data x N
	Pmgtm   map[string]time.Duration
	Counts  map[string]Counts
	PeakRSS map[string]int64 // bytes, the largest provider process of the command
	// CPU seconds of the whole command (terraform and its plugins) and of
	// the provider processes alone.
	FloorCPU, CPU, ProviderCPU map[string]float64
	// Sized is terraform_data x N again, each instance carrying as many
	// state bytes as a pmgtm_hostname (StateBytes): Terraform rewrites the
	// whole state after every resource, so its own cost grows with the
	// size of each instance's state, not only with N.
	Sized      map[string]time.Duration
	StateBytes int
	// Marked is Sized again with as many sensitive paths per instance as
	// a pmgtm_hostname lists (Marks): Terraform's cost per marked path.
	Marked map[string]time.Duration
	Marks  int
}

// Above is pmgtm's cost per hostname above a floor (Floor, Sized or
// Marked), in milliseconds.
func (r Result) Above(floor map[string]time.Duration, phase string) float64 {
	return float64(((r.Pmgtm[phase] - floor[phase]) / time.Duration(r.N)).Microseconds()) / 1000
}

type rig struct {
	Options
	parent      *dnsrig.Primary
	agents      []*dnsrig.Agent
	token       string
	terraformrc string // dev_overrides pointing terraform at r.Binary
}

// Run measures every size and returns the results so far on error.
func Run(o Options) ([]Result, error) {
	r := &rig{Options: o, token: "bench-token-0123456789abcdef"}
	defer r.stop()
	if err := r.start(); err != nil {
		return nil, err
	}
	var results []Result
	for _, n := range o.Sizes {
		res, err := r.measure(n)
		if err != nil {
			return results, fmt.Errorf("%d hostnames: %w", n, err)
		}
		results = append(results, res)
	}
	return results, nil
}

func (r *rig) start() error {
	port, err := dnsrig.FreePort(parentIP)
	if err != nil {
		return err
	}
	stats, err := dnsrig.FreePort(parentIP)
	if err != nil {
		return err
	}
	r.parent, err = dnsrig.StartBIND(dnsrig.PrimaryOptions{Dir: filepath.Join(r.Dir, "bind"), IP: parentIP, Port: port,
		Zone: parentZone, StatsPort: stats})
	if err != nil {
		return err
	}
	for i, ip := range nodeIPs {
		a, err := dnsrig.StartAgent(dnsrig.AgentOptions{Binary: r.Binary, Dir: filepath.Join(r.Dir, fmt.Sprintf("lb%d", i+1)),
			IP: ip, APIPort: agentPort, Token: r.token})
		if err != nil {
			return err
		}
		r.agents = append(r.agents, a)
	}
	bin, err := filepath.Abs(filepath.Dir(r.Binary))
	if err != nil {
		return err
	}
	r.terraformrc = filepath.Join(r.Dir, "terraformrc")
	if err := os.WriteFile(r.terraformrc, fmt.Appendf(nil, "provider_installation {\n  dev_overrides {\n    \"registry.terraform.io/pmgtm/pmgtm\" = %q\n  }\n  direct {}\n}\n", bin), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(r.Log, "rig: BIND %s, agents on %s\n", r.parent.Addr, strings.Join(nodeIPs, ", "))
	return nil
}

func (r *rig) stop() {
	for _, a := range r.agents {
		a.Stop()
	}
	if r.parent != nil {
		r.parent.Stop()
	}
}

func (r *rig) measure(n int) (Result, error) {
	res := Result{N: n, Floor: map[string]time.Duration{}, Pmgtm: map[string]time.Duration{},
		Counts: map[string]Counts{}, PeakRSS: map[string]int64{},
		FloorCPU: map[string]float64{}, CPU: map[string]float64{}, ProviderCPU: map[string]float64{},
		Sized: map[string]time.Duration{}, Marked: map[string]time.Duration{}}
	floor, err := r.workdir(fmt.Sprintf("floor-%d", n), floorConfig)
	if err != nil {
		return res, err
	}
	pm, err := r.workdir(fmt.Sprintf("pmgtm-%d", n), pmgtmConfig)
	if err != nil {
		return res, err
	}
	phases := r.Phases
	if len(phases) == 0 {
		phases = Phases
	}
	for _, phase := range phases {
		// Interleaved, so that a machine that slows down part way hits
		// both sides alike.
		took, cpu, _, err := r.terraform(floor, n, phase, "", padding{})
		if err != nil {
			return res, err
		}
		res.Floor[phase], res.FloorCPU[phase] = took, cpu
		before, err := r.counts()
		if err != nil {
			return res, err
		}
		profiles := filepath.Join(r.Dir, "profiles", fmt.Sprintf("%d-%s", n, phase))
		took, cpu, out, err := r.terraform(pm, n, phase, profiles, padding{})
		if err != nil {
			return res, err
		}
		used := profiling.Read(profiles)
		after, err := r.counts()
		if err != nil {
			return res, err
		}
		res.Pmgtm[phase], res.Counts[phase], res.PeakRSS[phase] = took, after.minus(before), used.PeakRSS
		res.CPU[phase], res.ProviderCPU[phase] = cpu, used.CPUSeconds
		if err := r.check(n, phase, out); err != nil {
			return res, err
		}
		fmt.Fprintf(r.Log, "N=%d %-8s terraform_data %6.2fs (cpu %.1fs)  pmgtm %6.2fs (cpu %.1fs, provider %.1fs)  %+.1f ms per hostname\n",
			n, phase, res.Floor[phase].Seconds(), res.FloorCPU[phase], took.Seconds(), cpu, used.CPUSeconds,
			res.Above(res.Floor, phase))
		if phase == "apply" {
			if res.StateBytes, res.Marks, err = instanceStats(pm, "pmgtm_hostname"); err != nil {
				return res, err
			}
		}
	}
	if res.StateBytes == 0 {
		return res, nil
	}
	// Two more floors: terraform_data whose instances carry as many state
	// bytes as a hostname's, without and with as many sensitive paths.
	for _, f := range []struct {
		name  string
		marks int
		out   map[string]time.Duration
	}{{"sized", 0, res.Sized}, {"marked", res.Marks, res.Marked}} {
		dir, err := r.workdir(fmt.Sprintf("%s-%d", f.name, n), sizedConfig)
		if err != nil {
			return res, err
		}
		pad, err := r.calibrate(dir, res.StateBytes, f.marks)
		if err != nil {
			return res, err
		}
		for _, phase := range phases {
			took, _, _, err := r.terraform(dir, n, phase, "", pad)
			if err != nil {
				return res, err
			}
			f.out[phase] = took
			fmt.Fprintf(r.Log, "N=%d %-8s terraform_data of the same state size, %d sensitive paths %6.2fs  pmgtm %+.1f ms per hostname above it\n",
				n, phase, f.marks, took.Seconds(), res.Above(f.out, phase))
		}
	}
	return res, nil
}

// padding is what a sized floor instance carries besides its name: a
// string of filler and a number of sensitive (null) values.
type padding struct {
	blob  string
	marks int
}

// calibrate applies one instance in dir with marks sensitive values and
// returns the padding that makes an instance as large as want bytes.
func (r *rig) calibrate(dir string, want, marks int) (padding, error) {
	pad := padding{marks: marks}
	if _, _, _, err := r.terraform(dir, 1, "apply", "", pad); err != nil {
		return pad, err
	}
	got, gotMarks, err := instanceStats(dir, "terraform_data")
	if err != nil {
		return pad, err
	}
	if gotMarks != marks {
		return pad, fmt.Errorf("calibration instance lists %d sensitive paths, want %d", gotMarks, marks)
	}
	if _, _, _, err := r.terraform(dir, 1, "destroy", "", pad); err != nil {
		return pad, err
	}
	// terraform_data keeps its input twice (input and output).
	pad.blob = strings.Repeat("x", max(0, want-got)/2)
	return pad, nil
}

// instanceStats is the mean size of one instance of rtype in dir's state
// file, indented as Terraform writes it, and the number of sensitive paths
// it lists.
func instanceStats(dir, rtype string) (size, marks int, err error) {
	data, err := os.ReadFile(filepath.Join(dir, "terraform.tfstate"))
	if err != nil {
		return 0, 0, err
	}
	var st struct {
		Resources []struct {
			Type      string            `json:"type"`
			Instances []json.RawMessage `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, 0, err
	}
	total, count := 0, 0
	for _, res := range st.Resources {
		if res.Type != rtype {
			continue
		}
		for _, in := range res.Instances {
			var b bytes.Buffer
			if err := json.Indent(&b, in, "        ", "  "); err != nil {
				return 0, 0, err
			}
			var sens struct {
				Paths []json.RawMessage `json:"sensitive_attributes"`
			}
			if err := json.Unmarshal(in, &sens); err != nil {
				return 0, 0, err
			}
			total, count, marks = total+b.Len(), count+1, len(sens.Paths)
		}
	}
	if count == 0 {
		return 0, 0, fmt.Errorf("no %s in %s's state", rtype, dir)
	}
	return total / count, marks, nil
}

// check verifies the parent after each command: N delegations of three
// nodes after apply and refresh, none after plan and destroy, and a
// refresh that plans no change.
func (r *rig) check(n int, phase, out string) error {
	if phase == "refresh" && !strings.Contains(out, "No changes.") {
		return fmt.Errorf("the plan after apply is not empty:\n%s", tail(out))
	}
	want := 0
	if phase == "apply" || phase == "refresh" {
		want = n * len(nodeIPs)
	}
	got, err := r.delegationNS()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("after %s the parent holds %d NS records below the apex, want %d", phase, got, want)
	}
	return nil
}

// delegationNS transfers the parent and counts NS records below its apex.
func (r *rig) delegationNS() (int, error) {
	m := new(dns.Msg).SetAxfr(dns.Fqdn(parentZone))
	m.SetTsig(r.parent.KeyName, dns.HmacSHA256, 300, time.Now().Unix())
	t := &dns.Transfer{TsigSecret: map[string]string{r.parent.KeyName: r.parent.KeySecret}}
	envs, err := t.In(m, r.parent.Addr)
	if err != nil {
		return 0, err
	}
	count := 0
	for e := range envs {
		if e.Error != nil {
			return 0, e.Error
		}
		for _, rr := range e.RR {
			if rr.Header().Rrtype == dns.TypeNS && !strings.EqualFold(rr.Header().Name, dns.Fqdn(parentZone)) {
				count++
			}
		}
	}
	return count, nil
}

const floorConfig = `
variable "n" { type = number }

resource "terraform_data" "h" {
  count = var.n
  input = "h${count.index}"
}
`

const sizedConfig = `
variable "n" { type = number }
variable "blob" { type = string }
variable "marks" { type = number }

resource "terraform_data" "h" {
  count = var.n
  input = { name = "h${count.index}", state = var.blob, secrets = [for i in range(var.marks) : sensitive(null)] }
}
`

const pmgtmConfig = `
terraform {
  required_providers {
    pmgtm = { source = "pmgtm/pmgtm" }
  }
}

variable "n" { type = number }
variable "server" { type = string }
variable "tsig_secret" {
  type      = string
  sensitive = true
}
variable "agent_token" {
  type      = string
  sensitive = true
}

provider "pmgtm" {
  rfc2136 {
    server     = var.server
    key_name   = "pmgtm-test."
    key_secret = var.tsig_secret
  }
  agent {
    token = var.agent_token
  }
}

locals {
  ips = ["127.0.0.61", "127.0.0.62", "127.0.0.63"]
}

resource "pmgtm_node" "lb" {
  count     = 3
  zone      = "example.test"
  name      = "lb${count.index + 1}"
  ipv4      = local.ips[count.index]
  agent_url = "http://${local.ips[count.index]}:8053"
}

resource "pmgtm_hostname" "h" {
  count = var.n
  zone  = "example.test"
  name  = "h${count.index}"
  nodes = pmgtm_node.lb[*].node
}
`

// workdir writes a configuration into its own directory.
func (r *rig) workdir(name, config string) (string, error) {
	dir := filepath.Join(r.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config), 0o644)
}

// terraform runs one phase in dir and returns its wall time, the CPU time
// of terraform and every plugin it ran, and its output.
func (r *rig) terraform(dir string, n int, phase, profiles string, pad padding) (time.Duration, float64, string, error) {
	args := map[string][]string{
		"plan":    {"plan", "-input=false", "-no-color", "-lock=false"},
		"apply":   {"apply", "-auto-approve", "-input=false", "-no-color"},
		"refresh": {"plan", "-input=false", "-no-color", "-lock=false"},
		"destroy": {"destroy", "-auto-approve", "-input=false", "-no-color"},
	}[phase]
	cmd := exec.Command(r.Terraform, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+r.terraformrc, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1",
		"TF_VAR_n="+strconv.Itoa(n), "TF_VAR_server="+r.parent.Addr, "TF_VAR_tsig_secret="+r.parent.KeySecret,
		"TF_VAR_agent_token="+r.token, "TF_VAR_blob="+pad.blob, "TF_VAR_marks="+strconv.Itoa(pad.marks))
	if profiles != "" {
		if err := os.MkdirAll(profiles, 0o755); err != nil {
			return 0, 0, "", err
		}
		cmd.Env = append(cmd.Env, profiling.EnvDir+"="+profiles)
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return took, 0, string(out), fmt.Errorf("terraform %s in %s: %w\n%s", phase, dir, err, tail(string(out)))
	}
	// Children's CPU is in the terraform process's rusage once they have
	// been waited for, as terraform waits for its plugins.
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return took, cpu, string(out), nil
}

func (c Counts) minus(o Counts) Counts {
	return Counts{c.Updates - o.Updates, c.Transfers - o.Transfers, c.ParentQueries - o.ParentQueries,
		c.AgentRequests - o.AgentRequests, c.AgentConns - o.AgentConns, c.AgentDNS - o.AgentDNS}
}

// counts reads BIND's statistics and every agent's metrics.
func (r *rig) counts() (Counts, error) {
	s, err := r.parent.Stats()
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Updates: s.Opcodes["UPDATE"], Transfers: s.QTypes["AXFR"] + s.QTypes["IXFR"]}
	c.ParentQueries = s.Opcodes["QUERY"] - c.Transfers
	for _, a := range r.agents {
		req, _ := http.NewRequest(http.MethodGet, a.APIURL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+r.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return c, err
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			i := strings.LastIndexByte(line, ' ')
			if strings.HasPrefix(line, "#") || i < 0 {
				continue
			}
			v, _ := strconv.ParseInt(line[i+1:], 10, 64)
			switch {
			case strings.HasPrefix(line, "pmgtm_api_requests_total{") && !strings.Contains(line, `route="/metrics"`):
				c.AgentRequests += v
			case strings.HasPrefix(line, "pmgtm_api_connections_total "):
				c.AgentConns += v
			case strings.HasPrefix(line, "pmgtm_dns_queries_total{"):
				c.AgentDNS += v
			}
		}
		resp.Body.Close()
	}
	return c, nil
}

func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
