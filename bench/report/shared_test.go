package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func sharedFixture(join bool, files, created, refused, queries int) *sharedScenario {
	const s = int64(1e9)
	sc := &sharedScenario{ID: "x", N: 100, Parallelism: 50, Join: join, Tags: map[string]tagStats{}}
	starts, walls := []int64{0, 0, 0}, []int64{15 * s, 15 * s, 15 * s}
	if join {
		starts, walls = []int64{0, 2 * s}, []int64{10 * s, 11 * s}
	}
	for i, st := range starts {
		tag := string(rune('a' + i))
		sc.Runs = append(sc.Runs, sharedRun{Tag: tag, StartNs: 100*s + st, EndNs: 100*s + st + walls[i], Files: files})
		sc.Tags[tag] = tagStats{TasksCreated: created, RateLimited: refused, StatusQueries: queries}
	}
	n := len(starts)
	sc.Stats = mockStats{TasksCreated: created * n, RateLimited: refused * n, StatusQueries: queries * n}
	return sc
}

func TestSharedAccountBound(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000}
	// Three runs of 100 together: 300 images, 15 batches.
	a := sharedFixture(false, 100, 100, 10, 500).account(m)
	if want := 14 + 1 + 2*20.0/21; math.Abs(a.BoundSec-want) > 1e-9 || a.WallSec != 15 || !a.RunsOK || !a.OneTask {
		t.Errorf("together: %+v, want bound %v", a, want)
	}
	// A second run that starts 2 s in: 200 images together allow 9 windows, but it cannot end before
	// 2 s + LB(100) = 2 + 4 + 2.9; the later of the two counts.
	a = sharedFixture(true, 100, 100, 10, 500).account(m)
	if want := 9 + 1 + 2*20.0/21; math.Abs(a.BoundSec-want) > 1e-9 || a.WallSec != 13 {
		t.Errorf("join: %+v, want bound %v", a, want)
	}
	late := sharedFixture(true, 100, 100, 10, 500)
	late.Runs[1].StartNs += 6e9
	late.Runs[1].EndNs += 6e9
	if a := late.account(m); math.Abs(a.BoundSec-(8+4+1+2*20.0/21)) > 1e-9 {
		t.Errorf("late join: bound %v", a.BoundSec)
	}
}

func TestSharedTargets(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000, RetryAfterUnit: "100ms"}
	rows := func(s ...*sharedScenario) string {
		return renderBlock(t, "targets", &Report{Targets: sharedTargets(m, s), Shared: sharedSection(m, s)})
	}
	got := rows(sharedFixture(false, 100, 100, 50, 800), sharedFixture(true, 100, 100, 50, 800))
	if strings.Count(got, "**PASS**") != 5 || strings.Contains(got, "**FAIL**") {
		t.Errorf("all targets met, got:\n%s", got)
	}
	for _, tc := range []struct {
		s    *sharedScenario
		want string
	}{
		{sharedFixture(false, 99, 100, 0, 100), "Shared account: every run succeeds"},
		{sharedFixture(false, 100, 101, 0, 100), "exactly one created task"},
		{sharedFixture(false, 100, 100, 51, 100), "0.5 refused"},
		{sharedFixture(false, 100, 100, 0, 801), "8 status queries"},
	} {
		for _, line := range strings.Split(rows(tc.s), "\n") {
			if strings.Contains(line, tc.want) && !strings.HasSuffix(line, "**FAIL** |") {
				t.Errorf("want FAIL: %s", line)
			}
		}
	}
	slow := sharedFixture(false, 100, 100, 0, 100)
	for i := range slow.Runs {
		slow.Runs[i].EndNs += 5e9 // 20 s against a bound of 16.9 s
	}
	if got := rows(slow); !strings.Contains(got, "3 together: 20.0 s vs 16.9 s: **1.18×** (") || !strings.HasSuffix(strings.TrimSpace(got), "**PASS** |") {
		t.Errorf("1.18x should pass:\n%s", got)
	}
	if out := renderBlock(t, "shared", &Report{Shared: sharedSection(m, []*sharedScenario{sharedFixture(true, 100, 100, 10, 500)})}); !strings.Contains(out, "| **account** (200 images) | 0.0 | 13.0 |") || !strings.Contains(out, "second joining") {
		t.Errorf("section:\n%s", out)
	}
}

// The spans count only the scenario's own tasks: the mock keeps the earlier scenario's too.
func TestSharedSpans(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000}
	s := sharedFixture(false, 100, 100, 0, 100)
	start := time.Unix(0, s.Runs[0].StartNs)
	s.tasks = []taskSnapshot{
		{CreatedAt: start.Add(-time.Minute), CompletedAt: start.Add(-50 * time.Second)}, // earlier scenario
		{CreatedAt: start.Add(2 * time.Second), CompletedAt: start.Add(4 * time.Second)},
		{CreatedAt: start.Add(16 * time.Second), CompletedAt: start.Add(19 * time.Second)},
		{CreatedAt: start.Add(10 * time.Second), CompletedAt: start.Add(12 * time.Second)},
	}
	if a := s.account(m); a.CreateSpanSec != 14 || a.APISpanSec != 17 {
		t.Errorf("spans %v and %v, want 14 and 17", a.CreateSpanSec, a.APISpanSec)
	}
	if out := renderBlock(t, "shared", &Report{Shared: sharedSection(m, []*sharedScenario{s})}); !strings.Contains(out,
		"created over 14.0 s (its limit allows no less than (b − 1)·W = 14.0 s for 300 images)") {
		t.Errorf("section:\n%s", out)
	}
}

func TestBusyMachine(t *testing.T) {
	for _, tc := range []struct {
		load, nproc string
		busy        bool
	}{
		{"12.05 13.03 15.05", "2", true},
		{"0.39 1.94 2.55", "2", false},
		{"", "2", false},
		{"3.5 1 1", "x", false},
	} {
		if got, _ := busyMachine(&meta{LoadStart: tc.load, Nproc: tc.nproc}); got != tc.busy {
			t.Errorf("load %q on %q CPUs: busy %v", tc.load, tc.nproc, got)
		}
	}
}

// The account's time counts from its first created task; the start-up before it is reported, and each
// run's bound starts at its own first task.
func TestSharedFromFirstRequest(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000, RetryAfterUnit: "100ms"}
	s := sharedFixture(true, 100, 100, 0, 100) // run a: 0-10 s, run b: 2-13 s
	start := time.Unix(0, s.Runs[0].StartNs)
	task := func(tag string, at time.Duration) taskSnapshot {
		return taskSnapshot{Prompt: "[mock:tag=" + tag + "] an image", CreatedAt: start.Add(at), CompletedAt: start.Add(at + time.Second)}
	}
	s.tasks = []taskSnapshot{task("a", 1500*time.Millisecond), task("a", 3*time.Second), task("b", 8*time.Second)}
	a := s.account(m)
	// Run b asked first at 8 s, 6.5 s after the account's first task: 6.5 + LB(100) = 6.5 + 4 + 1 + 1.905,
	// later than LB(200) = 9 + 1 + 1.905.
	if a.StartupSec != 1.5 || a.AskedWallSec != 11.5 || math.Abs(a.AskedBoundSec-(6.5+4+1+2*20.0/21)) > 1e-9 {
		t.Errorf("%+v", a)
	}
	rows := func() string {
		return renderBlock(t, "targets", &Report{Targets: sharedTargets(m, []*sharedScenario{s}), Shared: sharedSection(m, []*sharedScenario{s})})
	}
	if got := rows(); !strings.Contains(got, "second joins: 11.5 s vs 13.4 s: **0.86×** (start-up before the first request 1.5 s; "+
		"from the first apply's start 13.0 s vs 11.9 s, 1.09×) | **PASS** |") {
		t.Errorf("rows:\n%s", got)
	}
	for i := range s.Runs {
		s.Runs[i].EndNs += 6e9
	}
	if got := rows(); !strings.Contains(got, "second joins: 17.5 s vs 13.4 s: **1.31×**") || !strings.HasSuffix(strings.TrimSpace(got), "**FAIL** |") {
		t.Errorf("rows:\n%s", got)
	}
}

// Count targets hold in every trial; the wall-time target is judged on the median trial.
func TestSharedTrials(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000, RetryAfterUnit: "100ms"}
	trial := func(k int, wallSec float64, refused int) *sharedScenario {
		s := sharedFixture(false, 100, 100, refused, 100)
		s.ID = fmt.Sprintf("shared-3-t%d", k)
		for i := range s.Runs {
			s.Runs[i].EndNs = s.Runs[i].StartNs + int64(wallSec*1e9)
		}
		return s
	}
	rows := func(s ...*sharedScenario) string {
		return renderBlock(t, "targets", &Report{Targets: sharedTargets(m, s), Shared: sharedSection(m, s)})
	}
	// Bound 16.9 s: 19.1 s is 1.13x, 21.1 s 1.25x, 19.8 s 1.17x.
	got := rows(trial(1, 19.1, 0), trial(2, 21.1, 0), trial(3, 19.8, 0))
	if !strings.Contains(got, "3 together: median of 3 trials 19.8 s vs 16.9 s: **1.17×**") ||
		!strings.Contains(got, "trials in order: 1.13×, 1.25×, 1.17×") || strings.Contains(got, "**FAIL**") {
		t.Errorf("median 1.17x passes:\n%s", got)
	}
	if got := rows(trial(1, 21.1, 0), trial(2, 20.5, 0), trial(3, 18.6, 0)); !strings.Contains(got, "**1.21×**") ||
		!strings.HasSuffix(strings.TrimSpace(got), "**FAIL** |") {
		t.Errorf("median 1.21x fails:\n%s", got)
	}
	// One trial over the refusal limit fails that target, whatever the others did.
	for _, line := range strings.Split(rows(trial(1, 19, 0), trial(2, 19, 51), trial(3, 19, 0)), "\n") {
		if strings.Contains(line, "0.5 refused") && !strings.HasSuffix(line, "**FAIL** |") {
			t.Errorf("want FAIL: %s", line)
		}
	}
	if out := renderBlock(t, "shared", &Report{Shared: sharedSection(m, []*sharedScenario{trial(2, 19, 0)})}); !strings.Contains(out,
		"### 3 runs of 100 images started together, trial 2") {
		t.Errorf("section:\n%s", out)
	}
	if trialBase("shared-3-t12") != "shared-3" || trialBase("shared-3") != "shared-3" || trialBase("x-t") != "x-t" {
		t.Error("trialBase")
	}
}
