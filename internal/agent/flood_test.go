package agent_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
)

// rssKiB reads a process's resident set size.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// stubLookup asks like a stub resolver: UDP from a fixed source address,
// over TCP when the answer is truncated, three tries.
func stubLookup(server, source, name string) bool {
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	udp := &dns.Client{Net: "udp", Timeout: 300 * time.Millisecond, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(source)}}}
	tcp := &dns.Client{Net: "tcp", Timeout: time.Second, Dialer: &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}}
	for try := 0; try < 3; try++ {
		r, _, err := udp.Exchange(m, server)
		if err != nil {
			continue
		}
		if r.Truncated {
			if r, _, err = tcp.Exchange(m, server); err != nil {
				continue
			}
		}
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	}
	return false
}

// TestFloodIsRateLimited floods the agent (bounded: 5 s or 200k packets)
// with random-subdomain queries from one prefix, while real clients ask:
// one in another prefix, one inside the flooded prefix. Both keep getting
// answers (the second through slipped TC answers and TCP), memory stays
// flat, and the limiter's counters show the flood.
func TestFloodIsRateLimited(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{IP: "127.0.7.53", Token: "flood-test-token-0123456789",
		Args: []string{"--rrl-rate", "50", "--rrl-slip", "2", "--rrl-exempt", ""}})
	if _, _, err := client(a).PutZone(context.Background(), "api.example.test", body("127.0.7.53")); err != nil {
		t.Fatal(err)
	}
	before := rssKiB(t, a.Pid())

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent int
	wg.Add(1)
	go func() { // the flood: spoof-style, never reads answers
		defer wg.Done()
		conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP("127.0.9.1")}, net.UDPAddrFromAddrPort(mustAddrPort(a.DNSAddr)))
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		deadline := time.Now().Add(5 * time.Second)
		for sent = 0; sent < 200_000 && time.Now().Before(deadline); sent++ {
			select {
			case <-stop:
				return
			default:
			}
			m := new(dns.Msg).SetQuestion(fmt.Sprintf("x%d.api.example.test.", rand.Uint64()), dns.TypeA)
			wire, _ := m.Pack()
			_, _ = conn.Write(wire)
		}
	}()
	time.Sleep(200 * time.Millisecond) // the flood is on
	results := map[string]int{}
	var mu sync.Mutex
	for _, source := range []string{"127.0.10.1", "127.0.9.77"} { // another prefix; the flooded one
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 40; i++ {
				ok := stubLookup(a.DNSAddr, source, fmt.Sprintf("real%d.api.example.test.", i))
				mu.Lock()
				if ok {
					results[source]++
				}
				mu.Unlock()
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	time.Sleep(3 * time.Second)
	after := rssKiB(t, a.Pid())
	close(stop)
	wg.Wait()
	t.Logf("flood: %d packets; real clients answered: other prefix %d/40, flooded prefix %d/40; RSS %d -> %d KiB",
		sent, results["127.0.10.1"], results["127.0.9.77"], before, after)
	if sent < 10_000 {
		t.Fatalf("the flood sent only %d packets", sent)
	}
	if results["127.0.10.1"] != 40 {
		t.Errorf("a client outside the flooded prefix got %d/40 answers", results["127.0.10.1"])
	}
	if results["127.0.9.77"] < 38 {
		t.Errorf("a client inside the flooded prefix got %d/40 answers; slip and TCP should carry it", results["127.0.9.77"])
	}
	if after-before > 16*1024 {
		t.Errorf("RSS grew by %d KiB under the flood", after-before)
	}
	metrics := get(t, a, "/metrics")
	if !strings.Contains(metrics, `pmgtm_rrl_limited_total{action="dropped"}`) || strings.Contains(metrics, `pmgtm_rrl_limited_total{action="dropped"} 0`) {
		t.Errorf("metrics do not count the limited answers:\n%s", metrics)
	}
}

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
