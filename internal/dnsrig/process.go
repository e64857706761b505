package dnsrig

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// findBinary returns the first of paths that exists, or "".
func findBinary(paths ...string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// launch writes a daemon's configuration file into dir (when conf is not
// empty), starts bin in the foreground with its output in dir/<name>.log,
// and waits until it answers zone's SOA at addr. On failure it stops the
// daemon and returns an error with its log.
func launch(name, dir, confFile, conf, addr, zone, bin string, args ...string) (*process, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if confFile != "" {
		if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
			return nil, err
		}
	}
	p, err := startProcess(filepath.Join(dir, name+".log"), bin, args...)
	if err != nil {
		return nil, err
	}
	if err := waitAnswer(addr, dns.Fqdn(zone), dns.TypeSOA, 20*time.Second, p); err != nil {
		p.stop()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, p.log())
	}
	return p, nil
}

// process is a child started in the foreground, stopped by PID.
type process struct {
	cmd     *exec.Cmd
	logPath string
	logFile *os.File
	done    chan struct{}
}

func startProcess(logPath, name string, args ...string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &process{cmd: cmd, logPath: logPath, logFile: logFile, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after 5 s, and waits.
func (p *process) stop() {
	if p == nil {
		return
	}
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.logFile.Close()
}

func (p *process) log() string {
	data, _ := os.ReadFile(p.logPath)
	return string(data)
}

// waitAnswer polls a server until it answers name/qtype with NOERROR.
func waitAnswer(addr, name string, qtype uint16, timeout time.Duration, p *process) error {
	deadline := time.Now().Add(timeout)
	for {
		m := new(dns.Msg).SetQuestion(name, qtype)
		if r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, addr); err == nil && r.Rcode == dns.RcodeSuccess {
			return nil
		}
		if p != nil && p.exited() {
			return errors.New("exited before answering")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
