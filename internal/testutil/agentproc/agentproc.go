package agentproc

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/dnsrig"
)

var (
	buildOnce sync.Once
	buildDir  string
	binPath   string
	buildErr  error
)

// Binary builds pmgtm-agent from this module once per test process and
// returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..", "..")
		// Built once for every test of the package, so not in one test's
		// TempDir (removed when that test ends).
		buildDir, buildErr = os.MkdirTemp("", "pmgtm-agent-bin-") //nolint:usetesting // shared by the package's tests
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "pmgtm-agent")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Main runs a package's tests and then removes the agent binary they
// built: func TestMain(m *testing.M) { agentproc.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// Agent is a running agent process.
type Agent struct {
	t       testing.TB
	cmd     *exec.Cmd
	DNSAddr string // host:port, UDP and TCP
	APIURL  string
	DataDir string
	Token   string
	HTTP    *http.Client
	logs    *LogBuffer
	done    chan struct{}
	exitErr error
}

// Options configure Start. Zero values pick a free loopback port, a fresh
// data dir and no token.
type Options struct {
	IP      string // loopback address to bind DNS and API to; default 127.0.0.1
	DNSPort int
	APIPort int
	DataDir string
	Token   string
	Args    []string // extra flags
	// TLSRoots, when set, makes the API URL https and trusts these roots;
	// pass --tls-cert and --tls-key in Args.
	TLSRoots *x509.CertPool
	// ClientCert is presented to an agent that requires client certificates.
	ClientCert *tls.Certificate
}

// Start runs the agent and waits until its API answers.
func Start(t testing.TB, o Options) *Agent {
	t.Helper()
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.DNSPort == 0 {
		o.DNSPort = FreePort(t, o.IP)
	}
	if o.APIPort == 0 {
		o.APIPort = FreePort(t, o.IP)
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	scheme, hc := "http://", http.DefaultClient
	if o.TLSRoots != nil {
		scheme = "https://"
		cfg := &tls.Config{RootCAs: o.TLSRoots, MinVersion: tls.VersionTLS12}
		if o.ClientCert != nil {
			cfg.Certificates = []tls.Certificate{*o.ClientCert}
		}
		hc = &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	}
	a := &Agent{t: t, DataDir: o.DataDir, Token: o.Token, HTTP: hc, logs: &LogBuffer{}, done: make(chan struct{}),
		DNSAddr: net.JoinHostPort(o.IP, strconv.Itoa(o.DNSPort)),
		APIURL:  scheme + net.JoinHostPort(o.IP, strconv.Itoa(o.APIPort))}
	args := []string{"--dns-listen", a.DNSAddr, "--api-listen", net.JoinHostPort(o.IP, strconv.Itoa(o.APIPort)),
		"--data-dir", o.DataDir, "--log-format", "json", "--log-level", "debug"}
	if o.Token != "" {
		tf := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tf, []byte(o.Token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--token-file", tf)
	} else if !slices.Contains(o.Args, "--token-file") {
		args = append(args, "--insecure-no-token")
	}
	args = append(args, o.Args...)
	a.cmd = exec.Command(Binary(t), args...)
	a.cmd.Stdout = a.logs
	a.cmd.Stderr = a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { a.exitErr = a.cmd.Wait(); close(a.done) }()
	t.Cleanup(func() { a.Kill() })
	if err := a.waitReady(15 * time.Second); err != nil {
		a.Kill()
		t.Fatalf("agent did not become ready: %v\nlogs:\n%s", err, a.Logs())
	}
	return a
}

func (a *Agent) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-a.done:
			return fmt.Errorf("exited: %w", a.exitErr)
		default:
		}
		req, _ := http.NewRequest("GET", a.APIURL+"/v1/health", nil)
		if a.Token != "" {
			req.Header.Set("Authorization", "Bearer "+a.Token)
		}
		if resp, err := a.HTTP.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no healthy answer within %s", timeout)
}

// Logs returns everything the agent wrote so far.
func (a *Agent) Logs() string { return a.logs.String() }

// Kill sends SIGKILL and waits for the process to end.
func (a *Agent) Kill() {
	_ = a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
}

// Signal sends sig to the agent.
func (a *Agent) Signal(sig os.Signal) error { return a.cmd.Process.Signal(sig) }

// Stop sends SIGTERM and returns the exit error (nil on a clean exit).
func (a *Agent) Stop(ctx context.Context) error {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.done:
		return a.exitErr
	case <-ctx.Done():
		a.Kill()
		return ctx.Err()
	}
}

// Alive reports whether the process is still running.
func (a *Agent) Alive() bool {
	select {
	case <-a.done:
		return false
	default:
		return true
	}
}

// FreePort returns a port free for both UDP and TCP on ip.
func FreePort(t testing.TB, ip string) int {
	t.Helper()
	port, err := dnsrig.FreePort(ip)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// LogBuffer collects a process's output while the process writes it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *LogBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *LogBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset empties the buffer.
func (s *LogBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// Pid is the agent's process id.
func (a *Agent) Pid() int { return a.cmd.Process.Pid }
