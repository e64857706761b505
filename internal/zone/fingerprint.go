package zone

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// CertFingerprint is a certificate's SHA-256 fingerprint as the agent
// prints it (`pmgtm-agent fingerprint`) and openssl does: upper-case hex
// pairs joined by colons. The provider pins the agent's API certificate
// by it (agent_tls_fingerprint).
func CertFingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// ParseCertFingerprint reads a fingerprint: 64 hex digits, colons and a
// "sha256:" prefix allowed, any case.
func ParseCertFingerprint(s string) ([]byte, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimPrefix(strings.TrimPrefix(t, "sha256:"), "sha256 fingerprint=")
	b, err := hex.DecodeString(strings.ReplaceAll(t, ":", ""))
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("%q is not a SHA-256 fingerprint: want 64 hex digits (colons allowed), as `pmgtm-agent fingerprint` or "+
			"`openssl x509 -noout -fingerprint -sha256 -in cert.pem` print it", s)
	}
	return b, nil
}
