package provider

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

// TestAgentAccess: a node's own token goes to its agent and nowhere else
// (the provider's token is the default only); a pinned fingerprint admits
// exactly that certificate, with no CA; plan-time checks name the
// attribute.
func TestAgentAccess(t *testing.T) {
	var gotToken string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotToken = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","zones":0}`))
	}))
	defer srv.Close()
	fp := zone.CertFingerprint(srv.Certificate().Raw)
	c := &Clients{AgentToken: "provider-default-token",
		agents: agentTransports{base: &tls.Config{MinVersion: tls.VersionTLS12}, timeout: 10 * time.Second}}
	ctx := context.Background()

	if _, err := c.agent(agentAccess{URL: srv.URL, Token: "node-own-token", Fingerprint: fp}).Health(ctx); err != nil {
		t.Fatalf("pinned agent: %v", err)
	}
	if gotToken != "node-own-token" {
		t.Errorf("agent got token %q, want the node's own", gotToken)
	}
	if _, err := c.agent(agentAccess{URL: srv.URL, Fingerprint: strings.ToLower(strings.ReplaceAll(fp, ":", ""))}).Health(ctx); err != nil || gotToken != "provider-default-token" {
		t.Errorf("node without a token: err %v, token %q; want the provider's", err, gotToken)
	}
	_, err := c.agent(agentAccess{URL: srv.URL, Fingerprint: strings.Repeat("AB:", 31) + "AB"}).Health(ctx)
	if err == nil || !strings.Contains(err.Error(), "pins AB:AB") {
		t.Errorf("another certificate pinned: %v", err)
	}
	if _, err := c.agent(agentAccess{URL: srv.URL}).Health(ctx); err == nil {
		t.Error("no pin and no CA: the test server's certificate was trusted")
	}

	for _, c := range []struct {
		a    agentAccess
		attr string
	}{
		{agentAccess{Fingerprint: "abc"}, attrAgentFingerprint},
		{agentAccess{ClientCertPEM: "x"}, attrAgentClientCert},
		{agentAccess{ClientCertPEM: "x", ClientKeyPEM: "y"}, attrAgentClientCert},
	} {
		if p := credentialProblems(c.a); len(p) != 1 || p[0].Attribute != c.attr {
			t.Errorf("%+v: problems %+v, want one at %s", c.a, p, c.attr)
		}
	}
	if p := credentialProblems(agentAccess{Fingerprint: "sha256:" + fp}); len(p) != 0 {
		t.Errorf("a valid fingerprint: %+v", p)
	}
	for url, warn := range map[string]bool{"http://198.51.100.10:8053": true, "http://127.0.0.1:8053": false,
		"http://localhost:8053": false, "https://198.51.100.10:8053": false} {
		if got := plaintextProblem(url) != nil; got != warn {
			t.Errorf("%s: warning %v, want %v", url, got, warn)
		}
	}
}
