package kie

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// frozenClock stands still unless set: each wait asked of it fires at once and is recorded. Every
// caller's delay then counts from the same instant, however a loaded machine schedules the goroutines.
type frozenClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func newFrozenClock() *frozenClock {
	return &frozenClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *frozenClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *frozenClock) set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

func (f *frozenClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waits = append(f.waits, d)
	ch := make(chan time.Time, 1)
	ch <- f.now
	return ch
}

func (f *frozenClock) Waits() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.waits...)
}

// Five goroutines share one client's query budget: 25 queries asked for at the same instant are let
// through one interval apart (20ms at 50/s, a burst of one), not five at a time. Checked on a clock that
// stands still, so the delays the gate hands out are exact whatever the machine's load.
func TestQueryLimiterSharedAcrossGoroutines(t *testing.T) {
	srv := newScriptServer(t, flagStep("q", 0, ""))
	const perSecond, workers, each = 50, 5, 5
	clk := newFrozenClock()
	c := newTestClient(srv.URL, WithQueryRate(perSecond), WithClock(clk))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := c.GetTask(context.Background(), "q"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if srv.Count() != workers*each {
		t.Fatalf("%d queries", srv.Count())
	}
	// The first query takes the burst; the k-th after it waits k intervals.
	waits := clk.Waits()
	slices.Sort(waits)
	want := make([]time.Duration, 0, workers*each-1)
	for k := 1; k < workers*each; k++ {
		want = append(want, time.Duration(k)*time.Second/perSecond)
	}
	if len(waits) != len(want) {
		t.Fatalf("%d waits for %d queries, want %d: %v", len(waits), workers*each, len(want), waits)
	}
	for i := range want {
		if d := waits[i] - want[i]; d < -time.Microsecond || d > time.Microsecond {
			t.Fatalf("query waits %v, want one %v interval more for each query (%v)", waits, time.Second/perSecond, want)
		}
	}
}

// The same on the real clock, with the one bound a loaded machine cannot break: 25 queries at 50/s with
// a burst of one take at least 24 intervals, because every wait is at least what the gate asked for.
func TestQueryLimiterSharedAcrossGoroutinesRealClock(t *testing.T) {
	srv := newScriptServer(t, flagStep("q", 0, ""))
	const perSecond, workers, each = 50, 5, 5
	c := newTestClient(srv.URL, WithQueryRate(perSecond))
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := c.GetTask(context.Background(), "q"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// 1ms of slack for the limiter's float arithmetic; no upper bound.
	if elapsed, minimum := time.Since(start), time.Duration(workers*each-1)*time.Second/perSecond-time.Millisecond; elapsed < minimum {
		t.Errorf("25 queries took %v, want at least %v", elapsed, minimum)
	}
	if srv.Count() != workers*each {
		t.Fatalf("%d queries", srv.Count())
	}
}

// A caller that read the clock before another one went ahead (descheduled on a busy machine) must not
// move the gate's time back: the token bucket would then credit the same interval twice and let a
// query through early.
func TestQueryGateNeverSeesTimeGoBack(t *testing.T) {
	const perSecond = 50
	clk := newFrozenClock()
	t0 := clk.Now()
	g := newQueryGate(perSecond)
	for _, at := range []time.Time{t0.Add(100 * time.Millisecond), t0, t0.Add(100 * time.Millisecond)} {
		clk.set(at)
		if _, err := g.admit(context.Background(), clk); err != nil {
			t.Fatal(err)
		}
	}
	// The first takes the burst; the others wait one and two intervals after it.
	want := []time.Duration{time.Second / perSecond, 2 * time.Second / perSecond}
	if got := clk.Waits(); !slices.Equal(got, want) {
		t.Errorf("waits %v, want %v: a query was let through early", got, want)
	}
	// A refusal or an answer reported with an earlier time does not move it back either.
	g.refused(t0, t0.Add(100*time.Millisecond), time.Nanosecond)
	g.answered(t0)
	clk.set(t0.Add(100 * time.Millisecond))
	if _, err := g.admit(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	if got := clk.Waits(); len(got) != 3 || got[2] < 2*time.Second/perSecond {
		t.Errorf("waits %v: after reports dated earlier, a query went through too soon", got)
	}
}

// The gate lets queries through one by one at its rate (a burst of one): measured on the fake
// clock, because arrival times at a server bunch whenever a loaded machine stalls the senders.
func TestQueryGateSpacesQueries(t *testing.T) {
	const perSecond = 50
	clk := newFakeClock()
	g := newQueryGate(perSecond)
	start := clk.Now()
	var prev time.Time
	for i := range 25 {
		at, err := g.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && at.Sub(prev) < time.Second/perSecond {
			t.Fatalf("query %d let through %v after the one before, want at least %v", i, at.Sub(prev), time.Second/perSecond)
		}
		prev = at
	}
	if got, want := prev.Sub(start), 24*time.Second/perSecond; got != want {
		t.Fatalf("25 queries let through over %v, want %v", got, want)
	}
}

func TestRateLimitedQuerySlowsWholeClient(t *testing.T) {
	srv := newScriptServer(t,
		reply(429, `{"code":429,"msg":"slow down"}`, "Retry-After", "7"),
		flagStep("b", 0, ""),
	)
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithQueryRate(10), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if _, err := c.GetTask(context.Background(), "a"); !IsRateLimited(err) {
		t.Fatalf("first query: %v", err)
	}
	if got := c.query.rate(); got != 5 {
		t.Errorf("rate after a 429 = %v, want halved to 5", got)
	}
	before := len(clk.Sleeps())
	// Another caller, which never saw the 429 itself, must wait out the Retry-After too.
	if _, err := c.GetTask(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	var waited time.Duration
	for _, d := range clk.Sleeps()[before:] {
		waited += d
	}
	if waited < 7*time.Second {
		t.Errorf("second caller waited %v, want at least the 7s Retry-After", waited)
	}
	// The rate comes back gradually: answered queries add to it, not restore it at once.
	for range 5 {
		if _, err := c.GetTask(context.Background(), "b"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.query.rate(); got <= 5 || got >= 7 {
		t.Errorf("rate after 6 answered queries = %v, want between 5 and 7", got)
	}
	for range 40 {
		if _, err := c.GetTask(context.Background(), "b"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.query.rate(); got != 10 {
		t.Errorf("rate after 46 answered queries = %v, want back to the configured 10", got)
	}
}

func TestQueryGateCancelReturnsContextError(t *testing.T) {
	g := newQueryGate(float64(rate.Every(time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.admit(ctx, realClock{}); err != nil {
		t.Fatalf("first token: %v", err)
	}
	if _, err := g.admit(ctx, realClock{}); err != context.DeadlineExceeded {
		t.Fatalf("second token: %v", err)
	}
}
