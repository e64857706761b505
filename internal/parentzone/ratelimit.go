package parentzone

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// RateLimit is a host's request budget as the client spends it: Burst
// requests at once, then one every Every. Any window of length W then holds
// at most Burst + W/Every requests, which is how the defaults below stay
// inside each host's documented limit by design rather than by retrying
// its refusals.
type RateLimit struct {
	Every time.Duration
	Burst int
}

var (
	// Route53Limit: 5 requests per second per account. One request every
	// 200 ms with no burst never puts 6 in one second.
	Route53Limit = RateLimit{Every: 200 * time.Millisecond, Burst: 1}
	// CloudflareLimit: 1,200 requests per 5 minutes per user. A burst of
	// 200, then one every 300 ms (1,000 per 5 minutes), never exceeds it.
	CloudflareLimit = RateLimit{Every: 300 * time.Millisecond, Burst: 200}
)

// NoRateLimit turns the client's own budget off (tests that exercise the
// host's refusals, and hosts without a published limit).
var NoRateLimit = RateLimit{Every: -1}

// WaitFunc is told of each wait for the budget (to log it).
type WaitFunc func(ctx context.Context, waited time.Duration)

// limiter is a token bucket shared by every request made with one
// account's credentials in this process.
type limiter struct {
	limit RateLimit
	now   func() time.Time
	mu    sync.Mutex
	// next is when the bucket is full again minus what is left: a request
	// at t may go at max(t, next - (Burst-1)*Every), and moves next on by
	// Every.
	next time.Time
}

// reserve books a slot and returns how long to wait for it.
func (l *limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	earliest := l.next.Add(-time.Duration(l.limit.Burst-1) * l.limit.Every)
	at := now
	if earliest.After(now) {
		at = earliest
	}
	if l.next.Before(at) {
		l.next = at
	}
	l.next = l.next.Add(l.limit.Every)
	return at.Sub(now)
}

// wait blocks until the request may go, or ctx ends.
func (l *limiter) wait(ctx context.Context) (time.Duration, error) {
	d := l.reserve()
	if d <= 0 {
		return 0, nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return d, nil
	case <-ctx.Done():
		return d, ctx.Err()
	}
}

// account names one host's account by a hash of its credential, so that
// the table of limiters holds no secret.
func account(host, credential string) string {
	sum := sha256.Sum256([]byte(credential))
	return host + ":" + hex.EncodeToString(sum[:8])
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

// sharedLimiter returns the process's limiter for one account of one
// host: every provider block, resource and request with the same
// credentials draws on the same budget, as the host counts it.
func sharedLimiter(account string, limit RateLimit) *limiter {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	l := limiters[account]
	if l == nil || l.limit != limit {
		l = &limiter{limit: limit, now: time.Now}
		limiters[account] = l
	}
	return l
}

// limitedTransport makes each HTTP request wait for the budget first.
type limitedTransport struct {
	base   http.RoundTripper
	limit  *limiter
	onWait WaitFunc
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limit.admit(req, t.onWait); err != nil {
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// admit waits for req's slot and tells onWait how long that took.
func (l *limiter) admit(req *http.Request, onWait WaitFunc) error {
	waited, err := l.wait(req.Context())
	if waited > 0 && onWait != nil {
		onWait(req.Context(), waited)
	}
	return err
}

// limitedDoer is limitedTransport for a client given as its Do method
// (the AWS SDK's).
type limitedDoer struct {
	base interface {
		Do(*http.Request) (*http.Response, error)
	}
	limit  *limiter
	onWait WaitFunc
}

func (d *limitedDoer) Do(req *http.Request) (*http.Response, error) {
	if err := d.limit.admit(req, d.onWait); err != nil {
		return nil, err
	}
	return d.base.Do(req)
}

// limitedClient returns hc (or a default client) whose requests wait for
// the account's budget.
func limitedClient(hc *http.Client, account string, limit RateLimit, onWait WaitFunc) *http.Client {
	if limit.Every <= 0 {
		return hc
	}
	if limit.Burst < 1 {
		limit.Burst = 1
	}
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &limitedTransport{base: base, limit: sharedLimiter(account, limit), onWait: onWait}
	return &c
}
