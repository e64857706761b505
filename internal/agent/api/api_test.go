package api

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/rrl"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/agent/store"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

const testToken = "0123456789abcdef-test-token"

func newTestServer(t *testing.T, token string) (*httptest.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := New(Handler{Store: st, Log: slog.New(slog.DiscardHandler), Version: "test", Started: time.Now(),
		Tokens: func() []string {
			if token == "" {
				return nil
			}
			return []string{token}
		}, RRL: rrl.New(rrl.Config{Rate: 100}, time.Now)})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, st
}

func do(t *testing.T, srv *httptest.Server, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

const goodBody = `{"ipv4":["198.51.100.10"],"ipv6":["2001:db8::10"],"nameservers":["lb1.example.com","lb2.example.com"],"answer_ttl":30}`

func TestZoneLifecycle(t *testing.T) {
	srv, st := newTestServer(t, testToken)
	code, created := do(t, srv, "PUT", "/v1/zones/api.example.com", testToken, []byte(goodBody))
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, created)
	}
	code, again := do(t, srv, "PUT", "/v1/zones/api.example.com.", testToken, []byte(goodBody))
	if code != http.StatusOK || !bytes.Equal(again, created) {
		t.Fatalf("idempotent PUT: %d %s, want 200 %s", code, again, created)
	}
	code, got := do(t, srv, "GET", "/v1/zones/API.example.com", testToken, nil)
	if code != http.StatusOK || !bytes.Equal(got, created) {
		t.Fatalf("GET: %d %s, want %s", code, got, created)
	}
	if st.Table().Get("api.example.com.") == nil {
		t.Fatal("zone not in service after PUT")
	}
	code, list := do(t, srv, "GET", "/v1/zones", testToken, nil)
	if code != http.StatusOK || !strings.Contains(string(list), `"zone":"api.example.com."`) {
		t.Fatalf("list: %d %s", code, list)
	}
	if code, _ := do(t, srv, "DELETE", "/v1/zones/api.example.com", testToken, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := do(t, srv, "DELETE", "/v1/zones/api.example.com", testToken, nil); code != http.StatusNotFound {
		t.Fatalf("second delete: %d", code)
	}
	if code, _ := do(t, srv, "GET", "/v1/zones/api.example.com", testToken, nil); code != http.StatusNotFound {
		t.Fatalf("GET after delete: %d", code)
	}
	if st.Table().Get("api.example.com.") != nil {
		t.Fatal("zone still served after DELETE")
	}
}

func TestBadBodiesLeaveZoneUntouched(t *testing.T) {
	srv, st := newTestServer(t, testToken)
	if code, body := do(t, srv, "PUT", "/v1/zones/api.example.com", testToken, []byte(goodBody)); code != http.StatusCreated {
		t.Fatalf("setup: %d %s", code, body)
	}
	_, before := do(t, srv, "GET", "/v1/zones/api.example.com", testToken, nil)
	servedBefore := st.Table().Get("api.example.com.")

	cases := []struct {
		name   string
		path   string
		body   string
		status int
		field  string
	}{
		{"bad JSON", "api.example.com", `{"ipv4":`, 422, ""},
		{"unknown field", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"],"weight":3}`, 422, "weight"},
		{"bad nameserver", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1..example.com"]}`, 422, "nameservers[0]"},
		{"non-unicast", "api.example.com", `{"ipv4":["224.0.0.5"],"nameservers":["lb1.example.com"]}`, 422, "ipv4[0]"},
		{"mismatched family", "api.example.com", `{"ipv6":["198.51.100.10"],"nameservers":["lb1.example.com"]}`, 422, "ipv6[0]"},
		{"TTL out of range", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"],"answer_ttl":999999}`, 422, "answer_ttl"},
		{"zone name outside the body", "api.example.com", `{"zone":"other.example.com","ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"]}`, 422, "zone"},
		{"bad path", "api_.ex*ample.com", goodBody, 400, "zone"},
		{"oversized body", "api.example.com", `{"ipv4":["198.51.100.10"],"nameservers":["lb1.example.com"],"zone":"` + strings.Repeat("a", 70000) + `"}`, 413, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, srv, "PUT", "/v1/zones/"+tc.path, testToken, []byte(tc.body))
			if code != tc.status {
				t.Fatalf("status %d (%s), want %d", code, body, tc.status)
			}
			var e struct {
				Error struct{ Field, Message string }
			}
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Message == "" {
				t.Fatalf("error body %s is not a JSON error: %v", body, err)
			}
			if e.Error.Field != tc.field {
				t.Fatalf("field %q, want %q (%s)", e.Error.Field, tc.field, e.Error.Message)
			}
			_, after := do(t, srv, "GET", "/v1/zones/api.example.com", testToken, nil)
			if !bytes.Equal(before, after) || st.Table().Get("api.example.com.") != servedBefore {
				t.Fatalf("zone changed by a rejected request: %s -> %s", before, after)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	paths := []struct{ method, path string }{
		{"GET", "/v1/zones"}, {"GET", "/v1/health"}, {"GET", "/metrics"},
		{"PUT", "/v1/zones/api.example.com"}, {"DELETE", "/v1/zones/api.example.com"},
	}
	var srv *httptest.Server
	for _, p := range paths {
		srv, _ = newTestServer(t, testToken) // a fresh failure count for each path
		for _, token := range []string{"", "wrong-token-wrong-token", testToken[:len(testToken)-1], testToken + "x"} {
			code, body := do(t, srv, p.method, p.path, token, []byte(goodBody))
			if code != http.StatusUnauthorized || string(body) != `{"error":{"message":"unauthorized"}}`+"\n" {
				t.Fatalf("%s %s with token %q: %d %s", p.method, p.path, token, code, body)
			}
		}
	}
	if code, _ := do(t, srv, "GET", "/v1/health", testToken, nil); code != http.StatusOK {
		t.Fatalf("right token: %d", code)
	}
	// Ten failures block the client for a minute; the right token still
	// works from the same address (a NAT shared with a guesser).
	for i := 0; i < 10; i++ {
		do(t, srv, "GET", "/v1/health", "guess-"+strconv.Itoa(i), nil)
	}
	code, body := do(t, srv, "GET", "/v1/health", "guess-11", nil)
	if code != http.StatusTooManyRequests || !strings.Contains(string(body), "too many failed authentications") {
		t.Fatalf("after 10 failures: %d %s", code, body)
	}
	if code, body := do(t, srv, "GET", "/v1/health", testToken, nil); code != http.StatusOK {
		t.Fatalf("the right token from a blocked address: %d %s", code, body)
	}
	// Without a configured token (loopback-only API) no header is needed.
	open, _ := newTestServer(t, "")
	if code, _ := do(t, open, "GET", "/v1/health", "", nil); code != http.StatusOK {
		t.Fatalf("open API: %d", code)
	}
}

// TestAuthBlockCannotBeChurned: failures from many more addresses than the
// table holds do not unblock a blocked guesser.
func TestAuthBlockCannotBeChurned(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newAuthLimit(func() time.Time { return now })
	guesser := netip.MustParseAddr("198.51.100.7")
	for i := 0; i < l.max; i++ {
		l.fail(guesser)
	}
	for i := 0; i < l.size+4; i++ { // 4,100 distinct addresses, one failure each
		l.fail(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if blocked, _ := l.blocked(guesser); !blocked {
		t.Fatal("the guesser was churned out of the table")
	}
	if len(l.clients) > l.size {
		t.Fatalf("table grew to %d entries (limit %d)", len(l.clients), l.size)
	}
	now = now.Add(l.block + l.window + time.Second)
	if blocked, _ := l.blocked(guesser); blocked {
		t.Fatal("blocked past the block time")
	}
}

// TestRefusedRequestsCloseTheConnection: keep-alive is for callers with
// the token.
func TestRefusedRequestsCloseTheConnection(t *testing.T) {
	srv, _ := newTestServer(t, testToken)
	req, _ := http.NewRequest("GET", srv.URL+"/v1/health", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Fatalf("401 with keep-alive: status %d, close %v", resp.StatusCode, resp.Close)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	srv, st := newTestServer(t, "")
	do(t, srv, "PUT", "/v1/zones/api.example.com", "", []byte(goodBody))
	_, body := do(t, srv, "GET", "/v1/health", "", nil)
	var h zone.HealthReport
	if err := json.Unmarshal(body, &h); err != nil || h.Status != "ok" || h.Zones != 1 || h.Version != "test" {
		t.Fatalf("health %s (%v)", body, err)
	}
	z := st.Table().Get("api.example.com.")
	z.Counters()[0][0].Add(5)
	_, metrics := do(t, srv, "GET", "/metrics", "", nil)
	for _, want := range []string{
		`pmgtm_dns_queries_total{zone="api.example.com.",qtype="A",rcode="NOERROR"} 5`,
		"pmgtm_zones 1",
		`pmgtm_build_info{version="test"} 1`,
		`pmgtm_api_requests_total{method="PUT",route="/v1/zones/{fqdn}"} 1`,
		`pmgtm_api_requests_total{method="GET",route="/v1/health"} 1`,
		`pmgtm_api_requests_total{method="DELETE",route="/v1/zones/{fqdn}"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
}

// TestAuthRefusedMetric: refused requests are counted by reason, for the
// alert on token guessing.
func TestAuthRefusedMetric(t *testing.T) {
	srv, _ := newTestServer(t, testToken)
	for range 3 {
		do(t, srv, "GET", "/v1/zones", "wrong-token-wrong-token", nil)
	}
	_, metrics := do(t, srv, "GET", "/metrics", testToken, nil)
	if want := `pmgtm_api_auth_refused_total{reason="unauthorized"} 3`; !strings.Contains(string(metrics), want) {
		t.Errorf("metrics lack %q:\n%s", want, metrics)
	}
}
