package api

import (
	"net/netip"
	"testing"
	"time"
)

func TestAuthLimit(t *testing.T) {
	now := time.Unix(1_764_000_000, 0)
	l := newAuthLimit(func() time.Time { return now })
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	for i := 1; i < l.max; i++ {
		if l.fail(a) {
			t.Fatalf("blocked after %d failures", i)
		}
	}
	if !l.fail(a) {
		t.Fatal("not blocked after max failures")
	}
	if blocked, left := l.blocked(a); !blocked || left != time.Minute {
		t.Fatalf("blocked=%v left=%v", blocked, left)
	}
	if blocked, _ := l.blocked(b); blocked {
		t.Fatal("another client is blocked")
	}
	now = now.Add(61 * time.Second)
	if blocked, _ := l.blocked(a); blocked {
		t.Fatal("still blocked after the block time")
	}
	// Failures spread beyond the window never add up.
	for i := 0; i < 3*l.max; i++ {
		now = now.Add(7 * time.Second)
		if l.fail(b) {
			t.Fatalf("slow failures blocked the client at %d", i)
		}
	}
	// The table stays bounded under many addresses.
	l.size = 64
	for i := 0; i < 10_000; i++ {
		l.fail(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}))
	}
	if len(l.clients) > 64 {
		t.Fatalf("table grew to %d", len(l.clients))
	}
}
