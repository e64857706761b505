package dnsrig

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// AgentOptions configure StartAgent.
type AgentOptions struct {
	Binary  string // pmgtm-agent (or the provider binary invoked as it)
	Dir     string // data dir and log
	IP      string // DNS on IP:53, API on IP:APIPort
	APIPort int
	Token   string
}

// Agent is a running pmgtm-agent.
type Agent struct {
	Opts   AgentOptions
	APIURL string
	proc   *process
}

// StartAgent runs the agent and waits until its API answers.
func StartAgent(o AgentOptions) (*Agent, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, err
	}
	tokenFile := filepath.Join(o.Dir, "token")
	if err := os.WriteFile(tokenFile, []byte(o.Token+"\n"), 0o600); err != nil {
		return nil, err
	}
	api := net.JoinHostPort(o.IP, strconv.Itoa(o.APIPort))
	p, err := startProcess(filepath.Join(o.Dir, "agent.log"), o.Binary, "agent",
		"--dns-listen", net.JoinHostPort(o.IP, "53"), "--api-listen", api,
		"--data-dir", filepath.Join(o.Dir, "data"), "--token-file", tokenFile)
	if err != nil {
		return nil, err
	}
	a := &Agent{Opts: o, APIURL: "http://" + api, proc: p}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(a.APIURL + "/v1/health"); err == nil {
			resp.Body.Close()
			return a, nil
		}
		if p.exited() || time.Now().After(deadline) {
			a.Stop()
			return nil, fmt.Errorf("agent on %s did not start:\n%s", o.IP, p.log())
		}
	}
}

// Kill ends the agent at once (SIGKILL), like a crashed node.
func (a *Agent) Kill() {
	if !a.proc.exited() {
		_ = a.proc.cmd.Process.Signal(syscall.SIGKILL)
		<-a.proc.done
	}
}

// Stop ends the agent gracefully.
func (a *Agent) Stop() { a.proc.stop() }
