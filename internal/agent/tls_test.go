package agent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a
// pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pmgtm-agent test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestAPIOverTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	a := agentproc.Start(t, agentproc.Options{Token: "tls-test-token-0123456789", TLSRoots: pool,
		Args: []string{"--tls-cert", certFile, "--tls-key", keyFile}})
	httpsURL := a.APIURL
	if !strings.HasPrefix(httpsURL, "https://") {
		t.Fatalf("API URL %s", httpsURL)
	}
	c := &agentclient.Client{BaseURL: httpsURL, Token: a.Token, HTTP: a.HTTP}
	if _, _, err := c.PutZone(context.Background(), "api.example.test", body("127.0.0.11")); err != nil {
		t.Fatalf("PUT over TLS: %v", err)
	}
	// A client that does not trust the certificate gets nowhere.
	untrusting := &agentclient.Client{BaseURL: httpsURL, Token: a.Token}
	if _, err := untrusting.Health(context.Background()); err == nil {
		t.Fatal("untrusted certificate accepted")
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(httpsURL + "/v1/health"); err == nil {
		resp.Body.Close()
		t.Fatal("TLS 1.1 accepted")
	}
}

// issue signs a certificate for 127.0.0.1 (server or client) with ca, or
// self-signs a CA when ca is nil.
type issued struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	certPEM []byte
	keyPEM  []byte
}

func issue(t *testing.T, ca *issued, name string, isCA bool, usage x509.ExtKeyUsage) *issued {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature}
	parent, signer := tmpl, key
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return &issued{cert: cert, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}
}

func TestAPIMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := issue(t, nil, "test CA", true, 0)
	server := issue(t, ca, "agent", false, x509.ExtKeyUsageServerAuth)
	client := issue(t, ca, "terraform", false, x509.ExtKeyUsageClientAuth)
	stranger := issue(t, issue(t, nil, "other CA", true, 0), "stranger", false, x509.ExtKeyUsageClientAuth)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	pair, err := tls.X509KeyPair(client.certPEM, client.keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	a := agentproc.Start(t, agentproc.Options{Token: "mtls-test-token-0123456789", TLSRoots: pool, ClientCert: &pair,
		Args: []string{"--tls-cert", write("server.pem", server.certPEM), "--tls-key", write("server.key", server.keyPEM),
			"--tls-client-ca", write("ca.pem", ca.certPEM)}})
	with := func(id *issued) *agentclient.Client {
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		if id != nil {
			pair, err := tls.X509KeyPair(id.certPEM, id.keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
		return &agentclient.Client{BaseURL: a.APIURL, Token: a.Token, HTTP: &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}}
	}
	if _, err := with(client).Health(context.Background()); err != nil {
		t.Fatalf("client certificate from the CA refused: %v", err)
	}
	for name, id := range map[string]*issued{"no certificate": nil, "certificate from another CA": stranger} {
		if _, err := with(id).Health(context.Background()); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestSecretsNeverLogged: neither the token nor what a client sent as one
// appears in the agent's logs, at debug level, whatever happens.
func TestSecretsNeverLogged(t *testing.T) {
	const token = "TOKEN-f3a9c1d2e4b5a6c7d8e9f0a1"
	const guess = "GUESS-0b1c2d3e4f5a6b7c8d9e0f1a"
	a := agentproc.Start(t, agentproc.Options{Token: token})
	good := &agentclient.Client{BaseURL: a.APIURL, Token: token}
	bad := &agentclient.Client{BaseURL: a.APIURL, Token: guess}
	ctx := context.Background()
	for i := 0; i < 12; i++ { // through the failed-auth block
		_, _ = bad.Health(ctx)
	}
	if _, _, err := good.PutZone(ctx, "api.example.test", body("127.0.0.11")); err == nil {
		t.Log("(not blocked: another address)")
	}
	_, _, _ = good.PutZone(ctx, "bad..name", body("127.0.0.11"))
	_ = a.Signal(syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	logs := a.Logs()
	if !strings.Contains(logs, "failed authentication") {
		t.Fatalf("the block was not logged:\n%s", logs)
	}
	for _, secret := range []string{token, guess, token[6:18], guess[6:18]} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain a secret (%q):\n%s", secret, logs)
		}
	}
}
