package kie

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// holdoff is a shared "nobody before" time that a refusal's Retry-After pushes out, so that one
// refused caller holds back every caller of its kind.
type holdoff struct {
	mu    sync.Mutex
	until time.Time
}

func (h *holdoff) extend(until time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if until.After(h.until) {
		h.until = until
	}
}

func (h *holdoff) remaining(now time.Time) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until.Sub(now)
}

func (h *holdoff) wait(ctx context.Context, clk Clock) error {
	for {
		h.mu.Lock()
		until := h.until
		h.mu.Unlock()
		now := clk.Now()
		if !now.Before(until) {
			return nil
		}
		if err := sleep(ctx, clk, until.Sub(now)); err != nil {
			return err
		}
	}
}

// Status queries: a 429 halves the rate, down to a sixteenth of the configured one, and answered
// queries win it back additively: over the time the configured rate needs for queryRecovery
// queries, the rate climbs by the whole configured rate.
const (
	queryDecrease = 0.5
	queryFloor    = 16
	queryRecovery = 100
)

// queryGate spaces status queries across the whole client with a token bucket whose rate follows
// KIE's answers (additive increase, multiplicative decrease), below the configured rate.
type queryGate struct {
	hold holdoff

	mu      sync.Mutex
	lim     *rate.Limiter
	base    rate.Limit
	lastCut time.Time
	latest  time.Time // the latest time given to lim
}

// at is now, or the latest time already given to the limiter when now is earlier; g.mu held. The limiter
// must only see time move forward: handed an earlier time (a caller that read the clock, then was
// descheduled while others went ahead), it moves its own clock back and later credits the same interval
// twice, letting a query through early.
func (g *queryGate) at(now time.Time) time.Time {
	if now.Before(g.latest) {
		return g.latest
	}
	g.latest = now
	return now
}

func newQueryGate(perSecond float64) *queryGate {
	r := rate.Limit(perSecond)
	return &queryGate{lim: rate.NewLimiter(r, 1), base: r}
}

// admit blocks until one query may go and returns the time it was let through.
func (g *queryGate) admit(ctx context.Context, clk Clock) (time.Time, error) {
	if err := g.hold.wait(ctx, clk); err != nil {
		return time.Time{}, err
	}
	g.mu.Lock()
	now := g.at(clk.Now())
	r := g.lim.ReserveN(now, 1)
	g.mu.Unlock()
	if !r.OK() {
		return time.Time{}, errors.New("rate limiter cannot grant a request")
	}
	if err := sleep(ctx, clk, r.DelayFrom(now)); err != nil {
		g.mu.Lock()
		r.CancelAt(g.at(clk.Now()))
		g.mu.Unlock()
		return time.Time{}, err
	}
	return clk.Now(), nil
}

// refused records a 429 for a query let through at admitted: nobody passes before now+hold, and the
// rate is cut unless it already was for a query sent after this one. It reports whether it was cut.
func (g *queryGate) refused(now, admitted time.Time, hold time.Duration) bool {
	g.hold.extend(now.Add(hold))
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.base == rate.Inf || !admitted.After(g.lastCut) {
		return false
	}
	g.lim.SetLimitAt(g.at(now), max(g.lim.Limit()*queryDecrease, g.base/queryFloor))
	g.lastCut = now
	return true
}

// answered wins back rate after an answered query.
func (g *queryGate) answered(now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if cur := g.lim.Limit(); cur < g.base {
		g.lim.SetLimitAt(g.at(now), min(g.base, cur+g.base*g.base/(queryRecovery*cur)))
	}
}

// rate is the current query rate per second.
func (g *queryGate) rate() float64 {
	return float64(g.lim.Limit())
}
