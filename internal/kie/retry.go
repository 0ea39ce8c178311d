package kie

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
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

// gate spaces requests of one kind across the whole client: a token bucket plus a shared
// "not before" time that a 429 pushes out, so one rate-limited caller slows all of them.
type gate struct {
	mu        sync.Mutex
	lim       *rate.Limiter
	base      rate.Limit
	notBefore time.Time
	adaptive  bool           // also lower the rate on 429 and win it back on success
	window    *slidingWindow // when set, admits by window instead of the token bucket
}

func newGate(r rate.Limit, burst int, adaptive bool) *gate {
	return &gate{lim: rate.NewLimiter(r, max(burst, 1)), base: r, adaptive: adaptive}
}

// wait blocks until the gate lets one request through or ctx ends.
func (g *gate) wait(ctx context.Context, clk Clock) error {
	_, err := g.admit(ctx, clk)
	return err
}

// admit is wait for a request whose answer matters to the gate: call settle once the answer arrived or
// the request failed (see slidingWindow.admit). Only a windowed gate uses it.
func (g *gate) admit(ctx context.Context, clk Clock) (settle func(), err error) {
	for {
		g.mu.Lock()
		nb := g.notBefore
		g.mu.Unlock()
		now := clk.Now()
		if !now.Before(nb) {
			break
		}
		if err := sleep(ctx, clk, nb.Sub(now)); err != nil {
			return nil, err
		}
	}
	if g.window != nil {
		return g.window.admit(ctx, clk)
	}
	now := clk.Now()
	r := g.lim.ReserveN(now, 1)
	if !r.OK() {
		return nil, errors.New("rate limiter cannot grant a request")
	}
	if err := sleep(ctx, clk, r.DelayFrom(now)); err != nil {
		r.CancelAt(clk.Now())
		return nil, err
	}
	return func() {}, nil
}

// penalize records a 429: nobody passes before now+d, and an adaptive gate halves its rate.
func (g *gate) penalize(now time.Time, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if until := now.Add(d); until.After(g.notBefore) {
		g.notBefore = until
	}
	if g.adaptive && g.base != rate.Inf {
		g.lim.SetLimitAt(now, max(g.lim.Limit()/2, g.base/16))
	}
}

// reward wins back a tenth of the configured rate after a success.
func (g *gate) reward(now time.Time) {
	if !g.adaptive {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur := g.lim.Limit(); cur < g.base {
		g.lim.SetLimitAt(now, min(g.base, cur+g.base/10))
	}
}
