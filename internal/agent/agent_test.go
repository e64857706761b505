package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/agentclient"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/agentproc"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/zone"
)

func TestMain(m *testing.M) { agentproc.Main(m) }

func ptr[T any](v T) *T { return &v }

func body(v4 ...string) zone.Body {
	return zone.Body{IPv4: v4, IPv6: []string{"2001:db8::10"}, AnswerTTL: ptr(int64(30)),
		Nameservers: []string{"lb1.example.test", "lb2.example.test"}}
}

func client(a *agentproc.Agent) *agentclient.Client {
	return &agentclient.Client{BaseURL: a.APIURL, Token: a.Token, HTTP: a.HTTP}
}

func query(t *testing.T, netw, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s %s: %v", netw, name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestServesOverUDPAndTCP(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{Token: "a-long-enough-token-for-tests"})
	ctx := context.Background()
	if _, _, err := client(a).PutZone(ctx, "api.example.test", body("127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	for _, netw := range []string{"udp", "tcp"} {
		r := query(t, netw, a.DNSAddr, "Www.API.example.test.", dns.TypeA)
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative || r.RecursionAvailable || len(r.Answer) != 1 {
			t.Fatalf("%s: %v", netw, r)
		}
		if got := r.Answer[0].String(); got != "Www.API.example.test.\t30\tIN\tA\t127.0.0.11" {
			t.Fatalf("%s answer %q", netw, got)
		}
		if r := query(t, netw, a.DNSAddr, "api.example.test.", dns.TypeMX); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Fatalf("%s NODATA: %v", netw, r)
		}
		if r := query(t, netw, a.DNSAddr, "example.test.", dns.TypeA); r.Rcode != dns.RcodeRefused {
			t.Fatalf("%s outside zone: %v", netw, r)
		}
	}
}

func TestTruncationThenTCP(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{})
	b := body()
	b.IPv4 = nil
	for i := 1; i <= 16; i++ {
		b.IPv6 = append(b.IPv6, fmt.Sprintf("2001:db8::%x", 0x100+i))
	}
	b.IPv6 = b.IPv6[1:]
	if _, _, err := client(a).PutZone(context.Background(), "big.example.test", b); err != nil {
		t.Fatal(err)
	}
	name := strings.Repeat("x", 60) + "." + strings.Repeat("y", 60) + ".big.example.test."
	udp := query(t, "udp", a.DNSAddr, name, dns.TypeAAAA)
	if !udp.Truncated || len(udp.Answer) != 0 {
		t.Fatalf("UDP without EDNS: TC=%v answers=%d", udp.Truncated, len(udp.Answer))
	}
	// miekg's client retries nothing by itself: do what a resolver does.
	tcp := query(t, "tcp", a.DNSAddr, name, dns.TypeAAAA)
	if tcp.Truncated || len(tcp.Answer) != 16 {
		t.Fatalf("TCP: TC=%v answers=%d", tcp.Truncated, len(tcp.Answer))
	}
}

func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dig is missing in CI; .ci/run installs bind9-dnsutils")
		}
		t.Skip("dig not installed (apt-get install bind9-dnsutils)")
	}
	a := agentproc.Start(t, agentproc.Options{})
	if _, _, err := client(a).PutZone(context.Background(), "api.example.test", body("127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(a.DNSAddr)
	for _, mode := range []string{"+notcp", "+tcp"} {
		out, err := exec.Command(dig, "+norec", mode, "@"+host, "-p", port, "ApI.example.test", "A").CombinedOutput()
		if err != nil {
			t.Fatalf("dig %s: %v\n%s", mode, err, out)
		}
		for _, want := range []string{"status: NOERROR", "flags: qr aa;", "ApI.example.test.\t30\tIN\tA\t127.0.0.11", "udp: 1232"} {
			if !strings.Contains(string(out), want) {
				t.Fatalf("dig %s output lacks %q:\n%s", mode, want, out)
			}
		}
	}
	out, _ := exec.Command(dig, "+norec", "@"+host, "-p", port, "api.example.test", "SOA").CombinedOutput()
	if !strings.Contains(string(out), "IN\tSOA\tlb1.example.test. hostmaster.api.example.test.") {
		t.Fatalf("dig SOA:\n%s", out)
	}
}

func TestMalformedPacketsNeverCrash(t *testing.T) {
	a := agentproc.Start(t, agentproc.Options{})
	if _, _, err := client(a).PutZone(context.Background(), "api.example.test", body("127.0.0.11")); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", a.DNSAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	good := new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA)
	wire, _ := good.Pack()
	for i := range 3000 {
		var pkt []byte
		if i%2 == 0 {
			pkt = make([]byte, rng.IntN(600))
			for j := range pkt {
				pkt[j] = byte(rng.Uint32())
			}
		} else { // a valid query with a few bytes flipped or cut
			pkt = append([]byte(nil), wire...)
			for range 1 + rng.IntN(4) {
				pkt[rng.IntN(len(pkt))] = byte(rng.Uint32())
			}
			pkt = pkt[:rng.IntN(len(pkt)+1)]
		}
		_, _ = conn.Write(pkt)
	}
	// A TCP client that lies about the length and hangs up.
	if c, err := net.Dial("tcp", a.DNSAddr); err == nil {
		_, _ = c.Write([]byte{0xff, 0xff, 1, 2, 3})
		c.Close()
	}
	// The flood may still fill the socket buffer: retry as a resolver would.
	var r *dns.Msg
	c := &dns.Client{Timeout: time.Second}
	for range 5 {
		if r, _, err = c.Exchange(new(dns.Msg).SetQuestion("api.example.test.", dns.TypeA), a.DNSAddr); err == nil {
			break
		}
	}
	if !a.Alive() || r == nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("after garbage: alive=%v answer=%v\n%s", a.Alive(), r, a.Logs())
	}
}

// TestAcknowledgedZonesSurviveKill9 writes zones as fast as it can, kills
// the agent at a random moment, restarts it on the same data dir, and
// checks that every acknowledged zone is served byte for byte.
func TestAcknowledgedZonesSurviveKill9(t *testing.T) {
	dataDir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for round := range 3 {
		a := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
		c := client(a)
		acked := map[string][]byte{}
		var inflightName string
		var inflightBody zone.Body
		stop := time.After(time.Duration(100+rng.IntN(600)) * time.Millisecond)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					a.Kill()
					return
				default:
				}
				name := fmt.Sprintf("z%d.crash.example.test.", i%40)
				b := body(fmt.Sprintf("127.0.%d.%d", round, 1+i%250))
				inflightName, inflightBody = name, b
				_, raw, err := c.PutZone(context.Background(), name, b)
				if err != nil {
					continue // killed mid-request: not acknowledged
				}
				acked[name] = raw
			}
		}()
		<-done
		if len(acked) == 0 {
			t.Fatalf("round %d: no PUT acknowledged before the kill", round)
		}
		b := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
		for name, want := range acked {
			_, got, err := client(b).GetZone(context.Background(), name)
			if err != nil {
				t.Fatalf("round %d: acknowledged zone %s lost: %v", round, name, err)
			}
			if !bytes.Equal(got, want) {
				// The PUT in flight at the kill may have landed after the
				// last acknowledged one; nothing else may differ.
				z, _ := zone.Parse(got)
				if name != inflightName || z.IPv4[0] != inflightBody.IPv4[0] {
					t.Fatalf("round %d: %s served\n%s, acknowledged\n%s", round, name, got, want)
				}
			}
			z, _ := zone.Parse(got)
			r := query(t, "udp", b.DNSAddr, "x."+name, dns.TypeA)
			if a, ok := firstA(r); !ok || len(r.Answer) != 1 || a != z.IPv4[0] {
				t.Fatalf("round %d: %s answers %v, stored %s", round, name, r.Answer, z.IPv4[0])
			}
		}
		if h, err := client(b).Health(context.Background()); err != nil || h.Status != "ok" {
			t.Fatalf("round %d: health %+v %v", round, h, err)
		}
		b.Kill()
		t.Logf("round %d: %d zones acknowledged before kill -9, all served after restart", round, len(acked))
	}
}

func TestCorruptZoneFileIsSkipped(t *testing.T) {
	dataDir := t.TempDir()
	a := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	ctx := context.Background()
	for _, n := range []string{"good1", "bad", "good2"} {
		if _, _, err := client(a).PutZone(ctx, n+".example.test", body("127.0.0.11")); err != nil {
			t.Fatal(err)
		}
	}
	a.Kill()
	bad := filepath.Join(dataDir, "zones", "bad.example.test.json")
	data, _ := os.ReadFile(bad)
	if err := os.WriteFile(bad, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	// A file whose content names another zone is refused too.
	_ = os.WriteFile(filepath.Join(dataDir, "zones", "other.example.test.json"), data, 0o600)

	b := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	for _, n := range []string{"good1", "good2"} {
		if r := query(t, "udp", b.DNSAddr, n+".example.test.", dns.TypeA); len(r.Answer) != 1 {
			t.Fatalf("%s not served: %v", n, r)
		}
	}
	if r := query(t, "udp", b.DNSAddr, "bad.example.test.", dns.TypeA); r.Rcode != dns.RcodeRefused {
		t.Fatalf("corrupt zone served: %v", r)
	}
	h, err := client(b).Health(ctx)
	if err != nil || h.Status != "degraded" || len(h.Problems) != 2 {
		t.Fatalf("health %+v %v", h, err)
	}
	if !strings.Contains(b.Logs(), "bad.example.test.json") {
		t.Fatalf("corrupt file not logged:\n%s", b.Logs())
	}
}

func TestSIGHUPReloadsAndSIGTERMStops(t *testing.T) {
	dataDir := t.TempDir()
	a := agentproc.Start(t, agentproc.Options{DataDir: dataDir})
	ctx := context.Background()
	for _, n := range []string{"keep", "drop"} {
		if _, _, err := client(a).PutZone(ctx, n+".example.test", body("127.0.0.11")); err != nil {
			t.Fatal(err)
		}
	}
	// Damage one file and remove another behind the agent's back.
	_ = os.WriteFile(filepath.Join(dataDir, "zones", "keep.example.test.json"), []byte("{garbage"), 0o600)
	_ = os.Remove(filepath.Join(dataDir, "zones", "drop.example.test.json"))
	for range 5 { // a small storm
		if err := a.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for query(t, "udp", a.DNSAddr, "drop.example.test.", dns.TypeA).Rcode != dns.RcodeRefused {
		if time.Now().After(deadline) {
			t.Fatal("removed zone still served after SIGHUP")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The damaged file does not take the zone in service away.
	if r := query(t, "udp", a.DNSAddr, "keep.example.test.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("zone with a damaged file dropped on reload: %v", r)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.Stop(ctx); err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, a.Logs())
	}
	if !strings.Contains(a.Logs(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", a.Logs())
	}
}

func TestRefusesUnsafeStartup(t *testing.T) {
	bin := agentproc.Binary(t)
	dir := t.TempDir()
	loose := filepath.Join(dir, "token")
	_ = os.WriteFile(loose, []byte("0123456789abcdef0123"), 0o644)
	cases := map[string]struct {
		args []string
		want string
	}{
		"public API without token":  {[]string{"--api-listen", "0.0.0.0:0"}, "--token-file is required"},
		"local API without token":   {[]string{"--api-listen", "127.0.0.1:0"}, "--token-file is required: without a token any local process"},
		"public API, no token flag": {[]string{"--api-listen", "0.0.0.0:0", "--insecure-no-token"}, "--token-file is required"},
		"world-readable token":      {[]string{"--api-listen", "127.0.0.1:0", "--token-file", loose}, "chmod 600"},
		"cert without key":          {[]string{"--api-listen", "127.0.0.1:0", "--tls-cert", "x.pem"}, "go together"},
		"unknown config key": {[]string{"--config", writeFile(t, dir, "bad.conf", "dns-listen = 127.0.0.1:0\nlisten = 1\n")},
			"bad.conf:2: unknown setting \"listen\""},
	}
	for name, tc := range cases {
		args := append([]string{"--data-dir", filepath.Join(dir, "data"), "--dns-listen", "127.0.0.1:0"}, tc.args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: err=%v output %q, want it to contain %q", name, err, out, tc.want)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// firstA is the first answer's address, when it is an A record.
func firstA(r *dns.Msg) (string, bool) {
	if len(r.Answer) == 0 {
		return "", false
	}
	a, ok := r.Answer[0].(*dns.A)
	if !ok {
		return "", false
	}
	return a.A.String(), true
}
