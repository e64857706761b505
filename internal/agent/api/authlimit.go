package api

import (
	"net/netip"
	"sync"
	"time"
)

// authLimit blocks a client address for a while after repeated failed
// authentications, so the token cannot be guessed at network speed. Its
// table is bounded: when full, entries that block nobody go first (expired
// ones, then those with the fewest failures); a blocked client is never
// evicted before its block ends, so failures from many other addresses
// cannot churn it free. When every entry blocks someone, a new address is
// not tracked until one expires (memory stays bounded either way).
type authLimit struct {
	mu      sync.Mutex
	now     func() time.Time
	max     int           // failures within window that block
	window  time.Duration // how long failures are remembered
	block   time.Duration // how long a client is blocked
	size    int
	clients map[netip.Addr]*authFailures
}

type authFailures struct {
	count        int
	first        time.Time
	blockedUntil time.Time
}

func newAuthLimit(now func() time.Time) *authLimit {
	return &authLimit{now: now, max: 10, window: time.Minute, block: time.Minute, size: 4096, clients: map[netip.Addr]*authFailures{}}
}

// blocked reports whether client is blocked now, and for how long.
func (l *authLimit) blocked(client netip.Addr) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.clients[client]
	if f == nil {
		return false, 0
	}
	if left := f.blockedUntil.Sub(l.now()); left > 0 {
		return true, left
	}
	return false, 0
}

// fail records a failed authentication; it reports whether the client is
// now blocked.
func (l *authLimit) fail(client netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	f := l.clients[client]
	if f == nil || now.Sub(f.first) > l.window && !now.Before(f.blockedUntil) {
		if f == nil && len(l.clients) >= l.size && !l.evict(now) {
			return false // full of blocked clients: this one is not tracked
		}
		f = &authFailures{first: now}
		l.clients[client] = f
	}
	f.count++
	if f.count >= l.max {
		f.blockedUntil = now.Add(l.block)
		f.count, f.first = 0, now
		return true
	}
	return false
}

// evict frees a slot, never one of a client that is blocked now; it
// reports whether it could.
func (l *authLimit) evict(now time.Time) bool {
	var victim netip.Addr
	found, fewest := false, 0
	for a, f := range l.clients {
		if now.Before(f.blockedUntil) {
			continue
		}
		if now.Sub(f.first) > l.window {
			delete(l.clients, a) // expired
			return true
		}
		if !found || f.count < fewest {
			victim, fewest, found = a, f.count, true
		}
	}
	if found {
		delete(l.clients, victim)
	}
	return found
}
