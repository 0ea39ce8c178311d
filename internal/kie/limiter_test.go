package kie

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Five goroutines share one client's query budget: 25 queries take as long as the rate says, not a
// fifth of it. Only a lower bound on time is checked, which a loaded machine cannot break.
func TestQueryLimiterSharedAcrossGoroutines(t *testing.T) {
	var mu sync.Mutex
	var stamps []time.Time
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stamps = append(stamps, time.Now())
		mu.Unlock()
		flagStep("q", 0, "")(w, r)
	})
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
	elapsed := time.Since(start)
	// 25 queries at 50/s with a burst of one take at least 24 intervals of 20ms.
	if minimum := time.Duration(workers*each-1) * time.Second / perSecond * 9 / 10; elapsed < minimum {
		t.Errorf("25 queries took %v, want at least %v", elapsed, minimum)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stamps) != workers*each {
		t.Fatalf("%d queries", len(stamps))
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
