package rrl

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Action is what to do with an answer.
type Action uint8

const (
	Send Action = iota // within the rate
	Slip               // over the rate: send it truncated (TC=1, no records)
	Drop               // over the rate: send nothing
)

// Response classes: limits apply to each separately, as in BIND.
const (
	ClassAnswer  = iota // NOERROR with records
	ClassNoData         // NOERROR without records
	ClassRefused        // names outside every zone
	ClassError          // FORMERR, SERVFAIL, NOTIMP, BADVERS
)

// Config of a limiter.
type Config struct {
	Rate       int // answers per second per client prefix, zone and class; 0 disables
	Slip       int // every Slip-th limited answer is sent truncated; 0 never, 1 always
	IPv4Prefix int // bits of an IPv4 client address that make its prefix (24)
	IPv6Prefix int // likewise for IPv6 (56)
	Slots      int // table size (65536)
	Exempt     []netip.Prefix
}

// Limiter is safe for concurrent use.
type Limiter struct {
	cfg      Config
	interval int64 // ns between answers at the rate
	burst    int64 // ns of credit: one second's worth of answers
	now      func() int64
	slots    []slot
	seed     maphash.Seed // keys the slot hash per process
	locks    [64]paddedMutex
	Dropped  atomic.Uint64
	Slipped  atomic.Uint64
}

type paddedMutex struct {
	sync.Mutex
	_ [56]byte // one cache line each: the UDP readers run on different CPUs
}

// slot is one bucket, as a GCRA: tat is the theoretical arrival time of
// the next answer; an answer is over the rate when tat is more than a
// burst ahead of now.
type slot struct {
	key     uint64
	tat     int64
	limited uint32
}

// New returns a limiter, or nil when cfg.Rate is 0 (Allow on nil sends).
func New(cfg Config, now func() time.Time) *Limiter {
	if cfg.Rate <= 0 {
		return nil
	}
	if cfg.IPv4Prefix <= 0 || cfg.IPv4Prefix > 32 {
		cfg.IPv4Prefix = 24
	}
	if cfg.IPv6Prefix <= 0 || cfg.IPv6Prefix > 128 {
		cfg.IPv6Prefix = 56
	}
	if cfg.Slots <= 0 {
		cfg.Slots = 1 << 16
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{cfg: cfg, interval: int64(time.Second) / int64(cfg.Rate), burst: int64(time.Second),
		now: func() int64 { return now().UnixNano() }, slots: make([]slot, cfg.Slots), seed: maphash.MakeSeed()}
}

// Allow decides for one answer to client, of zone (a key per zone; 0 for
// none) and class.
func (l *Limiter) Allow(client netip.Addr, zone uint64, class uint8) Action {
	if l == nil {
		return Send
	}
	client = client.Unmap()
	for _, p := range l.cfg.Exempt {
		if p.Contains(client) {
			return Send
		}
	}
	key := l.key(client, zone, class)
	i := key % uint64(len(l.slots))
	mu := &l.locks[i%uint64(len(l.locks))]
	now := l.now()
	mu.Lock()
	s := &l.slots[i]
	if s.key != key {
		// A new key takes the slot over: collisions forget, never block.
		*s = slot{key: key, tat: now}
	}
	tat := max(s.tat, now)
	if tat-now > l.burst {
		s.limited++
		n := s.limited
		mu.Unlock()
		if l.cfg.Slip > 0 && n%uint32(l.cfg.Slip) == 0 {
			l.Slipped.Add(1)
			return Slip
		}
		l.Dropped.Add(1)
		return Drop
	}
	s.tat = tat + l.interval
	mu.Unlock()
	return Send
}

// key hashes the client's prefix, the zone and the class with a seed made
// at start: an attacker who cannot compute the slot cannot aim a second
// prefix at a flooding one's slot to reset its count (collisions forget).
func (l *Limiter) key(client netip.Addr, zone uint64, class uint8) uint64 {
	bits := l.cfg.IPv6Prefix
	if client.Is4() {
		bits = l.cfg.IPv4Prefix
	}
	p, _ := client.Prefix(bits)
	var buf [16 + 8 + 1]byte
	a := p.Addr().As16()
	copy(buf[:16], a[:])
	binary.LittleEndian.PutUint64(buf[16:], zone)
	buf[24] = class
	h := maphash.Bytes(l.seed, buf[:])
	if h == 0 {
		h = 1 // 0 marks an empty slot
	}
	return h
}
