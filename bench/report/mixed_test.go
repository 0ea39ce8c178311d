package main

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// mixedScenario is fixtureShared with half of each run's images on the Market API; limits, when
// set, are the scenario's own (the real-time runs).
func mixedScenario(id string, n int, starts, walls []float64, refused int, limits *scenarioLimits) *sharedScenario {
	s := fixtureShared(id, false, n, starts, walls, 2.1, refused)
	s.Mix = &scenarioMix{Flux: n / 2, Market: n - n/2, Model: "google/nano-banana"}
	s.Limits = limits
	k := len(starts)
	s.Stats.MarketTasksCreated, s.Stats.MarketCreateRequests = k*s.Mix.Market, k*(s.Mix.Market+refused/2)
	s.Stats.MarketRateLimited, s.Stats.MarketStatusQueries = k*(refused/2), 4*k*s.Mix.Market
	return s
}

var realTime = &scenarioLimits{Scale: 1, CreateLimit: 20, LatencyMs: 10000, JitterMs: 20000, WindowMs: 10000,
	RetryAfterUnit: "1000ms"}

// mixedFixture is a run of the mixed scenario alone: one apply, two applies together (three trials)
// and three together in real time (three trials), against the scaled run's meta.
func mixedFixture() fixture {
	f := emptyFixture()
	f.mixed = []*sharedScenario{mixedScenario("mixed-1", 100, []float64{0}, []float64{9.8}, 0, nil)}
	for t := 1; t <= 3; t++ {
		d := 0.3 * float64(t-2)
		f.mixed = append(f.mixed, mixedScenario(fmt.Sprintf("mixed-2-t%d", t), 100, []float64{0, 0.1}, []float64{15.2 + d, 15.9 - d}, 20+t, nil))
	}
	for t := 1; t <= 3; t++ {
		d := 2.5 * float64(t-2)
		f.mixed = append(f.mixed, mixedScenario(fmt.Sprintf("mixed-rt3-t%d", t), 40, []float64{0, 0.2, 0.4},
			[]float64{88.4 + d, 90.1, 91.7 - d}, 14+2*t, realTime))
	}
	return f
}

// The real-time scenario's bound comes from its own limits (KIE's), not from the scaled run's meta.
func TestMixedOwnLimits(t *testing.T) {
	m := fixtureMeta() // S = 10: 1 s window, 1-3 s generations
	s := mixedScenario("mixed-rt3-t1", 40, []float64{0, 0, 0}, []float64{90, 90, 90}, 0, realTime)
	a := s.account(m)
	// 120 images: 6 batches of 20 per 10 s, then 10 s + 20 s·20/21.
	if want := 5*10 + 10 + 20*20.0/21; math.Abs(a.BoundSec-want) > 1e-9 || !a.OneTask {
		t.Errorf("bound %v, want %v (%+v)", a.BoundSec, want, a)
	}
	s.Limits = nil
	if a := s.account(m); math.Abs(a.BoundSec-(5+1+2*20.0/21)) > 1e-9 {
		t.Errorf("without limits the run's: bound %v", a.BoundSec)
	}
	sec := sharedSection(m, []*sharedScenario{mixedScenario("mixed-rt3-t1", 40, []float64{0, 0, 0}, []float64{90, 90, 90}, 0, realTime)})
	out := renderBlock(t, "mixed", &Report{Mixed: sec})
	for _, want := range []string{"### 3 runs of 40 images (20 `kie_flux_image`, 20 `kie_image` google/nano-banana) started together, in real time, trial 1",
		"In real time: 20 creates per 10 s, generations of 10–30 s", "| **account** (120 images) | 0.0 | 90.0 | **1.14×** (bound 79.0 s)",
		"By API: Flux 60 tasks for 60 images, 0 refused, 6.00 status queries per image; Market (`google/nano-banana`) 60 tasks for 60 images"} {
		if !strings.Contains(out, want) {
			t.Errorf("section lacks %q:\n%s", want, out)
		}
	}
}

// One task per image holds for each API apart: a Flux image paid twice is not made up for by a
// Market image never paid.
func TestMixedTasksPerAPI(t *testing.T) {
	m := fixtureMeta()
	s := mixedScenario("mixed-1", 100, []float64{0}, []float64{10}, 0, nil)
	if !s.account(m).OneTask {
		t.Fatal("one task per image")
	}
	s.Stats.MarketTasksCreated-- // 51 Flux tasks for 50 images, 49 Market tasks for 50: 100 in all
	a := s.account(m)
	if a.OneTask || a.TasksCreated != a.Images || a.Mix.FluxTasks != 51 {
		t.Errorf("%+v %+v", a, a.Mix)
	}
	row := renderBlock(t, "targets", &Report{Targets: mixedTargets(m, []*sharedScenario{s}), Mixed: sharedSection(m, []*sharedScenario{s})})
	if !strings.Contains(row, "one apply of 100: 100 tasks for 100 images (Flux 51/50, Market 49/50) | **FAIL** |") {
		t.Errorf("targets:\n%s", row)
	}
}

// The refusal and wall-time targets judge the concurrent scenarios only; a lone apply shows neither row.
func TestMixedJudged(t *testing.T) {
	m := fixtureMeta()
	single := mixedScenario("mixed-1", 100, []float64{0}, []float64{30}, 80, nil) // slow and refused, unjudged
	rows := func(s ...*sharedScenario) string {
		return renderBlock(t, "targets", &Report{Targets: mixedTargets(m, s), Mixed: sharedSection(m, s)})
	}
	if got := rows(single); strings.Contains(got, "refused") || strings.Contains(got, "wall time") || strings.Count(got, "**PASS**") != 3 {
		t.Errorf("a lone apply: runs, tasks and queries rows only:\n%s", got)
	}
	// 2 × 100 at S = 10: bound 9 + 1 + 1.905 s from the first task (2.1 s in).
	ok := mixedScenario("mixed-2-t1", 100, []float64{0, 0}, []float64{15, 15}, 50, nil)
	if got := rows(single, ok); strings.Contains(got, "**FAIL**") || !strings.Contains(got, "2 × 100 together: 12.9 s vs 11.9 s: **1.08×**") {
		t.Errorf("want every row to pass:\n%s", got)
	}
	refused := mixedScenario("mixed-2-t1", 100, []float64{0, 0}, []float64{15, 15}, 51, nil) // 0.51 per image
	for _, line := range strings.Split(rows(single, refused), "\n") {
		if strings.Contains(line, "0.5 refused create requests") && !strings.HasSuffix(line, "**FAIL** |") {
			t.Errorf("want FAIL: %s", line)
		}
	}
	slow := mixedScenario("mixed-2-t1", 100, []float64{0, 0}, []float64{16.5, 16.5}, 0, nil) // 14.4 s: 1.21×
	if got := rows(single, slow); !strings.Contains(got, "**1.21×**") || !strings.HasSuffix(strings.TrimSpace(got), "**FAIL** |") {
		t.Errorf("1.21× fails:\n%s", got)
	}
}
