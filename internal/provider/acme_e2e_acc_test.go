package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certcrypto"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	"github.com/go-acme/lego/v5/registration"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// acmeUser is lego's account.
type acmeUser struct {
	key crypto.Signer
	reg *acme.ExtendedAccount
}

func (u *acmeUser) GetEmail() string                       { return "" }
func (u *acmeUser) GetRegistration() *acme.ExtendedAccount { return u.reg }
func (u *acmeUser) GetPrivateKey() crypto.Signer           { return u.key }

// tsigWriter is lego's DNS provider here: it writes the challenge TXT by
// TSIG-signed RFC 2136 update to the parent's primary, at the name the
// challenge resolves to (lego follows the CNAME the nodes answer).
type tsigWriter struct {
	t       *testing.T
	addr    string
	keyName string
	secret  string
	mu      sync.Mutex
	wrote   []string // the names written at
}

func (w *tsigWriter) update(ctx context.Context, domain, keyAuth string, insert bool) error {
	info := dns01.GetChallengeInfo(ctx, domain, keyAuth)
	rr, err := dns.NewRR(fmt.Sprintf("%s 5 IN TXT %q", info.EffectiveFQDN, info.Value))
	if err != nil {
		return err
	}
	m := new(dns.Msg)
	m.SetUpdate("example.test.")
	if insert {
		m.Insert([]dns.RR{rr})
		w.mu.Lock()
		w.wrote = append(w.wrote, info.EffectiveFQDN)
		w.mu.Unlock()
	} else {
		m.Remove([]dns.RR{rr})
	}
	m.SetTsig(w.keyName, dns.HmacSHA256, 300, time.Now().Unix())
	c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{w.keyName: w.secret}}
	resp, _, err := c.ExchangeContext(ctx, m, w.addr)
	if err == nil && resp.Rcode != dns.RcodeSuccess {
		err = fmt.Errorf("update answered %s", dns.RcodeToString[resp.Rcode])
	}
	return err
}

func (w *tsigWriter) Present(ctx context.Context, domain, _, keyAuth string) error {
	return w.update(ctx, domain, keyAuth, true)
}

func (w *tsigWriter) CleanUp(ctx context.Context, domain, _, keyAuth string) error {
	return w.update(ctx, domain, keyAuth, false)
}

// startPebble runs Pebble (PMGTM_PEBBLE_PATH; make test builds it with
// .ci/pebble) on localhost, resolving through resolver, and returns its
// directory URL and an HTTP client that trusts its TLS certificate.
func startPebble(t *testing.T, resolver string) (dir, mgmt string, hc *http.Client) {
	t.Helper()
	bin := os.Getenv("PMGTM_PEBBLE_PATH")
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PMGTM_PEBBLE_PATH is not set in CI; make test sets it")
		}
		t.Skip("PMGTM_PEBBLE_PATH is not set (make test builds Pebble with .ci/pebble)")
	}
	certs := filepath.Join(filepath.Dir(bin), "certs")
	port, mport := agentproc.FreePort(t, "127.0.0.1"), agentproc.FreePort(t, "127.0.0.1")
	cfg := fmt.Sprintf(`{"pebble": {"listenAddress": "127.0.0.1:%d", "managementListenAddress": "127.0.0.1:%d",
  "certificate": %q, "privateKey": %q, "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}`, port, mport, filepath.Join(certs, "localhost", "cert.pem"), filepath.Join(certs, "localhost", "key.pem"))
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", resolver)
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	logs := &syncWriter{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pebble:\n%s", logs.String())
		}
	})
	caPEM, err := os.ReadFile(filepath.Join(certs, "pebble.minica.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	dir = "https://localhost:" + strconv.Itoa(port) + "/dir"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := hc.Get(dir)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v\n%s", err, logs.String())
		}
	}
	return dir, "https://localhost:" + strconv.Itoa(mport), hc
}

type syncWriter struct {
	mu  sync.Mutex
	buf []byte
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *syncWriter) String() string { w.mu.Lock(); defer w.mu.Unlock(); return string(w.buf) }

// TestAccACMECertificate: a real ACME CA (Pebble) issues a certificate for
// api.example.test and *.api.example.test to a real ACME client (lego),
// through the CNAME every node answers at _acme-challenge.api.example.test:
// lego writes the TXT at the target in the parent (BIND, TSIG), Pebble
// validates through a real resolver (Unbound) that follows the delegation
// to the agents and the CNAME back to the parent. The certificate names
// both and chains to Pebble's root.
func TestAccACMECertificate(t *testing.T) {
	accOnly(t)
	const lb1, lb2 = "127.0.12.11", "127.0.12.12"
	r := newRig(t, lb1, lb2)
	ub := r.unbound("127.0.12.3")
	dir, mgmt, hc := startPebble(t, ub.Addr)

	cli := terraformCLI(t)
	config := r.config([]testNode{{"lb1", lb1, ""}, {"lb2", lb2, ""}}, []string{"lb1", "lb2"}, "acme_challenge = true")
	if out, err := cli(config, "apply", "-auto-approve"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = cli(config, "destroy", "-auto-approve") })

	dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{ub.Addr}, Timeout: 5 * time.Second}))
	t.Cleanup(func() { dns01.SetDefaultClient(dns01.NewClient(nil)) })
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	user := &acmeUser{key: key}
	lcfg := lego.NewConfig(user)
	lcfg.CADirURL, lcfg.HTTPClient = dir, hc
	client, err := lego.NewClient(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	writer := &tsigWriter{t: t, addr: r.srv.Addr, keyName: r.srv.KeyName, secret: r.srv.KeySecret}
	if err := client.Challenge.SetDNS01Provider(writer, dns01.DisableAuthoritativeNssPropagationRequirement()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if user.reg, err = client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true}); err != nil {
		t.Fatalf("register: %v", err)
	}
	names := []string{"api.example.test", "*.api.example.test"}
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: names, Bundle: true, KeyType: certcrypto.EC256})
	if err != nil {
		t.Fatalf("obtain: %v", err)
	}
	for _, w := range writer.wrote {
		if w != "api._acme-challenge.example.test." {
			t.Errorf("lego wrote the challenge at %s, not at the CNAME's target", w)
		}
	}
	block, rest := pem.Decode(res.Certificate)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !slices.Contains(leaf.DNSNames, n) {
			t.Errorf("certificate names %v, not %s", leaf.DNSNames, n)
		}
	}
	// The chain: intermediates from the bundle, the root from Pebble.
	inter := x509.NewCertPool()
	inter.AppendCertsFromPEM(rest)
	resp, err := hc.Get(mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(rootPEM) {
		t.Fatalf("no root from pebble: %s", rootPEM)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "www.api.example.test"}); err != nil {
		t.Errorf("certificate does not verify against Pebble's root for a name under the wildcard: %v", err)
	}
}
