package agent

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// The self-signed certificate's files in the data dir.
const (
	selfSignedCert = "api-tls.pem"
	selfSignedKey  = "api-tls.key"
)

// ensureSelfSigned makes the agent's own API certificate and key when they
// do not exist yet. Nothing needs to trust a CA for it: the provider pins
// its fingerprint (agent_tls_fingerprint), printed by `pmgtm-agent
// fingerprint`. The key is written first and only then the certificate,
// each complete or not at all, so a crash never leaves a certificate
// without its key.
func ensureSelfSigned(certFile, keyFile string) (made bool, err error) {
	if _, err := os.Stat(certFile); err == nil {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o750); err != nil {
		return false, fmt.Errorf("self-signed certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return false, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "pmgtm-agent " + host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(20, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return false, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return false, err
	}
	if err := writeAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return false, err
	}
	return true, writeAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("self-signed certificate: %w", err)
	}
	return os.Rename(tmp, path)
}

// fingerprintOf returns the fingerprint (zone.CertFingerprint) of the
// first certificate in a PEM file.
func fingerprintOf(certFile string) (string, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s holds no PEM certificate", certFile)
	}
	return zone.CertFingerprint(block.Bytes), nil
}

// fingerprintCommand is `pmgtm-agent fingerprint [flags]`: with the same
// flags (or --config) as the agent, it makes the self-signed certificate
// if the agent would, and prints the API certificate's fingerprint for
// the node's agent_tls_fingerprint.
func fingerprintCommand(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, stderr)
	if errors.Is(err, errHelpShown) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pmgtm-agent fingerprint:", err)
		return 2
	}
	if cfg.TLSCert == "" {
		fmt.Fprintf(stderr, "pmgtm-agent fingerprint: the API at %s has no TLS (loopback only, or --insecure-plaintext-api)\n", cfg.APIListen)
		return 1
	}
	if cfg.selfSigned {
		if _, err := ensureSelfSigned(cfg.TLSCert, cfg.TLSKey); err != nil {
			fmt.Fprintln(stderr, "pmgtm-agent fingerprint:", err)
			return 1
		}
	}
	fp, err := fingerprintOf(cfg.TLSCert)
	if err != nil {
		fmt.Fprintln(stderr, "pmgtm-agent fingerprint:", err)
		return 1
	}
	fmt.Fprintln(stdout, fp)
	return 0
}
