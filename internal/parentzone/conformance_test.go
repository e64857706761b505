package parentzone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libdns/libdns"
	"github.com/miekg/dns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/cloudflare"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/faults"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/emulator/route53"
	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

const testZone = "example.test"

// fastBackoff keeps retries real but short in tests.
var fastBackoff = Backoff{Attempts: 8, Base: 20 * time.Millisecond, Max: 200 * time.Millisecond}

// backend is one parent-zone host under test.
type backend struct {
	name string
	// newProvider returns a fresh libdns provider for the zone.
	newProvider func(t *testing.T) Backend
	// putForeign adds a record pmgtm did not make.
	putForeign func(t *testing.T, r Record)
	// faults is nil where failures cannot be injected (a real server).
	faults *faults.Injector
	// writePath is the path suffix of the emulator's write requests.
	writePath string
	// slowProvider returns a provider whose calls hang, for timeouts.
	slowProvider func(t *testing.T) Backend
}

func backends(t *testing.T) []backend {
	t.Helper()
	var out []backend

	// Every RFC 2136 primary pmgtm supports, unsigned and signed. The
	// unsigned ones have a transfer key apart from the update key, which
	// may not transfer the zone: reads must use the transfer key ("-xfr").
	for _, primary := range []struct{ software, signing string }{
		{"bind", ""}, {"bind", "nsec"}, {"bind", "nsec3"}, {"knot", ""}, {"knot", "nsec"}, {"knot", "nsec3"},
		{"pdns", ""}, {"pdns", "nsec"}, {"pdns", "nsec3"},
	} {
		software, signing := primary.software, primary.signing
		out = append(out, backend{name: software + "-rfc2136" + map[string]string{"": "-xfr", "nsec": "-nsec", "nsec3": "-nsec3"}[signing],
			newProvider: func(t *testing.T) Backend {
				t.Helper()
				srv := bindFor(t, software, signing)
				p, err := NewRFC2136(RFC2136Config{Server: srv.Addr, KeyName: srv.KeyName, KeyAlgorithm: "hmac-sha256", KeySecret: srv.KeySecret,
					TransferKeyName: srv.TransferKeyName, TransferKeySecret: srv.TransferKeySecret})
				if err != nil {
					t.Fatal(err)
				}
				return p
			},
			putForeign: func(t *testing.T, r Record) {
				t.Helper()
				srv := bindFor(t, software, signing)
				rr, err := dns.NewRR(fmt.Sprintf("%s.%s. %d IN %s %s", r.Name, srv.Zone, r.TTL, r.Type, r.Value))
				if err != nil {
					t.Fatal(err)
				}
				m := new(dns.Msg)
				m.SetUpdate(srv.Zone + ".")
				m.Insert([]dns.RR{rr})
				m.SetTsig(srv.KeyName, dns.HmacSHA256, 300, time.Now().Unix())
				c := &dns.Client{Net: "tcp", TsigSecret: map[string]string{srv.KeyName: srv.KeySecret}}
				if resp, _, err := c.Exchange(m, srv.Addr); err != nil || resp.Rcode != dns.RcodeSuccess {
					t.Fatalf("foreign update: %v %v", err, resp)
				}
			},
			slowProvider: func(t *testing.T) Backend {
				t.Helper()
				// A TCP server that accepts and never answers.
				addr := bind.ServeTCP(t, func(c net.Conn) { t.Cleanup(func() { c.Close() }) })
				p, _ := NewRFC2136(RFC2136Config{Server: addr, KeyName: "k.", KeySecret: "c2VjcmV0"})
				return p
			},
		})
	}

	cf := cloudflare.New("cf-test-token", testZone)
	cf.MaxPage = 5 // exercise paging with few records
	t.Cleanup(cf.Close)
	out = append(out, backend{name: "cloudflare-emulator", faults: &cf.Injector, writePath: "/dns_records/batch",
		newProvider: func(t *testing.T) Backend {
			t.Helper()
			p, err := NewCloudflare(CloudflareConfig{APIToken: "cf-test-token", HTTPClient: cf.Client(), Limit: NoRateLimit})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		putForeign: func(t *testing.T, r Record) {
			t.Helper()
			cf.AddRecord(testZone, cloudflare.Record{Name: r.Name + "." + testZone, Type: r.Type, Content: strings.TrimSuffix(r.Value, "."), TTL: int(r.TTL)})
		},
	})

	r53 := route53.New("AKIDPMGTMTEST", testZone)
	r53.PageSize = 4 // exercise paging
	t.Cleanup(r53.Close)
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", r53.URL())
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	out = append(out, backend{name: "route53-emulator", faults: &r53.Injector, writePath: "/rrset",
		newProvider: func(t *testing.T) Backend {
			t.Helper()
			p, err := NewRoute53(Route53Config{AccessKeyID: "AKIDPMGTMTEST", SecretAccessKey: "secret", MaxRetries: 2, Limit: NoRateLimit})
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
		putForeign: func(t *testing.T, r Record) {
			t.Helper()
			r53.PutSet(testZone, route53.Set(r.Name+"."+testZone, r.Type, int64(r.TTL), r.Value))
		},
	})
	// Emulators: a provider whose every call waits 2 s.
	for i := range out[9:] {
		b := &out[9+i]
		b.slowProvider = func(t *testing.T) Backend {
			t.Helper()
			b.faults.SetLatency(2 * time.Second)
			t.Cleanup(b.faults.Clear)
			return b.newProvider(t)
		}
	}
	// The Manager's path for a backend with only the libdns interfaces (no
	// Changer), which every backend here has outgrown: BIND seen that way.
	plain := out[0]
	plain.name = "bind-libdns"
	newBIND := plain.newProvider
	plain.newProvider = func(t *testing.T) Backend {
		t.Helper()
		return libdnsOnly{newBIND(t)}
	}
	out = append(out, plain)
	return out
}

// One BIND per test, so that tests start from the same zone.
var (
	bindMu      sync.Mutex
	bindServers = map[*testing.T]*bind.Server{}
)

func bindFor(t *testing.T, software, signing string) *bind.Server {
	t.Helper()
	bindMu.Lock()
	defer bindMu.Unlock()
	if s := bindServers[t]; s != nil {
		return s
	}
	s := bind.Start(t, bind.Options{Zone: testZone, Signing: signing, Software: software, TransferKey: signing == ""})
	bindServers[t] = s
	t.Cleanup(func() { bindMu.Lock(); delete(bindServers, t); bindMu.Unlock() })
	return s
}

func newManager(t testing.TB, p Backend, owner string) *Manager {
	t.Helper()
	m, err := NewManager(p, owner, fastBackoff)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fresh reads the zone with a new manager, bypassing every cache.
func fresh(t *testing.T, p Backend, name string) NameState {
	t.Helper()
	s, err := newManager(t, p, "reader").Lookup(context.Background(), testZone, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func values(rs []Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Value)
	}
	slices.Sort(out)
	return out
}

// uniqueNames gives each test its own names: the emulators live for the
// whole suite.
func names(t *testing.T, base string) string {
	t.Helper()
	return base + strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()))[len("TestConformance-"):]
}

func TestConformance(t *testing.T) {
	ctx := context.Background()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("create read delete", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				lb, api := names(t, "lb1-"), names(t, "api-")
				if err := m.Ensure(ctx, testZone, lb, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}},
					{Type: "AAAA", TTL: 300, Values: []string{"2001:DB8::11"}}}, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				if err := m.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 300, Values: []string{lb + ".example.test", "lb2.example.test."}}}, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				s := fresh(t, p, lb)
				if s.Holder().Owner != "default" || !slices.Equal(values(s.Of("A")), []string{"127.0.0.11"}) || !slices.Equal(values(s.Of("AAAA")), []string{"2001:db8::11"}) {
					t.Fatalf("node records: %+v", s)
				}
				ns := fresh(t, p, api)
				if ns.Holder().Owner != "default" || !slices.Equal(values(ns.Of("NS")), []string{lb + ".example.test.", "lb2.example.test."}) {
					t.Fatalf("delegation: %+v", ns)
				}
				wrote := map[string][]RRSet{
					api: {{Type: "NS", Values: []string{lb + ".example.test", "lb2.example.test."}}},
					lb:  {{Type: "A", Values: []string{"127.0.0.11"}}, {Type: "AAAA", Values: []string{"2001:DB8::11"}}},
				}
				for _, n := range []string{api, lb} {
					if err := m.Release(ctx, testZone, n, EnsureOptions{Wrote: wrote[n]}); err != nil {
						t.Fatal(err)
					}
					if s := fresh(t, p, n); len(s.Records) != 0 || s.Holder().Owner != "" {
						t.Fatalf("%s after release: %+v", n, s)
					}
				}
			})

			t.Run("NS member added and removed one by one", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				api := names(t, "api-")
				set := func(targets ...string) {
					t.Helper()
					if err := m.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 300, Values: targets}}, EnsureOptions{}); err != nil {
						t.Fatal(err)
					}
					if got := values(fresh(t, p, api).Of("NS")); !slices.Equal(got, targets) {
						t.Fatalf("NS set %v, want %v", got, targets)
					}
				}
				set("lb1.example.test.", "lb2.example.test.", "lb3.example.test.")
				_, atomic := p.(Changer)
				if atomic && (m.Calls.Change.Load() != 1 || m.Calls.Append.Load() != 0) {
					t.Fatalf("a new name's marker and NS set took %d changes and %d appends, want one change", m.Calls.Change.Load(), m.Calls.Append.Load())
				}
				writes := func() int64 { return m.Calls.Delete.Load() + m.Calls.Change.Load() + m.Calls.Append.Load() }
				before := writes()
				set("lb1.example.test.", "lb3.example.test.")
				if d := writes() - before; d != 1 {
					t.Fatalf("removing one member took %d write calls", d)
				}
				set("lb1.example.test.", "lb3.example.test.", "lb4.example.test.")
				before = writes()
				if err := m.Release(ctx, testZone, api, EnsureOptions{Wrote: []RRSet{{Type: "NS", Values: []string{"lb1.example.test.", "lb3.example.test.", "lb4.example.test."}}}}); err != nil {
					t.Fatal(err)
				}
				if d := writes() - before; atomic && d != 1 {
					t.Fatalf("releasing the NS set and the marker took %d write calls, want one change", d)
				}
				if s := fresh(t, p, api); len(s.Records) != 0 || s.Marked() {
					t.Fatalf("after release: %+v", s)
				}
			})

			t.Run("in-place change in a later run", func(t *testing.T) {
				// What a signed parent keeps at a delegated name (NSEC,
				// RRSIG) is the signer's, not data in the way.
				p := b.newProvider(t)
				api := names(t, "later-")
				claim := EnsureOptions{Instance: NewInstanceID(), InState: true}
				for i, set := range [][]string{{"lb1.example.test."}, {"lb1.example.test.", "lb2.example.test."}, {"lb2.example.test."}} {
					if err := newManager(t, p, "default").Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: uint32(300 + 60*i), Values: set}}, claim); err != nil {
						t.Fatalf("run %d: %v", i, err)
					}
					if got := values(fresh(t, p, api).Of("NS")); !slices.Equal(got, set) {
						t.Fatalf("run %d: NS %v, want %v", i, got, set)
					}
				}
				claim.Wrote = []RRSet{{Type: "NS", Values: []string{"lb2.example.test."}}}
				if err := newManager(t, p, "default").Release(ctx, testZone, api, claim); err != nil {
					t.Fatal(err)
				}
				if s := fresh(t, p, api); len(s.Records) != 0 || s.Marked() {
					t.Fatalf("after release: %+v", s)
				}
			})

			t.Run("TTL change of a set converges in one run", func(t *testing.T) {
				p := b.newProvider(t)
				api := names(t, "ttl-")
				set := []string{"lb1.example.test.", "lb2.example.test."}
				for _, ttl := range []uint32{300, 120} {
					if err := newManager(t, p, "default").Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: ttl, Values: set}}, EnsureOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				got := fresh(t, p, api).Of("NS")
				if len(got) != 2 || got[0].TTL != 120 || got[1].TTL != 120 {
					t.Fatalf("after a TTL change: %v", got)
				}
				again := newManager(t, p, "default")
				if err := again.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 120, Values: set}}, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				if n := again.Calls.Append.Load() + again.Calls.Delete.Load(); n != 0 {
					t.Fatalf("the next run still rewrote the set (%d writes)", n)
				}
				_ = again.Release(ctx, testZone, api, EnsureOptions{Wrote: []RRSet{{Type: "NS", Values: set}}})
			})

			t.Run("idempotent re-create", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				lb := names(t, "lb-")
				want := []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.21"}}}
				if err := m.Ensure(ctx, testZone, lb, want, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				again := newManager(t, p, "default") // a later terraform run
				if err := again.Ensure(ctx, testZone, lb, want, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				if again.Calls.Append.Load()+again.Calls.Delete.Load() != 0 {
					t.Fatalf("second run changed records: %d appends, %d deletes", again.Calls.Append.Load(), again.Calls.Delete.Load())
				}
				_ = again.Release(ctx, testZone, lb, EnsureOptions{Wrote: want})
			})

			t.Run("conflicts are reported and untouched", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				www, cname, node := names(t, "www-"), names(t, "cn-"), names(t, "lbx-")
				b.putForeign(t, Record{Name: www, Type: "A", TTL: 300, Value: "192.0.2.1"})
				b.putForeign(t, Record{Name: cname, Type: "CNAME", TTL: 300, Value: "elsewhere.example.net."})
				b.putForeign(t, Record{Name: node, Type: "A", TTL: 300, Value: "192.0.2.9"})
				cases := []struct {
					name string
					want RRSet
					msg  string
				}{
					{www, RRSet{Type: "NS", TTL: 300, Values: []string{"lb1.example.test."}}, "192.0.2.1"},
					{cname, RRSet{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}}, "CNAME"},
					{node, RRSet{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}}, "192.0.2.9"},
				}
				for _, c := range cases {
					// The plan-time check finds the same conflict, writing nothing.
					writes := m.Calls.Append.Load() + m.Calls.Delete.Load()
					err := m.Check(ctx, testZone, c.name, []string{c.want.Type}, EnsureOptions{})
					if !strings.Contains(fmt.Sprint(err), c.msg) || m.Calls.Append.Load()+m.Calls.Delete.Load() != writes {
						t.Fatalf("Check %s: got %v (and %d writes), want a conflict naming %s", c.name, err, m.Calls.Append.Load()+m.Calls.Delete.Load()-writes, c.msg)
					}
					err = m.Ensure(ctx, testZone, c.name, []RRSet{c.want}, EnsureOptions{})
					var conflict *ConflictError
					if !errors.As(err, &conflict) || !strings.Contains(err.Error(), c.name+".example.test.") || !strings.Contains(err.Error(), c.msg) {
						t.Fatalf("%s: got %v, want a conflict naming %s and %s", c.name, err, c.name, c.msg)
					}
				}
				if s := fresh(t, p, www); s.Holder().Owner != "" || !slices.Equal(values(s.Of("A")), []string{"192.0.2.1"}) || len(s.Of("NS")) != 0 {
					t.Fatalf("foreign record changed: %+v", s)
				}
				// Release of a name that is not ours changes nothing: only
				// what the state says was written is deleted.
				if err := m.Release(ctx, testZone, node, EnsureOptions{Wrote: []RRSet{{Type: "A", Values: []string{"127.0.0.11"}}}}); err != nil {
					t.Fatal(err)
				}
				if s := fresh(t, p, node); !slices.Equal(values(s.Of("A")), []string{"192.0.2.9"}) {
					t.Fatalf("release touched a foreign record: %+v", s)
				}
				// With adopt, the record of the managed type is taken over.
				if err := m.Ensure(ctx, testZone, node, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}}}, EnsureOptions{Adopt: true}); err != nil {
					t.Fatal(err)
				}
				if s := fresh(t, p, node); s.Holder().Owner != "default" || !slices.Equal(values(s.Of("A")), []string{"127.0.0.11"}) {
					t.Fatalf("adopted: %+v", s)
				}
				// Another owner's name is off limits, with or without adopt.
				other := newManager(t, p, "team-b")
				err := other.Ensure(ctx, testZone, node, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.12"}}}, EnsureOptions{Adopt: true})
				var held *HeldError
				if !errors.As(err, &held) || !strings.Contains(err.Error(), `owner "default"`) {
					t.Fatalf("other owner: %v", err)
				}
				_ = m.Release(ctx, testZone, node, EnsureOptions{Wrote: []RRSet{{Type: "A", Values: []string{"127.0.0.11"}}}})
			})

			t.Run("ownership per instance", func(t *testing.T) {
				p := b.newProvider(t)
				first, second := newManager(t, p, "default"), newManager(t, p, "default")
				lb := names(t, "own-")
				mine := EnsureOptions{Instance: NewInstanceID()}
				mine.Wrote = []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.41"}}}
				if err := first.Ensure(ctx, testZone, lb, mine.Wrote, mine); err != nil {
					t.Fatal(err)
				}
				// Another state (same owner id, another instance) creating
				// the same name is refused at the check and at the write.
				other := EnsureOptions{Instance: NewInstanceID()}
				for _, err := range []error{
					second.Check(ctx, testZone, lb, []string{"A"}, other),
					second.Ensure(ctx, testZone, lb, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.42"}}}, other),
					second.Release(ctx, testZone, lb, EnsureOptions{Instance: other.Instance, InState: true, Wrote: mine.Wrote}),
				} {
					var held *HeldError
					if !errors.As(err, &held) || held.Holder.Instance != mine.Instance || !strings.Contains(err.Error(), "terraform import") {
						t.Fatalf("second instance: %v", err)
					}
				}
				if got := values(fresh(t, p, lb).Of("A")); !slices.Equal(got, []string{"127.0.0.41"}) {
					t.Fatalf("the second instance changed the first's record: %v", got)
				}
				// A marker widened by hand, with foreign data of those types
				// at the name: release deletes only what the state wrote.
				if _, err := p.DeleteRecords(ctx, testZone+".", []libdns.Record{
					libdns.TXT{Name: MarkerName(lb), TTL: 300 * time.Second, Text: fresh(t, p, lb).MarkerText()},
				}); err != nil {
					t.Fatal(err)
				}
				if _, err := p.AppendRecords(ctx, testZone+".", []libdns.Record{
					libdns.TXT{Name: lb, TTL: 300 * time.Second, Text: "foreign verification"},
					libdns.TXT{Name: MarkerName(lb), TTL: 300 * time.Second, Text: MarkerText(first.holder(mine), []string{"A", "AAAA", "TXT", "MX"})},
				}); err != nil {
					t.Fatal(err)
				}
				if err := newManager(t, p, "default").Release(ctx, testZone, lb, mine); err != nil {
					t.Fatal(err)
				}
				after := fresh(t, p, lb)
				if len(after.Of("A")) != 0 || after.Marked() || !slices.Equal(values(after.Of("TXT")), []string{"foreign verification"}) {
					t.Fatalf("after release: %+v", after)
				}
			})

			t.Run("lost and legacy markers", func(t *testing.T) {
				p := b.newProvider(t)
				lb := names(t, "lost-")
				wrote := []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.43"}}}
				// An earlier release: marker without an instance id.
				if err := newManager(t, p, "default").Ensure(ctx, testZone, lb, wrote, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				me := EnsureOptions{Instance: NewInstanceID(), Wrote: wrote}
				if err := newManager(t, p, "default").Check(ctx, testZone, lb, []string{"A"}, me); err == nil {
					t.Fatal("a create took over an earlier release's marker without import")
				}
				me.InState = true
				m := newManager(t, p, "default")
				if err := m.Ensure(ctx, testZone, lb, wrote, me); err != nil {
					t.Fatalf("upgrade: %v", err)
				}
				if h := fresh(t, p, lb).Holder(); h.Instance != me.Instance {
					t.Fatalf("marker after upgrade names %v", h)
				}
				// The marker is deleted out of band; the records match state.
				mk := fresh(t, p, lb).MarkerText()
				if _, err := p.DeleteRecords(ctx, testZone+".", []libdns.Record{libdns.TXT{Name: MarkerName(lb), Text: mk}}); err != nil {
					t.Fatal(err)
				}
				if err := newManager(t, p, "default").Ensure(ctx, testZone, lb, wrote, me); err != nil {
					t.Fatalf("lost marker: %v", err)
				}
				if s := fresh(t, p, lb); s.MarkerText() != mk || !slices.Equal(values(s.Of("A")), []string{"127.0.0.43"}) {
					t.Fatalf("after repair: %+v", s)
				}
				_ = m.Release(ctx, testZone, lb, me)
			})

			t.Run("names beneath a delegation are refused", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				api := names(t, "deleg-")
				b.putForeign(t, Record{Name: api, Type: "NS", TTL: 300, Value: "ns.elsewhere.example.net."})
				for _, c := range []struct{ name, rtype string }{{"x." + api, "NS"}, {"lb." + api, "A"}} {
					err := m.Check(ctx, testZone, c.name, []string{c.rtype}, EnsureOptions{})
					var conflict *ConflictError
					if !errors.As(err, &conflict) || !strings.Contains(err.Error(), "beneath the delegation of "+api+".example.test.") {
						t.Fatalf("%s %s: %v", c.name, c.rtype, err)
					}
				}
				// A delegation over an existing one is refused too.
				over := names(t, "over-")
				b.putForeign(t, Record{Name: "in." + over, Type: "NS", TTL: 300, Value: "ns.elsewhere.example.net."})
				err := newManager(t, p, "default").Check(ctx, testZone, over, []string{"NS"}, EnsureOptions{})
				if !strings.Contains(fmt.Sprint(err), "in."+over+".example.test.") {
					t.Fatalf("delegation over a delegation: %v", err)
				}
			})

			t.Run("node leaves NS sets", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				two, one, foreign := names(t, "two-"), names(t, "one-"), names(t, "for-")
				lb := names(t, "lbgo-") + ".example.test."
				for name, set := range map[string][]string{two: {lb, "lb9.example.test."}, one: {lb}} {
					if err := m.Ensure(ctx, testZone, name, []RRSet{{Type: "NS", TTL: 300, Values: set}}, EnsureOptions{Instance: NewInstanceID()}); err != nil {
						t.Fatal(err)
					}
				}
				b.putForeign(t, Record{Name: foreign, Type: "NS", TTL: 300, Value: lb})
				m = newManager(t, p, "default") // a new run, after the foreign write
				refs, err := m.Referrals(ctx, testZone, lb)
				if err != nil || len(refs) != 3 {
					t.Fatalf("referrals of %s: %+v %v", lb, refs, err)
				}
				if err := m.RemoveNameserver(ctx, testZone, two, lb); err != nil {
					t.Fatal(err)
				}
				if got := values(fresh(t, p, two).Of("NS")); !slices.Equal(got, []string{"lb9.example.test."}) {
					t.Fatalf("NS set after leaving: %v", got)
				}
				var last *LastNameserverError
				if err := m.RemoveNameserver(ctx, testZone, one, lb); !errors.As(err, &last) {
					t.Fatalf("last member: %v", err)
				}
				var held *HeldError
				if err := m.RemoveNameserver(ctx, testZone, foreign, lb); !errors.As(err, &held) {
					t.Fatalf("foreign NS set: %v", err)
				}
				if got := values(fresh(t, p, one).Of("NS")); !slices.Equal(got, []string{lb}) {
					t.Fatalf("last member removed: %v", got)
				}
			})

			t.Run("concurrent calls", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				var wg sync.WaitGroup
				errs := make(chan error, 6)
				for i := range 6 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs <- m.Ensure(ctx, testZone, fmt.Sprintf("%s%d", names(t, "c-"), i),
							[]RRSet{{Type: "A", TTL: 300, Values: []string{fmt.Sprintf("127.0.1.%d", i+1)}}}, EnsureOptions{})
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				for i := range 6 {
					n := fmt.Sprintf("%s%d", names(t, "c-"), i)
					if got := values(fresh(t, p, n).Of("A")); !slices.Equal(got, []string{fmt.Sprintf("127.0.1.%d", i+1)}) {
						t.Fatalf("%s: %v", n, got)
					}
					_ = m.Release(ctx, testZone, n, EnsureOptions{Wrote: []RRSet{{Type: "A", Values: []string{fmt.Sprintf("127.0.1.%d", i+1)}}}})
				}
			})

			t.Run("context timeout", func(t *testing.T) {
				m := newManager(t, b.slowProvider(t), "default")
				tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
				start := time.Now()
				err := m.Ensure(tctx, testZone, "timeout", []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.11"}}}, EnsureOptions{})
				if err == nil || time.Since(start) > 1500*time.Millisecond {
					t.Fatalf("took %s, err %v", time.Since(start), err)
				}
			})

			if b.faults == nil {
				return // a real server cannot be made to fail on demand
			}
			t.Run("rate-limit storm", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				b.faults.Inject(faults.Fault{Count: 6, Status: http.StatusTooManyRequests, Code: "971", RetryAfter: 0})
				if b.name == "route53-emulator" {
					b.faults.Clear()
					b.faults.Inject(faults.Fault{Count: 6, Status: http.StatusBadRequest, Code: "Throttling"})
				}
				lb := names(t, "rl-")
				if err := m.Ensure(ctx, testZone, lb, []RRSet{{Type: "A", TTL: 300, Values: []string{"127.0.0.31"}}}, EnsureOptions{}); err != nil {
					t.Fatalf("through a storm of 6 rate-limit answers: %v", err)
				}
				if got := values(fresh(t, p, lb).Of("A")); !slices.Equal(got, []string{"127.0.0.31"}) {
					t.Fatalf("after storm: %v", got)
				}
				_ = m.Release(ctx, testZone, lb, EnsureOptions{Wrote: []RRSet{{Type: "A", Values: []string{"127.0.0.31"}}}})
			})

			t.Run("failure in the middle of a change converges", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				api := names(t, "mid-")
				// Fail the next writes twice with 5xx; where the marker is
				// its own write, let it through first.
				b.faults.Inject(faults.Fault{Method: "POST", PathSuffix: b.writePath, Skip: separateMarker(p), Count: 2, Status: 502, Code: "InternalFailure"})
				want := []string{"lb1.example.test.", "lb2.example.test.", "lb3.example.test."}
				if err := m.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 300, Values: want}}, EnsureOptions{}); err != nil {
					t.Fatalf("retries did not converge: %v", err)
				}
				if s := fresh(t, p, api); s.Holder().Owner != "default" || !slices.Equal(values(s.Of("NS")), want) {
					t.Fatalf("after mid-change failures: %+v", s)
				}
				_ = m.Release(ctx, testZone, api, EnsureOptions{Wrote: []RRSet{{Type: "NS", Values: want}}})
			})

			t.Run("persistent failure leaves a known state and a clear error", func(t *testing.T) {
				p := b.newProvider(t)
				m := newManager(t, p, "default")
				api := names(t, "broken-")
				b.faults.Inject(faults.Fault{Method: "POST", PathSuffix: b.writePath, Skip: separateMarker(p), Count: 1000, Status: 500, Code: "InternalFailure"})
				err := m.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 300, Values: []string{"lb1.example.test."}}}, EnsureOptions{})
				b.faults.Clear()
				if err == nil || !strings.Contains(err.Error(), "NS records at "+api+".example.test.") {
					t.Fatalf("error %v does not say what failed", err)
				}
				// One atomic change left nothing; a separate marker went in
				// without the NS set: the name is ours and empty, which the
				// next run adopts and completes.
				s := fresh(t, p, api)
				if _, atomic := p.(Changer); atomic && (s.Marked() || len(s.Records) != 0) {
					t.Fatalf("state after a failed atomic change: %+v", s)
				} else if !atomic && (s.Holder().Owner != "default" || len(s.Records) != 0) {
					t.Fatalf("state after failure: %+v", s)
				}
				if err := m.Ensure(ctx, testZone, api, []RRSet{{Type: "NS", TTL: 300, Values: []string{"lb1.example.test."}}}, EnsureOptions{}); err != nil {
					t.Fatal(err)
				}
				_ = m.Release(ctx, testZone, api, EnsureOptions{Wrote: []RRSet{{Type: "NS", Values: []string{"lb1.example.test."}}}})
			})
		})
	}
}

// separateMarker is how many writes come before a name's NS set: none
// where marker and set go in one atomic change (Changer), else the
// marker's own.
func separateMarker(p Backend) int {
	if _, atomic := p.(Changer); atomic {
		return 0
	}
	return 1
}

// libdnsOnly hides every optional interface of a backend (Changer,
// WriteProber): only the libdns methods remain.
type libdnsOnly struct{ Backend }
