package kie

import (
	"context"
	"testing"
	"time"
)

// Requests count from their answer: when the first burst was slow to arrive, the next request waits a
// full window from the answers, not from the sends, so it cannot land inside the API's window.
func TestSlidingWindowCountsFromTheAnswer(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(3, 10*time.Second)
	start := clk.Now()
	var settles []func()
	for range 3 {
		settle, err := w.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		settles = append(settles, settle)
	}
	<-clk.After(2 * time.Second) // the answers took 2 s
	for _, settle := range settles {
		settle()
	}
	if err := w.wait(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(start); got < 12*time.Second {
		t.Fatalf("4th request admitted %v after the burst was sent, want a window after its answers (12s)", got)
	}
}

// A request that outlives the window does not move a slot that a later request has taken over.
func TestSlidingWindowSettleAfterReuseIsIgnored(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(1, time.Second)
	settle, err := w.admit(context.Background(), clk)
	if err != nil {
		t.Fatal(err)
	}
	<-clk.After(2 * time.Second)
	if err := w.wait(context.Background(), clk); err != nil { // reuses the only slot
		t.Fatal(err)
	}
	reused := w.ring[0]
	<-clk.After(time.Second)
	settle()
	if !w.ring[0].Equal(reused) {
		t.Fatalf("a late settle moved the reused slot from %v to %v", reused, w.ring[0])
	}
}
