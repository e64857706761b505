package agent_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// pinned is a client that trusts exactly the certificate with fingerprint
// fp (as pmgtm-agent fingerprint prints it), like the provider does.
func pinned(fp string) *http.Client {
	want := strings.ToLower(strings.ReplaceAll(fp, ":", ""))
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // verified below against the pin
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if hex.EncodeToString(sum[:]) != want {
				return errors.New("fingerprint mismatch")
			}
			return nil
		}}}}
}

func getHealth(c *http.Client, url, token string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url+"/v1/health", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestSelfSignedTLSByDefault: an API that other hosts can reach is served
// over TLS with the agent's own certificate, made once (the fingerprint
// survives a restart) and printed by `pmgtm-agent fingerprint`; a client
// pinning it gets in, one pinning another certificate and a plaintext
// client do not.
func TestSelfSignedTLSByDefault(t *testing.T) {
	bin := agentproc.Binary(t)
	dir := t.TempDir()
	token := "self-signed-test-token-0123"
	tokenFile := writeFile(t, dir, "token", token+"\n")
	args := func(port int) []string {
		return []string{"--api-listen", "0.0.0.0:" + strconv.Itoa(port), "--dns-listen", "127.0.0.1:0",
			"--data-dir", filepath.Join(dir, "data"), "--token-file", tokenFile}
	}
	out, err := exec.Command(bin, append([]string{"fingerprint"}, args(agentproc.FreePort(t, "127.0.0.1"))...)...).Output()
	if err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	fp := strings.TrimSpace(string(out))
	if len(fp) != 95 {
		t.Fatalf("fingerprint %q", fp)
	}
	for run := range 2 { // the second start keeps the certificate
		// A port of its own each time, free on every address (the listener
		// is a wildcard); another test can still take it before the agent
		// binds, so a start that meets "address already in use" tries anew.
		var (
			port   int
			cmd    *exec.Cmd
			logs   agentproc.LogBuffer
			status int
		)
		for attempt := 0; attempt < 3 && status != http.StatusOK; attempt++ {
			port = agentproc.FreePort(t, "0.0.0.0")
			logs.Reset()
			cmd = exec.Command(bin, args(port)...)
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if status, err = getHealth(pinned(fp), "https://127.0.0.1:"+strconv.Itoa(port), token); err == nil ||
					strings.Contains(logs.String(), "address already in use") {
					break
				}
			}
			if status != http.StatusOK && strings.Contains(logs.String(), "address already in use") {
				_ = cmd.Wait()
			}
		}
		url := "https://127.0.0.1:" + strconv.Itoa(port)
		if status != http.StatusOK {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("run %d: pinned client got %d, %v\n%s", run, status, err, logs.String())
		}
		if _, err := getHealth(pinned(strings.Repeat("00:", 31)+"00"), url, token); err == nil {
			t.Errorf("run %d: a client pinning another certificate got in", run)
		}
		if status, err := getHealth(&http.Client{Timeout: 2 * time.Second}, "http://127.0.0.1:"+strconv.Itoa(port), token); err == nil && status == http.StatusOK {
			t.Errorf("run %d: plaintext request served", run)
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	// Plaintext to other hosts needs saying so.
	out, err = exec.Command(bin, append(args(agentproc.FreePort(t, "127.0.0.1")), "--tls-self-signed=false")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--insecure-plaintext-api") {
		t.Errorf("plaintext public API started: %v %s", err, out)
	}
}

// TestTokenRotation: during a rotation the token file holds two tokens and
// both are accepted; after the old line is removed and SIGHUP, only the
// new one is.
func TestTokenRotation(t *testing.T) {
	oldToken, newToken := "old-token-0123456789abcdef", "new-token-0123456789abcdef"
	tokenFile := writeFile(t, t.TempDir(), "token", oldToken+"\n"+newToken+"\n")
	a := agentproc.Start(t, agentproc.Options{Token: oldToken, Args: []string{"--token-file", tokenFile}})
	status := func(token string) int {
		s, err := getHealth(http.DefaultClient, a.APIURL, token)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if status(oldToken) != http.StatusOK || status(newToken) != http.StatusOK || status("third-token-0123456789abc") != http.StatusUnauthorized {
		t.Fatal("during the rotation both tokens, and only they, must be accepted")
	}
	if err := os.WriteFile(tokenFile, []byte(newToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for status(oldToken) != http.StatusUnauthorized {
		if ctx.Err() != nil {
			t.Fatal("the old token still works after the rotation")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status(newToken) != http.StatusOK {
		t.Fatal("the new token stopped working")
	}
}
