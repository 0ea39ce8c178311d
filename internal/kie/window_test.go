package kie

import (
	"context"
	"testing"
	"time"
)

func TestSlidingWindowNeverExceedsLimitInAnyWindow(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	start := clk.Now()
	var admitted []time.Time
	for range 65 {
		if err := w.wait(context.Background(), clk); err != nil {
			t.Fatal(err)
		}
		admitted = append(admitted, clk.Now())
	}
	// The first 20 go at once (no wasted burst), the 21st waits a full window.
	if got := admitted[19].Sub(start); got != 0 {
		t.Fatalf("20th admission after %v, want immediately", got)
	}
	if got := admitted[20].Sub(start); got < 10*time.Second || got > 10*time.Second+windowMargin(10*time.Second) {
		t.Fatalf("21st admission after %v, want one window", got)
	}
	for i := range admitted {
		n := 0
		for _, at := range admitted[i:] {
			if at.Sub(admitted[i]) < 10*time.Second {
				n++
			}
		}
		if n > 20 {
			t.Fatalf("%d admissions within 10s starting at #%d", n, i)
		}
	}
	// Throughput stays at the limit: 65 admissions take just over 3 windows.
	if got := admitted[64].Sub(start); got > 3*(10*time.Second+windowMargin(10*time.Second)) {
		t.Fatalf("65 admissions took %v", got)
	}
}

func TestSlidingWindowHonoursCancel(t *testing.T) {
	w := newSlidingWindow(1, time.Hour)
	if err := w.wait(context.Background(), realClock{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.wait(ctx, realClock{}); err == nil {
		t.Fatal("a full window must block until the context ends")
	}
}

func TestWindowMarginScalesWithTheWindow(t *testing.T) {
	for per, want := range map[time.Duration]time.Duration{
		10 * time.Second:       50 * time.Millisecond, // KIE's window
		time.Second:            5 * time.Millisecond,  // the benchmark's window at scale 10
		100 * time.Millisecond: time.Millisecond,      // never below 1 ms
	} {
		if got := windowMargin(per); got != want {
			t.Errorf("windowMargin(%v) = %v, want %v", per, got, want)
		}
	}
}
