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
// exactly that certificate, with no CA. (The plan-time checks of these
// attributes are in internal/model.)
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

}
