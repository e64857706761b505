package parentzone

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/aws/smithy-go"
)

// Backoff retries operations that failed for a passing reason: exponential
// delays with full jitter (so parallel Terraform operations do not retry in
// step), bounded in attempts and by the context's deadline.
type Backoff struct {
	Attempts int           // total tries; <= 1 means no retry
	Base     time.Duration // first delay ceiling
	Max      time.Duration // delay ceiling
}

// DefaultBackoff suits the hosting APIs: Route53 allows 5 requests per
// second per account, Cloudflare answers 429 when a token is too busy.
var DefaultBackoff = Backoff{Attempts: 8, Base: 250 * time.Millisecond, Max: 10 * time.Second}

// Retry runs fn until it succeeds, fails for good, the attempts run out or
// ctx ends. The last error is returned, wrapped with the context's error
// when that is what stopped it.
func (b Backoff) Retry(ctx context.Context, fn func() error) error { return b.retry(ctx, fn, nil) }

// retry is Retry that tells notify about each retry before its delay.
func (b Backoff) retry(ctx context.Context, fn func() error, notify func(attempt int, delay time.Duration, err error)) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = fn(); err == nil || !Retryable(err) || attempt+1 >= b.Attempts {
			return err
		}
		ceiling := b.Base << attempt
		if ceiling > b.Max || ceiling <= 0 {
			ceiling = b.Max
		}
		delay := time.Duration(rand.Int64N(int64(ceiling) + 1)) //nolint:gosec // jitter, not a secret
		if notify != nil {
			notify(attempt+1, delay, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Retryable reports whether err is worth another try: rate limits, server
// errors, timeouts and refused connections. Conflicts, bad credentials and
// invalid requests are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if Refused(err) {
		return false
	}
	var judged interface{ Retryable() bool }
	if errors.As(err, &judged) {
		return judged.Retryable()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "Throttling", "ThrottlingException", "PriorRequestNotComplete", "RequestLimitExceeded",
			"ServiceUnavailable", "InternalFailure", "InternalError":
			return true
		}
		return apiErr.ErrorFault() == smithy.FaultServer
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"HTTP 429", "HTTP 500", "HTTP 502", "HTTP 503", "HTTP 504", "connection refused",
		"connection reset", "SERVFAIL", "exceeded maximum number of attempts", "StatusCode: 5"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
