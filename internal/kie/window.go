package kie

import (
	"context"
	"sync"
	"time"
)

// windowMargin is added to the window so that clock granularity between us and the API never lets
// the (n+1)-th request of a window arrive inside the API's own window: 0.5% of the window (50 ms of
// KIE's 10 s), at least 1 ms. It scales with the window so that a shortened window (tests, a
// time-scaled benchmark) keeps the same proportions as the real one.
func windowMargin(per time.Duration) time.Duration {
	return max(per/200, time.Millisecond)
}

// slidingWindow admits at most n events in any span of per: KIE counts "20 new generations per 10
// seconds" that way, so a token bucket (which allows a full burst right after a refill, up to 2n in one
// window) would earn 429s, and even spacing would waste the first window's burst.
type slidingWindow struct {
	mu   sync.Mutex
	per  time.Duration
	ring []time.Time // admission times of the last n events, oldest at next
	next int
}

func newSlidingWindow(n int, per time.Duration) *slidingWindow {
	return &slidingWindow{per: per + windowMargin(per), ring: make([]time.Time, max(n, 1))}
}

// wait blocks until one more event fits in the window, then records it.
func (w *slidingWindow) wait(ctx context.Context, clk Clock) error {
	_, err := w.admit(ctx, clk)
	return err
}

// admit is wait for a request: the returned settle, called once the request's answer has arrived (or
// it failed), moves the request's record to that moment. The API counts a request when it arrives,
// which may be well after it was sent (a cold connection, a slow network) and is never after its answer;
// counting from the answer keeps the (n+1)-th request out of the API's window however long the first
// ones travelled.
func (w *slidingWindow) admit(ctx context.Context, clk Clock) (settle func(), err error) {
	for {
		w.mu.Lock()
		now := clk.Now()
		slot := w.next
		oldest := w.ring[slot]
		if oldest.IsZero() || !now.Before(oldest.Add(w.per)) {
			w.ring[slot] = now
			w.next = (w.next + 1) % len(w.ring)
			w.mu.Unlock()
			return func() { w.settle(slot, now, clk.Now()) }, nil
		}
		delay := oldest.Add(w.per).Sub(now)
		w.mu.Unlock()
		if err := sleep(ctx, clk, delay); err != nil {
			return nil, err
		}
	}
}

// settle re-stamps slot with answered, unless the slot was reused meanwhile (the request outlived the
// window).
func (w *slidingWindow) settle(slot int, admitted, answered time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ring[slot].Equal(admitted) && answered.After(admitted) {
		w.ring[slot] = answered
	}
}
