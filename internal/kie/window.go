package kie

import (
	"context"
	"slices"
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

// How the create share reacts to KIE's answers. A refusal (429) halves the share. While KIE has
// rate-limited any request of ours in the last half window, a share in use grows by one per window
// (by ceiling/(2·share) when that is more): runs that crowd each other probe for room slowly, and one
// crowded down to a few requests probes faster, which is what evens the shares out. A run's own
// window frees room exactly when its own requests leave KIE's, so a run keeps the room it holds
// while others only learn of free room through Retry-After; without the faster probing, a run
// crowded out early stays small. Once half a window has passed without a 429, every accepted
// request adds one, so the share doubles per window: a run whose neighbours have finished is back
// at its ceiling within a couple of windows. Quiet is counted from the last 429, not the last cut:
// a refused retry of an older request does not cut the share again, but it shows the account is
// still full. Maintenance (455) says nothing about the account's load and counts for neither.
const shareDecrease = 0.5

// slidingWindow admits at most share events in any span of per, where share is the configured
// ceiling until KIE refuses a request and then follows an additive-increase, multiplicative-decrease
// rule. KIE counts "20 new generations per 10 seconds" in a sliding window, so a token bucket (which
// allows a full burst right after a refill, up to 2n in one window) would earn 429s, and even spacing
// would waste the first window's burst. The limit is per account, and other runs with the same key are
// invisible to this process: KIE's refusals are the only sign of them, and backing off on them while
// winning room back slowly lets independent runs converge on a fair share instead of crowding out
// each other.
type slidingWindow struct {
	hold holdoff

	mu      sync.Mutex
	per     time.Duration
	ceiling float64
	share   float64
	stamps  []stamp // requests counted in the window: admission time, moved to the answer's time
	seq     uint64
	lastCut time.Time // when the share was last cut; zero before the first refusal
	lastRef time.Time // when KIE last refused a request of ours for its rate limit; zero before
}

type stamp struct {
	id uint64
	at time.Time
}

// ticket is one admitted request; report its outcome through the window's methods.
type ticket struct {
	w        *slidingWindow
	id       uint64
	admitted time.Time
}

func newSlidingWindow(n int, per time.Duration) *slidingWindow {
	n = max(n, 1)
	return &slidingWindow{per: per + windowMargin(per), ceiling: float64(n), share: float64(n)}
}

// createStartShare is the part of the limit a create window starts with. Every accepted request adds
// one, so a run alone fills its window within a round trip or two (milliseconds against KIE's 10 s);
// runs that start together on one account overshoot its window by their last round instead of by
// every run's full burst, which is where most refusals came from. Half, not less: a smaller start
// left a run refused early far behind the others in short runs (make bench, mixed real-time row).
const createStartShare = 0.5

// newCreateWindow is the sliding window for paid creates: it starts at half the limit and grows with
// each request KIE accepts.
func newCreateWindow(n int, per time.Duration) *slidingWindow {
	w := newSlidingWindow(n, per)
	w.share = max(1, w.ceiling*createStartShare)
	return w
}

// wait blocks until one more event fits in the window, then records it.
func (w *slidingWindow) wait(ctx context.Context, clk Clock) error {
	_, err := w.admit(ctx, clk)
	return err
}

// admit waits out a pause set by a refusal, then until the window has room at the current share,
// and records the request.
func (w *slidingWindow) admit(ctx context.Context, clk Clock) (*ticket, error) {
	for {
		if err := w.hold.wait(ctx, clk); err != nil {
			return nil, err
		}
		t, delay := w.tryAdmit(clk.Now())
		if t != nil {
			return t, nil
		}
		if err := sleep(ctx, clk, delay); err != nil {
			return nil, err
		}
	}
}

// tryAdmit records a request at now if the window has room, else says how long until it may.
func (w *slidingWindow) tryAdmit(now time.Time) (*ticket, time.Duration) {
	if d := w.hold.remaining(now); d > 0 {
		return nil, d
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prune(now)
	allowed := max(1, int(w.share))
	if len(w.stamps) < allowed {
		w.seq++
		w.stamps = append(w.stamps, stamp{id: w.seq, at: now})
		return &ticket{w: w, id: w.seq, admitted: now}, 0
	}
	// Room comes when enough of the oldest requests have left the window.
	times := make([]time.Time, len(w.stamps))
	for i, s := range w.stamps {
		times[i] = s.at
	}
	slices.SortFunc(times, time.Time.Compare)
	return nil, times[len(times)-allowed].Add(w.per).Sub(now)
}

func (w *slidingWindow) prune(now time.Time) {
	w.stamps = slices.DeleteFunc(w.stamps, func(s stamp) bool { return !now.Before(s.at.Add(w.per)) })
}

// settle moves the request's record to the time its answer arrived (or it failed). The API counts a
// request when it arrives, which may be well after it was sent (a cold connection, a slow network)
// and is never after its answer; counting from the answer keeps the next request out of the API's
// window however long the first ones travelled. A request that outlived the window is not counted
// again.
func (t *ticket) settle(answered time.Time) {
	w := t.w
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.stamps {
		if w.stamps[i].id == t.id && answered.After(w.stamps[i].at) {
			w.stamps[i].at = answered
		}
	}
}

// accepted records that KIE accepted a request: the share grows back toward the ceiling.
func (w *slidingWindow) accepted(now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.share >= w.ceiling {
		return
	}
	step := max(1, w.ceiling/(2*w.share)) / w.share
	if now.Sub(w.lastRef) >= w.per/2 {
		step = 1
	}
	w.share = min(w.ceiling, w.share+step)
}

// refused records that KIE turned t's request away. A rate limit (cut) halves the share, once per
// episode: requests sent before the last cut were sent at the old share, and their refusals say
// nothing new. Everyone waits at least hold (the server's Retry-After) before the next request.
// It reports whether the share was cut.
func (w *slidingWindow) refused(now time.Time, t *ticket, cut bool, hold time.Duration) bool {
	w.hold.extend(now.Add(hold))
	w.mu.Lock()
	defer w.mu.Unlock()
	// KIE did not count a refused request, so neither does the window: the room it held is free for
	// the retry, and a run that collides with others is not also slowed by its own refused requests.
	w.stamps = slices.DeleteFunc(w.stamps, func(s stamp) bool { return s.id == t.id })
	if cut {
		w.lastRef = now
	}
	if !cut || !t.admitted.After(w.lastCut) {
		return false
	}
	w.share = max(1, w.share*shareDecrease)
	w.lastCut = now
	return true
}

// rate is the current share: requests per window.
func (w *slidingWindow) rate() float64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.share
}
