package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLowerBound(t *testing.T) {
	cases := []struct {
		n    int
		want float64
	}{
		// S=10: W=1 s, generation 1-3 s. 500 images: 25 batches, the last one full.
		{500, 24 + 1 + 2*20.0/21},
		{100, 4 + 1 + 2*20.0/21},
		// 21 images: the second batch holds one task, whose expected time is the mean.
		{21, 1 + 1 + 2*1.0/2},
		{1, 1 + 2*1.0/2},
	}
	for _, c := range cases {
		if got := lowerBound(c.n, 20, 1, 1, 2); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("lowerBound(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	if got := lowerBound(0, 20, 1, 1, 2); got != 0 {
		t.Errorf("lowerBound(0) = %v", got)
	}
}

func TestSteadyRateLimited(t *testing.T) {
	s := []statsSample{
		{t: 0, generate: 0, rateLimited: 0},
		{t: 0.25, generate: 20, rateLimited: 3}, // first POSTs seen here; window ends at 1.25
		{t: 1.0, generate: 25, rateLimited: 5},
		{t: 1.5, generate: 30, rateLimited: 6},
		{t: 3.0, generate: 40, rateLimited: 9},
	}
	if got := steadyRateLimited(s, 1); got != 4 {
		t.Errorf("steady 429s = %d, want 4 (9 in total, 5 in the first window)", got)
	}
	if got := steadyRateLimited(s[:1], 1); got != 0 {
		t.Errorf("no POSTs: %d", got)
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median odd = %v", got)
	}
	if got := median([]float64{4, 1, 2, 3}); got != 2.5 {
		t.Errorf("median even = %v", got)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing should be NaN")
	}
}

func TestCallbackTarget(t *testing.T) {
	m := &meta{Sizes: []int{100, 500}, CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000}
	cb := func(n, queries, sent, failed int) *applyRun {
		return &applyRun{ID: "callback", Kind: "callback", N: n, Parallelism: 50, Files: n,
			Stats: mockStats{GenerateRequests: n, TasksCreated: n, StatusQueries: queries, CallbacksSent: sent, CallbacksFailed: failed}}
	}
	row := func(runs map[string]*applyRun) string {
		out := renderBlock(t, "targets", &Report{Targets: targets(m, runs, nil, &cdnStats{}, nil)})
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "| Callback-receiver variant") {
				return line
			}
		}
		t.Fatal("no callback target row")
		return ""
	}
	got := row(map[string]*applyRun{"callback-n100-p50": cb(100, 100, 100, 0), "callback-n500-p50": cb(500, 750, 480, 20)})
	for _, want := range []string{"N=100 p=50: 1.00 (callbacks delivered 100, failed 0)", "N=500 p=50: 1.50 (callbacks delivered 480, failed 20)", "**PASS**"} {
		if !strings.Contains(got, want) {
			t.Errorf("row %q lacks %q", got, want)
		}
	}
	if got := row(map[string]*applyRun{"callback-n100-p50": cb(100, 100, 100, 0), "callback-n500-p50": cb(500, 751, 500, 0)}); !strings.Contains(got, "**FAIL**") {
		t.Errorf("1.502 queries per image should fail: %q", got)
	}
	if got := row(map[string]*applyRun{"callback-n100-p50": cb(100, 100, 100, 0)}); !strings.Contains(got, "N=500: not run") || !strings.Contains(got, "**FAIL**") {
		t.Errorf("a missing size should fail: %q", got)
	}
}

// The start-up is the apply's start to its first created task; earlier tasks of the mock do not count.
func TestDeriveStartup(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s float64) string {
		return start.Add(time.Duration(s * float64(time.Second))).Format(time.RFC3339Nano)
	}
	tasks := `[{"createdAt":"` + at(-60) + `","completedAt":"` + at(-58) + `"},` +
		`{"createdAt":"` + at(2.5) + `","completedAt":"` + at(4.5) + `"},` +
		`{"createdAt":"` + at(3) + `","completedAt":"` + at(6) + `"}]`
	if err := os.WriteFile(filepath.Join(dir, "runs", "x-tasks.json"), []byte(tasks), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &applyRun{ID: "x", N: 2, StartNs: start.UnixNano(), WallSec: 7}
	derive(dir, &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000}, r)
	if r.tasksInRun != 2 || r.startupSec != 2.5 || r.apiSpanSec != 3.5 {
		t.Errorf("tasks %d, start-up %v, API span %v; want 2, 2.5, 3.5", r.tasksInRun, r.startupSec, r.apiSpanSec)
	}
}
