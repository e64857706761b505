package api

import (
	"net/netip"
	"sync"
	"time"
)

// authLimit blocks a client address for a while after repeated failed
// authentications, so the token cannot be guessed at network speed. Its
// table is bounded: when full, expired entries go, and if none has expired
// the table starts over (an attacker with many addresses then gains a
// window, never memory).
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
	if f == nil || now.Sub(f.first) > l.window {
		if f == nil && len(l.clients) >= l.size {
			l.evict(now)
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

func (l *authLimit) evict(now time.Time) {
	for a, f := range l.clients {
		if now.Sub(f.first) > l.window && now.After(f.blockedUntil) {
			delete(l.clients, a)
		}
	}
	if len(l.clients) >= l.size {
		l.clients = map[netip.Addr]*authFailures{}
	}
}
