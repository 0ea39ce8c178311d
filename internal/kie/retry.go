package kie

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// failClass says what a failed attempt proves about the request.
type failClass int

const (
	failNone      failClass = iota
	failNotSent             // provably never reached the server (refused connection, DNS failure)
	failRefused             // refused before acceptance (429, 455)
	failTransient           // outcome unknown or server fault: 5xx, timeouts, resets, unusable answers
	failPermanent           // a definite answer that repeating will not change
	failCanceled            // the caller's context ended before the request was sent
)

// sleep waits d on the clock or until ctx ends.
func sleep(ctx context.Context, clk Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-clk.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the delay before retry number attempt (1-based): the server's Retry-After when given
// (capped), else exponential with jitter so that parallel callers spread out.
func (p RetryPolicy) backoff(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxRetryAfter)
	}
	d := p.BaseDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	return half + rand.N(half+1)
}

// parseRetryAfter reads a Retry-After value (seconds or an HTTP date) relative to now, capped.
func parseRetryAfter(v string, now time.Time, limit time.Duration) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || secs < 0 {
			return 0, false
		}
		if secs > limit.Seconds() {
			return limit, true
		}
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, 0), limit), true
}

// retryLoop runs attempt until it succeeds, fails in a way retry rejects, the attempts run out or
// ctx ends. A retryAfter from the attempt overrides the backoff.
func (c *Client) retryLoop(ctx context.Context, what string, retry func(failClass) bool,
	attempt func(n int) (failClass, time.Duration, error)) error {
	for n := 1; ; n++ {
		cls, retryAfter, err := attempt(n)
		if err == nil {
			return nil
		}
		if cls == failCanceled || !retry(cls) {
			return err
		}
		if n >= c.retry.MaxAttempts {
			return fmt.Errorf("giving up after %d attempts: %w", n, err)
		}
		if serr := sleep(ctx, c.clock, c.retry.backoff(n, retryAfter)); serr != nil {
			return fmt.Errorf("%s: %w while waiting to retry; last error: %w", what, serr, err)
		}
	}
}
