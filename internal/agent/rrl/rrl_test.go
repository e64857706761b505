package rrl

import (
	"net/netip"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRateSlipAndRecovery(t *testing.T) {
	c := &clock{t: time.Unix(1_764_000_000, 0)}
	l := New(Config{Rate: 10, Slip: 2}, c.now)
	attacker := netip.MustParseAddr("198.51.100.7")
	neighbour := netip.MustParseAddr("198.51.100.200") // same /24
	other := netip.MustParseAddr("203.0.113.9")
	counts := map[Action]int{}
	for i := 0; i < 1000; i++ { // 1000 answers in one instant
		counts[l.Allow(attacker, 1, ClassAnswer)]++
	}
	// One second of burst at 10/s lets about 10 through; of the rest, every
	// second one slips.
	if counts[Send] < 10 || counts[Send] > 12 || counts[Slip] < 490 || counts[Slip] > 496 || counts[Drop] != 1000-counts[Send]-counts[Slip] {
		t.Fatalf("flood outcomes %v", counts)
	}
	if a := l.Allow(neighbour, 1, ClassAnswer); a == Send {
		t.Fatal("a client in the flooded /24 shares its limit")
	}
	if a := l.Allow(other, 1, ClassAnswer); a != Send {
		t.Fatalf("another prefix was limited: %v", a)
	}
	if a := l.Allow(attacker, 2, ClassAnswer); a != Send {
		t.Fatal("another zone shares the limit")
	}
	if a := l.Allow(attacker, 1, ClassRefused); a != Send {
		t.Fatal("another class shares the limit")
	}
	c.t = c.t.Add(3 * time.Second) // the flood stops; credit returns
	if a := l.Allow(attacker, 1, ClassAnswer); a != Send {
		t.Fatalf("after the flood: %v", a)
	}
	if l.Dropped.Load() == 0 || l.Slipped.Load() == 0 {
		t.Fatal("counters not kept")
	}
}

func TestSteadyRateWithinLimitPasses(t *testing.T) {
	c := &clock{t: time.Unix(1_764_000_000, 0)}
	l := New(Config{Rate: 100, Slip: 2}, c.now)
	client := netip.MustParseAddr("2001:db8::1")
	for i := 0; i < 10_000; i++ { // 100 s at 99 answers per second
		c.t = c.t.Add(time.Second / 99)
		if a := l.Allow(client, 7, ClassAnswer); a != Send {
			t.Fatalf("answer %d at 99/s limited (%v)", i, a)
		}
	}
}

func TestExemptAndDisabled(t *testing.T) {
	l := New(Config{Rate: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, nil)
	for i := 0; i < 100; i++ {
		if l.Allow(netip.MustParseAddr("127.0.0.5"), 1, ClassAnswer) != Send {
			t.Fatal("exempt client limited")
		}
	}
	off := New(Config{Rate: 0}, nil)
	if off != nil || off.Allow(netip.MustParseAddr("192.0.2.1"), 1, 0) != Send {
		t.Fatal("rate 0 must disable limiting")
	}
}

func TestBoundedMemoryUnderRandomClients(t *testing.T) {
	l := New(Config{Rate: 5, Slots: 1024}, nil)
	for i := 0; i < 200_000; i++ { // many prefixes: the table never grows
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(a, uint64(i%7), ClassAnswer)
	}
	if len(l.slots) != 1024 || cap(l.slots) != 1024 {
		t.Fatalf("table grew to %d", len(l.slots))
	}
}

func BenchmarkAllow(b *testing.B) {
	l := New(Config{Rate: 1_000_000_000, Slip: 2}, nil)
	a := netip.MustParseAddr("198.51.100.7")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Allow(a, 42, ClassAnswer)
	}
}

// unkeyedSlot is the slot an attacker could compute for a /24 if the hash
// had no secret seed (FNV-1a over prefix, zone and class, as pmgtm once did).
func unkeyedSlot(p netip.Addr, zone uint64, class uint8, slots int) uint64 {
	a := netip.PrefixFrom(p, 24).Masked().Addr().As16()
	h := uint64(14695981039346656037)
	mix := func(b byte) { h = (h ^ uint64(b)) * 1099511628211 }
	for _, b := range a {
		mix(b)
	}
	for i := 0; i < 8; i++ {
		mix(byte(zone >> (8 * i)))
	}
	mix(class)
	return h % uint64(slots)
}

// TestCollidingPrefixStaysLimited: a flood alternating between two
// prefixes precomputed to share a slot (each one resetting the other's
// count) is limited like any other: the slot hash is keyed per process.
func TestCollidingPrefixStaysLimited(t *testing.T) {
	c := &clock{t: time.Unix(1_764_000_000, 0)}
	l := New(Config{Rate: 10, Slip: 0}, c.now)
	seen := map[uint64]netip.Addr{}
	var a, b netip.Addr
	for i := 0; i < 1<<16 && !b.IsValid(); i++ {
		p := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})
		s := unkeyedSlot(p, 1, ClassAnswer, len(l.slots))
		if q, ok := seen[s]; ok {
			a, b = q, p
		}
		seen[s] = p
	}
	if !b.IsValid() {
		t.Fatal("no colliding pair found")
	}
	sent := 0
	for i := 0; i < 3000; i++ {
		from := a
		if i%2 == 1 {
			from = b
		}
		if l.Allow(from, 1, ClassAnswer) == Send {
			sent++
		}
	}
	// Two prefixes at 10/s with one second of burst: about 22 answers.
	if sent > 30 {
		t.Fatalf("%d of 3000 answers to two colliding prefixes were sent; the limit did not hold", sent)
	}
}
