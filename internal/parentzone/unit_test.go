package parentzone

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

func TestRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{errors.New("got error status: HTTP 429: [{971 Too Many Requests}]"), true},
		{errors.New("got error status: HTTP 502: [{0 Bad Gateway}]"), true},
		{errors.New("got error status: HTTP 400: [{81057 Record already exists.}]"), false},
		{&smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}, true},
		{&smithy.GenericAPIError{Code: "PriorRequestNotComplete"}, true},
		{&smithy.GenericAPIError{Code: "InvalidChangeBatch", Fault: smithy.FaultClient}, false},
		{fmt.Errorf("dns response error code %q (2)", "SERVFAIL"), true},
		{errors.New(`dns response error code "NOTAUTH" (9)`), false},
		{&ConflictError{Zone: "example.test", Name: "api"}, false},
		{context.DeadlineExceeded, false},
	}
	for _, c := range cases {
		if got := Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestBackoffStopsAtAttemptsAndDeadline(t *testing.T) {
	b := Backoff{Attempts: 4, Base: time.Millisecond, Max: 2 * time.Millisecond}
	calls := 0
	err := b.Retry(context.Background(), func() error { calls++; return errors.New("HTTP 503") })
	if calls != 4 || err == nil {
		t.Fatalf("%d calls, err %v", calls, err)
	}
	calls = 0
	_ = b.Retry(context.Background(), func() error { calls++; return errors.New("HTTP 400") })
	if calls != 1 {
		t.Fatalf("permanent error retried: %d calls", calls)
	}
	slow := Backoff{Attempts: 100, Base: time.Second, Max: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = slow.Retry(ctx, func() error { return errors.New("HTTP 503") })
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("after %s: %v", time.Since(start), err)
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	h := Holder{Owner: "team-a", Instance: NewInstanceID()}
	text := MarkerText(h, []string{"A", "AAAA"})
	if got, ok := ParseMarker(text); !ok || got != h {
		t.Fatalf("%q -> %+v %v", text, got, ok)
	}
	// An earlier release's marker has no instance id.
	if got, ok := ParseMarker("heritage=pmgtm,owner=default,types=NS"); !ok || got != (Holder{Owner: "default"}) {
		t.Fatalf("legacy marker -> %+v %v", got, ok)
	}
	if _, ok := ParseMarker("v=spf1 -all"); ok {
		t.Fatal("foreign TXT taken for a marker")
	}
	if MarkerName("api.eu") != "api.eu._pmgtm" || MarkerName("@") != "_pmgtm" {
		t.Fatal("marker names")
	}
	for _, bad := range []string{"", "has space", "comma,", "x=y"} {
		if ValidOwner(bad) == nil {
			t.Errorf("owner %q accepted", bad)
		}
	}
}

func TestConflictMessageNamesRecordsAndWayOut(t *testing.T) {
	err := &ConflictError{Zone: "example.com.", Name: "api", Reason: "records of the types pmgtm manages already exist",
		Records: []Record{{Name: "api", Type: "A", TTL: 300, Value: "192.0.2.1"}}}
	want := "api.example.com. in zone example.com. is not pmgtm's: records of the types pmgtm manages already exist; found:\n  api.example.com. 300 A 192.0.2.1"
	if msg := err.Error(); len(msg) < len(want) || msg[:len(want)] != want {
		t.Fatalf("message:\n%s", msg)
	}
}

// TestConflictAdviceFitsTheCase: adopt_existing is suggested only where it
// would clear the conflict (records of pmgtm's types at the name itself)
// and only when it is not set already.
func TestConflictAdviceFitsTheCase(t *testing.T) {
	m := &Manager{owner: "default"}
	a := Record{Name: "lb1", Type: "A", TTL: 300, Value: "192.0.2.1"}
	for _, c := range []struct {
		name    string
		records []Record
		at      string
		types   []string
		adopt   bool
		advice  bool // adopt_existing suggested
	}{
		{"foreign A at a node's name", []Record{a}, "lb1", []string{"A", "AAAA"}, false, true},
		{"a CNAME, adopt already set", []Record{{Name: "lb1", Type: "CNAME", TTL: 300, Value: "x.example.net."}}, "lb1", []string{"A", "AAAA"}, true, false},
		{"a CNAME beside the A", []Record{a, {Name: "lb1", Type: "CNAME", TTL: 300, Value: "x.example.net."}}, "lb1", []string{"A", "AAAA"}, false, false},
		{"data at a name to delegate, adopt set", []Record{{Name: "api", Type: "MX", TTL: 300, Value: "10 mail.example.net."}}, "api", []string{"NS"}, true, false},
		{"beneath a delegation", []Record{{Name: "api", Type: "NS", TTL: 300, Value: "ns.example.net."}}, "x.api", []string{"NS"}, false, false},
	} {
		err := m.checkConflicts("example.com.", c.at, stateAt(c.records, c.at), c.types, c.records, EnsureOptions{Adopt: c.adopt})
		var conflict *ConflictError
		if !errors.As(err, &conflict) {
			t.Errorf("%s: %v, want a conflict", c.name, err)
			continue
		}
		if got := strings.Contains(err.Error(), "adopt_existing"); got != c.advice {
			t.Errorf("%s: adopt_existing suggested %v, want %v:\n%v", c.name, got, c.advice, err)
		}
	}
	// With adopt_existing the node's own types are taken over: no conflict.
	if err := m.checkConflicts("example.com.", "lb1", stateAt([]Record{a}, "lb1"), []string{"A", "AAAA"}, []Record{a}, EnsureOptions{Adopt: true}); err != nil {
		t.Errorf("adopting a foreign A: %v", err)
	}
}

// TestTXTQuoting: text survives the quoted form both APIs use, quotes and
// backslashes included, split into 255-octet strings; unquoted values
// (records made by hand) read as themselves.
func TestTXTQuoting(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, text := range []string{"heritage=pmgtm,owner=a", `say "hi" \ back`, long, ""} {
		q := quoteTXT(text)
		if got := unquoteTXT(q); got != text {
			t.Errorf("%q: quoted %s, read back %q", text, q, got)
		}
	}
	if q := quoteTXT(long); !strings.Contains(q, `" "`) {
		t.Errorf("300 octets not split: %s", q)
	}
	if got := unquoteTXT("bare text"); got != "bare text" {
		t.Errorf("unquoted value read as %q", got)
	}
}
