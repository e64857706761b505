package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// TestHeldAPIConnections: 1,100 connections to the admin API that never
// send a request (from 110 addresses) do not keep the provider out: it
// is served at once, every time, and the agent stays within its caps.
func TestHeldAPIConnections(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{Token: "held-conns-token-0123456789"})
	host := strings.TrimPrefix(a.APIURL, "http://")
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for i := range 1100 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.2.%d", 1+i%110))}, Timeout: time.Second}
		c, err := d.Dial("tcp", host)
		if err != nil {
			t.Fatalf("held connection %d: %v", i, err)
		}
		held = append(held, c)
	}
	time.Sleep(200 * time.Millisecond)
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
	open := 0
	for _, c := range held {
		_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err != nil && strings.Contains(err.Error(), "timeout") {
			open++ // still held open by the agent
		}
	}
	if open > 256 {
		t.Errorf("the agent holds %d idle connections, cap 256", open)
	}
}
