// Package bind runs a real BIND 9 (Debian package bind9) on loopback for
// tests: one primary zone that accepts TSIG-signed updates and transfers.
package bind

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// Server is a running named.
type Server struct {
	Addr      string // host:port
	Zone      string // without trailing dot
	KeyName   string
	KeySecret string // base64
	dir       string
	cmd       *exec.Cmd
}

// Options for Start. Zero values: 127.0.0.1, a free port.
type Options struct {
	IP      string
	Port    int
	Zone    string   // default example.test
	Records []string // extra zone-file lines, relative to the zone
}

// Named returns the path of named, failing the test in CI when it is
// missing and skipping it elsewhere.
func Named(t testing.TB) string {
	for _, p := range []string{"/usr/sbin/named", "/usr/bin/named"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("named is missing in CI; .ci/run installs bind9")
	}
	t.Skip("BIND not installed (apt-get install bind9, or run make test)")
	return ""
}

// Start runs named with a fresh zone and waits until it answers.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	named := Named(t)
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = agentproc.FreePort(t, o.IP)
	}
	if o.Zone == "" {
		o.Zone = "example.test"
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	s := &Server{Addr: net.JoinHostPort(o.IP, strconv.Itoa(o.Port)), Zone: o.Zone, KeyName: "pmgtm-test.",
		KeySecret: base64.StdEncoding.EncodeToString(secret), dir: t.TempDir()}
	zoneFile := filepath.Join(s.dir, o.Zone+".zone")
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
`, s.dir, o.Port, o.IP, s.KeyName, s.KeySecret, o.Zone, zoneFile)
	must(t, os.WriteFile(zoneFile, []byte(zone), 0o644))
	confFile := filepath.Join(s.dir, "named.conf")
	must(t, os.WriteFile(confFile, []byte(conf), 0o644))
	s.cmd = exec.Command(named, "-g", "-c", confFile)
	logFile, err := os.Create(filepath.Join(s.dir, "named.log"))
	must(t, err)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	must(t, s.cmd.Start())
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-done
		}
		logFile.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := new(dns.Msg).SetQuestion(dns.Fqdn(o.Zone), dns.TypeSOA)
		if r, _, err := (&dns.Client{Timeout: 500 * time.Millisecond}).Exchange(m, s.Addr); err == nil && r.Rcode == dns.RcodeSuccess {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "named.log"))
			t.Fatalf("named did not answer within 20s:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
