package connlimit

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Limiter tracks admitted connections.
type Limiter struct {
	Max       int // all connections; 0: no cap
	PerSource int // connections per source prefix; 0: no cap
	// IPv4Prefix and IPv6Prefix group sources (default /32 and /64).
	IPv4Prefix, IPv6Prefix int

	mu       sync.Mutex
	conns    map[net.Conn]*entry
	bySource map[netip.Prefix]int
	now      func() time.Time
}

type entry struct {
	source    netip.Prefix
	busy      bool
	idleSince time.Time
}

// Admit decides on a newly accepted connection. When a cap is reached it
// closes the oldest idle connection (of the same source when the source is
// at its cap) to make room; when there is none, it reports false and the
// caller closes c.
func (l *Limiter) Admit(c net.Conn) bool {
	src := l.source(c)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		l.conns, l.bySource = map[net.Conn]*entry{}, map[netip.Prefix]int{}
	}
	if l.PerSource > 0 && l.bySource[src] >= l.PerSource && !l.evict(func(e *entry) bool { return e.source == src }) {
		return false
	}
	if l.Max > 0 && len(l.conns) >= l.Max && !l.evict(func(*entry) bool { return true }) {
		return false
	}
	l.conns[c] = &entry{source: src, idleSince: l.clock()}
	l.bySource[src]++
	return true
}

// evict closes the oldest idle connection that match accepts and forgets
// it. Callers hold mu.
func (l *Limiter) evict(match func(*entry) bool) bool {
	var victim net.Conn
	var oldest time.Time
	for c, e := range l.conns {
		if e.busy || !match(e) {
			continue
		}
		if victim == nil || e.idleSince.Before(oldest) {
			victim, oldest = c, e.idleSince
		}
	}
	if victim == nil {
		return false
	}
	l.forget(victim)
	_ = victim.Close()
	return true
}

// Busy marks c as serving a request: it is not evicted until Idle.
func (l *Limiter) Busy(c net.Conn) { l.mark(c, true) }

// Idle marks c as waiting for its next request.
func (l *Limiter) Idle(c net.Conn) { l.mark(c, false) }

func (l *Limiter) mark(c net.Conn, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.conns[c]; e != nil {
		e.busy = busy
		if !busy {
			e.idleSince = l.clock()
		}
	}
}

// Release forgets c (closed by its server, or evicted already).
func (l *Limiter) Release(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.forget(c)
}

func (l *Limiter) forget(c net.Conn) {
	e := l.conns[c]
	if e == nil {
		return
	}
	delete(l.conns, c)
	if l.bySource[e.source]--; l.bySource[e.source] <= 0 {
		delete(l.bySource, e.source)
	}
}

// Len is the number of admitted connections.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

func (l *Limiter) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

func (l *Limiter) source(c net.Conn) netip.Prefix {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Prefix{}
	}
	a := ap.Addr().Unmap()
	bits := l.IPv6Prefix
	if bits <= 0 {
		bits = 64
	}
	if a.Is4() {
		bits = l.IPv4Prefix
		if bits <= 0 {
			bits = 32
		}
	}
	p, _ := a.Prefix(bits)
	return p
}

// Listener admits each accepted connection through a Limiter; refused ones
// are closed at once, so they hold no descriptor. The server marks them
// busy and idle (for HTTP, with ConnState) and releases them.
type Listener struct {
	net.Listener
	Limit *Limiter
}

// Accept returns the next admitted connection.
func (ln Listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ln.Limit.Admit(c) {
			return c, nil
		}
		_ = c.Close()
	}
}
