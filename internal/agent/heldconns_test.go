package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// TestHeldAPIConnections: 1,100 connections to the admin API that never
// send a request (from 110 addresses) do not keep the provider out: it
// is served at once, every time, and the agent stays within its caps.
func TestHeldAPIConnections(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{Token: "held-conns-token-0123456789"})
	held := holdConnections(t, strings.TrimPrefix(a.APIURL, "http://"), 1100, func(i int) string { return fmt.Sprintf("127.0.2.%d", 1+i%110) })
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 25 {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, a.APIURL+"/v1/health", nil)
		req.Header.Set("Authorization", "Bearer "+a.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d beside 1,100 held connections: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
	}
	if open := stillOpen(held); open > 256 {
		t.Errorf("the agent holds %d idle connections, cap 256", open)
	}
}

// TestHeldDNSConnections: 520 DNS/TCP connections that never send a query,
// from two addresses (more than the 512 the agent admits in all), do not
// keep a real client out: TCP is where rate limiting sends real clients,
// so each of its queries is answered, and the two addresses together hold
// no more than their per-prefix caps.
func TestHeldDNSConnections(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{Token: "held-conns-token-0123456789"})
	if _, _, err := client(a).PutZone(context.Background(), "api.example.test", body("127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	// Two /24 prefixes.
	held := holdConnections(t, a.DNSAddr, 520, func(i int) string { return []string{"127.0.3.1", "127.0.4.1"}[i%2] })
	for i := range 25 {
		r := query(t, "tcp", a.DNSAddr, "api.example.test.", dns.TypeA)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("query %d beside 520 held connections: %v", i, r)
		}
	}
	open := stillOpen(held)
	if open > 2*64 {
		t.Errorf("the agent holds %d idle connections from two prefixes, cap 64 each", open)
	}
	t.Logf("520 held DNS/TCP connections: %d still open, 25 of 25 real queries answered", open)
}

// holdConnections opens n connections to addr, the i-th from source(i),
// that send nothing; they are closed when the test ends. It returns once
// the agent has had time to accept them.
func holdConnections(t *testing.T, addr string, n int, source func(i int) string) []net.Conn {
	t.Helper()
	held := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source(i))}, Timeout: time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("held connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	time.Sleep(200 * time.Millisecond)
	return held
}

// stillOpen counts the held connections the agent has not closed.
func stillOpen(held []net.Conn) int {
	open := 0
	for _, c := range held {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && strings.Contains(err.Error(), "timeout") {
			open++
		}
	}
	return open
}
