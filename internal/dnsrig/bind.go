// Package dnsrig runs real DNS software for the demo and the end-to-end
// tests: a BIND primary for the parent zone (RFC 2136 with TSIG) and an
// Unbound resolver, each in the foreground in its own directory, stopped
// by PID. Only loopback addresses are used.
package dnsrig

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// BINDOptions configure StartBIND.
type BINDOptions struct {
	Dir     string // working directory (created); holds config, zone and log
	IP      string
	Port    int
	Zone    string   // e.g. example.test
	Records []string // extra zone-file lines, relative to the zone
	// Root also serves a fake root zone delegating Zone to this server,
	// for resolvers that iterate from root hints (Knot Resolver). Port
	// must then be 53, where root hints point.
	Root bool
}

// BIND is a running named.
type BIND struct {
	Addr      string // host:port
	Zone      string // without trailing dot
	KeyName   string
	KeySecret string // base64, hmac-sha256
	Dir       string
	proc      *process
}

// NamedPath finds named, or returns "".
func NamedPath() string {
	for _, p := range []string{"/usr/sbin/named", "/usr/bin/named"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// StartBIND runs named as the primary of a fresh zone that the TSIG key
// may update and transfer, and waits until it answers.
func StartBIND(o BINDOptions) (*BIND, error) {
	named := NamedPath()
	if named == "" {
		return nil, errors.New("named not found: apt-get install bind9")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b := &BIND{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), Zone: o.Zone, KeyName: "pmgtm-test.",
		KeySecret: base64.StdEncoding.EncodeToString(secret), Dir: o.Dir}
	zoneFile := filepath.Join(o.Dir, o.Zone+".zone")
	zone := fmt.Sprintf("$TTL 300\n@ SOA ns1.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 60\n@ NS ns1.%[1]s.\nns1 A %[2]s\n%[3]s\n",
		o.Zone, o.IP, strings.Join(o.Records, "\n"))
	conf := fmt.Sprintf(`options {
	directory "%[1]s";
	pid-file "%[1]s/named.pid";
	session-keyfile "%[1]s/session.key";
	managed-keys-directory "%[1]s";
	listen-on port %[2]d { %[3]s; };
	listen-on-v6 { none; };
	recursion no;
	notify no;
	dnssec-validation no;
	minimal-responses yes;
};
controls { };
key "%[4]s" { algorithm hmac-sha256; secret "%[5]s"; };
zone "%[6]s" {
	type primary;
	file "%[7]s";
	allow-update { key "%[4]s"; };
	allow-transfer { key "%[4]s"; };
};
`, o.Dir, o.Port, o.IP, b.KeyName, b.KeySecret, o.Zone, zoneFile)
	if o.Root {
		rootFile := filepath.Join(o.Dir, "root.zone")
		root := fmt.Sprintf("$TTL 86400\n@ SOA a.root.%[1]s. hostmaster.%[1]s. 1 3600 600 86400 60\n@ NS a.root.%[1]s.\na.root.%[1]s. A %[2]s\n%[1]s. NS ns1.%[1]s.\nns1.%[1]s. A %[2]s\n", o.Zone, o.IP)
		if err := os.WriteFile(rootFile, []byte(root), 0o644); err != nil {
			return nil, err
		}
		conf += fmt.Sprintf("zone \".\" { type primary; file %q; };\n", rootFile)
	}
	if err := os.WriteFile(zoneFile, []byte(zone), 0o644); err != nil {
		return nil, err
	}
	confFile := filepath.Join(o.Dir, "named.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProcess(filepath.Join(o.Dir, "named.log"), named, "-g", "-c", confFile)
	if err != nil {
		return nil, err
	}
	b.proc = p
	if err := waitAnswer(b.Addr, dns.Fqdn(o.Zone), dns.TypeSOA, 20*time.Second, p); err != nil {
		b.Stop()
		return nil, fmt.Errorf("named: %w\n%s", err, p.log())
	}
	return b, nil
}

// Stop ends named and waits for it.
func (b *BIND) Stop() { b.proc.stop() }

// Log returns named's output so far.
func (b *BIND) Log() string { return b.proc.log() }

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
