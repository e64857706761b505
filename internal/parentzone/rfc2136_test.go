package parentzone

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libdns/libdns"

	"github.com/pmgtm/terraform-provider-pmgtm/internal/testutil/bind"
)

func rfc2136For(t *testing.T, server, keyName, secret string) Backend {
	t.Helper()
	p, err := NewRFC2136(RFC2136Config{Server: server, KeyName: keyName, KeySecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRFC2136Config(t *testing.T) {
	p, err := NewRFC2136(RFC2136Config{Server: "192.0.2.53", KeyName: "k", KeySecret: "c2VjcmV0"})
	if err != nil || p.(*rfc2136Backend).server != "192.0.2.53:53" {
		t.Fatalf("server without a port: %v %+v", err, p)
	}
	if p, _ := NewRFC2136(RFC2136Config{Server: "2001:db8::53", KeyName: "k", KeySecret: "c2VjcmV0"}); p.(*rfc2136Backend).server != "[2001:db8::53]:53" {
		t.Fatalf("IPv6 server without a port: %+v", p)
	}
	for _, c := range []struct {
		cfg  RFC2136Config
		attr string
	}{
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "not base64!"}, "key_secret"},
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "c2VjcmV0", KeyAlgorithm: "hmac-md5"}, "key_algorithm"},
		{RFC2136Config{KeyName: "k", KeySecret: "c2VjcmV0"}, "server"},
		{RFC2136Config{Server: "ns1:53", KeyName: "bad key", KeySecret: "c2VjcmV0"}, "key_name"},
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "c2VjcmV0", TransferKeyName: "x"}, "transfer_key_secret"},
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "c2VjcmV0", TransferKeySecret: "c2VjcmV0"}, "transfer_key_name"},
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "c2VjcmV0", TransferKeyName: "x", TransferKeySecret: "no!"}, "transfer_key_secret"},
		{RFC2136Config{Server: "ns1:53", KeyName: "k", KeySecret: "c2VjcmV0", TransferKeyName: "x", TransferKeySecret: "c2VjcmV0", TransferKeyAlgorithm: "md5"}, "transfer_key_algorithm"},
	} {
		_, err := NewRFC2136(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Attribute != c.attr {
			t.Errorf("%+v: %v, want a ConfigError on %s", c.cfg, err, c.attr)
		}
	}
}

// TestRFC2136AuthErrors: each way the server turns pmgtm down has its own
// message naming the setting to fix, and is never retried.
func TestRFC2136AuthErrors(t *testing.T) {
	ctx := context.Background()
	srv := bind.Start(t, bind.Options{Zone: testZone})
	readOnly := bind.Start(t, bind.Options{Zone: testZone, ReadOnlyKey: true})
	twoKeys := bind.Start(t, bind.Options{Zone: testZone, TransferKey: true})
	wrong := make([]byte, 32)
	_, _ = rand.Read(wrong)
	withTransfer := func(name, secret string) Backend {
		t.Helper()
		p, err := NewRFC2136(RFC2136Config{Server: twoKeys.Addr, KeyName: twoKeys.KeyName, KeySecret: twoKeys.KeySecret, TransferKeyName: name, TransferKeySecret: secret})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name      string
		p         Backend
		zone      string
		write     bool
		attr, msg string
	}{
		{"wrong secret", rfc2136For(t, srv.Addr, srv.KeyName, base64.StdEncoding.EncodeToString(wrong)), testZone, false, "key_secret", "BADSIG"},
		{"unknown key", rfc2136For(t, srv.Addr, "no-such-key.", srv.KeySecret), testZone, false, "key_name", "BADKEY"},
		{"zone typo", rfc2136For(t, srv.Addr, srv.KeyName, srv.KeySecret), "example.tset", false, "server", "does not serve zone example.tset."},
		{"update policy", rfc2136For(t, readOnly.Addr, readOnly.KeyName, readOnly.KeySecret), testZone, true, "key_name", "REFUSED"},
		// A server with a key for updates and another for transfers.
		{"update key cannot transfer", rfc2136For(t, twoKeys.Addr, twoKeys.KeyName, twoKeys.KeySecret), testZone, false, "key_name", "allow key pmgtm-test. to transfer"},
		{"transfer key wrong", withTransfer(twoKeys.TransferKeyName, base64.StdEncoding.EncodeToString(wrong)), testZone, false, "transfer_key_secret", "BADSIG"},
		{"transfer key unknown", withTransfer("no-such-key.", twoKeys.TransferKeySecret), testZone, false, "transfer_key_name", "BADKEY"},
		{"keys swapped", rfc2136For(t, twoKeys.Addr, twoKeys.TransferKeyName, twoKeys.TransferKeySecret), testZone, true, "key_name", "REFUSED"},
	}
	for _, c := range cases {
		var err error
		if prober, ok := c.p.(WriteProber); c.write && ok {
			err = prober.ProbeWrite(ctx, c.zone)
		} else if c.write {
			t.Fatalf("%s: the RFC 2136 backend cannot probe writes", c.name)
		} else {
			_, err = c.p.GetRecords(ctx, c.zone)
		}
		var auth *AuthError
		if !errors.As(err, &auth) || auth.Attribute != c.attr || !strings.Contains(err.Error(), c.msg) || Retryable(err) {
			t.Errorf("%s: %v; want an AuthError on %s mentioning %s", c.name, err, c.attr, c.msg)
		}
	}
	// Both keys right: reads and a write work, and the write reads back.
	p := withTransfer(twoKeys.TransferKeyName, twoKeys.TransferKeySecret)
	rec := []libdns.Record{libdns.Address{Name: "two-keys", TTL: 300 * time.Second, IP: netip.MustParseAddr("127.0.0.78")}}
	if _, err := p.AppendRecords(ctx, testZone, rec); err != nil {
		t.Fatalf("write with two keys: %v", err)
	}
	if recs, err := p.GetRecords(ctx, testZone); err != nil || !slices.ContainsFunc(recs, func(r libdns.Record) bool { return r.RR().Name == "two-keys" }) {
		t.Fatalf("read with the transfer key: %v", err)
	}
	// The manager's plan-time check reports the refused update policy.
	m := newManager(t, cases[3].p, "default")
	if err := m.Check(ctx, testZone, "api", []string{"NS"}, EnsureOptions{}); !strings.Contains(Err(err), "REFUSED") {
		t.Errorf("plan-time check with a read-only key: %v", err)
	}
}

// Err is err's text, or "".
func Err(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRFC2136AnswersVerified: an UPDATE answered by something other than
// the server fails, whether the answer is unsigned or signed but the change
// never happened; the zone is unchanged.
func TestRFC2136AnswersVerified(t *testing.T) {
	ctx := context.Background()
	srv := bind.Start(t, bind.Options{Zone: testZone})
	rec := []libdns.Record{libdns.Address{Name: "spoofed", TTL: 300 * time.Second, IP: netip.MustParseAddr("127.0.0.77")}}
	for _, c := range []struct {
		name, secret, msg string
	}{
		{"unsigned answer", "", "is not signed"},
		{"signed answer, no change", srv.KeySecret, "was not added"},
	} {
		p := rfc2136For(t, bind.FrontProxy(t, srv.Addr, c.secret), srv.KeyName, srv.KeySecret)
		if _, err := p.GetRecords(ctx, testZone); err != nil {
			t.Fatalf("%s: reads pass through: %v", c.name, err)
		}
		_, err := p.AppendRecords(ctx, testZone, rec)
		if !strings.Contains(Err(err), c.msg) {
			t.Errorf("%s: %v; want an error mentioning %q", c.name, err, c.msg)
		}
	}
	direct := rfc2136For(t, srv.Addr, srv.KeyName, srv.KeySecret)
	recs, err := direct.GetRecords(ctx, testZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.RR().Name == "spoofed" {
			t.Fatalf("the zone changed: %+v", r.RR())
		}
	}
	// And the real server, for contrast: the write lands and reads back.
	if _, err := direct.AppendRecords(ctx, testZone, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := direct.DeleteRecords(ctx, testZone, rec); err != nil {
		t.Fatal(err)
	}
}
