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
	var tickets []*ticket
	for range 3 {
		tk, err := w.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, tk)
	}
	<-clk.After(2 * time.Second) // the answers took 2 s
	for _, tk := range tickets {
		tk.settle(clk.Now())
	}
	if err := w.wait(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(start); got < 12*time.Second {
		t.Fatalf("4th request admitted %v after the burst was sent, want a window after its answers (12s)", got)
	}
}

// A request that outlives the window is not counted again when its answer finally arrives.
func TestSlidingWindowSettleAfterReuseIsIgnored(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(1, time.Second)
	late, err := w.admit(context.Background(), clk)
	if err != nil {
		t.Fatal(err)
	}
	<-clk.After(2 * time.Second)
	if err := w.wait(context.Background(), clk); err != nil { // takes the only place
		t.Fatal(err)
	}
	before := append([]stamp(nil), w.stamps...)
	<-clk.After(time.Second)
	late.settle(clk.Now())
	if len(w.stamps) != 1 || w.stamps[0] != before[0] {
		t.Fatalf("a late settle changed the window from %v to %v", before, w.stamps)
	}
}
