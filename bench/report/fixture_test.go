package main

import (
	"fmt"
	"time"
)

// fixture is a report's inputs as run() reads them, made up to touch every branch of the report:
// full is close to a full make bench; degraded has a quick run with failures, a busy machine, an
// unscaled create window and missing scenarios.
type fixture struct {
	m      *meta
	runs   map[string]*applyRun
	plans  map[string]*planRun
	cdn    *cdnStats
	shared []*sharedScenario
	mixed  []*sharedScenario
}

func fixtureMeta() *meta {
	m := &meta{Date: "2026-12-01 18:29:00 UTC", Command: "make bench", Scale: 10, Sizes: []int{100, 500}, Nproc: "2",
		CPU: "AMD EPYC", Mem: "23.5 GiB", Kernel: "Linux 6.1", LoadStart: "6.77 3.38 2.46", LoadEnd: "6.92 18.28 13.42",
		CLI: "Terraform v1.11.4", Go: "go1.26.0 linux/amd64", Commit: "e6c47a2", CreateLim: 20, LatencyMs: 1000,
		JitterMs: 2000, WindowMs: 1000, PlanN: 1000, ImageMin: 1000000, ImageMax: 2000000, ImageScale: 0.25,
		BigN: 50, BigMiB: 20, BigRate: 4, SharedN: 100, RetryAfterUnit: "100ms", LargeN: 5000, LargePar: 50,
		LargeImageScale: 0.1}
	m.Provider.PollMin, m.Provider.PollMax, m.Provider.RequestTimeout = "300ms", "3000ms", "6000ms"
	m.Provider.QueryRate, m.Provider.CreateRateLimit = "100", 20
	m.Provider.WindowAttr, m.Provider.Window = "create_rate_window", "1000ms"
	m.Provider.InitialAttr, m.Provider.InitialDelay, m.Provider.SafetyPoll = "poll_initial_delay", "800ms", "6000ms"
	m.Baseline.Poll, m.Baseline.RetrySleep = "0.300", "0.500"
	return m
}

// fixtureApply is a finished apply with its derived figures set as derive() would.
func fixtureApply(m *meta, kind string, n, par int, wall, startup float64, queries, sent int) *applyRun {
	r := &applyRun{ID: fmt.Sprintf("%s-n%d-p%d", kind, n, par), Kind: kind, N: n, Parallelism: par, WallSec: wall,
		Files: n, Bytes: int64(n) * 1_495_123,
		Stats: mockStats{GenerateRequests: n, TasksCreated: n, StatusQueries: queries, Downloads: n, PeakInFlight: min(par, n),
			CallbacksSent: sent},
		Sampler:    samplerSummary{ProviderPeakHWMKiB: 112_640, CLIPeakHWMKiB: 105_472, ProviderCPUSec: 3.2, CLICPUSec: 4.1},
		lowerBound: lowerBound(n, m.CreateLim, m.WindowMs/1000, m.LatencyMs/1000, m.JitterMs/1000),
		startupSec: startup, apiSpanSec: wall - startup - 0.3, meanLatency: 2.03, tasksInRun: n, statsSampled: true}
	if kind == "baseline" {
		r.Sampler.ProviderPeakHWMKiB = 0
	}
	return r
}

func fixturePlans(planN int, kinds ...string) map[string]*planRun {
	plans := map[string]*planRun{}
	for k, kind := range kinds {
		reps := 3
		if kind == "provider-first" {
			reps = 1
		}
		for rep := 1; rep <= reps; rep++ {
			n := planN
			if kind == "provider-empty" || kind == "baseline-empty" {
				n = 0
			}
			id := fmt.Sprintf("plan-%s-%d", kind, rep)
			plans[id] = &planRun{ID: id, N: n, WallSec: 4.1 + 0.13*float64(k) + 0.07*float64(rep),
				Sampler: samplerSummary{ProviderPeakHWMKiB: int64(90_000 + 1000*k), CLIPeakHWMKiB: 160_000,
					ProviderCPUSec: 1.5 + 0.1*float64(rep), CLICPUSec: 5.0 + 0.05*float64(rep)}}
		}
	}
	return plans
}

// fixtureShared is scenario id with runs of n images started at the given offsets (s) lasting the
// given walls (s), and its tasks created every 50 ms from startup s on, each taking 2 s.
func fixtureShared(id string, join bool, n int, starts, walls []float64, startup float64, refused int) *sharedScenario {
	const t0 = int64(1_800_000_000) * 1e9
	s := &sharedScenario{ID: id, N: n, Parallelism: 50, Join: join, Tags: map[string]tagStats{}}
	for i := range starts {
		tag := fmt.Sprintf("%s-r%d", id, i+1)
		st := t0 + int64(starts[i]*1e9)
		s.Runs = append(s.Runs, sharedRun{Tag: tag, StartNs: st, EndNs: st + int64(walls[i]*1e9), Files: n})
		s.Tags[tag] = tagStats{GenerateRequests: n + refused, TasksCreated: n, RateLimited: refused, StatusQueries: 5 * n}
		first := time.Unix(0, st).Add(time.Duration(startup * float64(time.Second)))
		for k := range n {
			at := first.Add(time.Duration(k*len(starts)) * 50 * time.Millisecond)
			s.tasks = append(s.tasks, taskSnapshot{CreatedAt: at, CompletedAt: at.Add(2 * time.Second), Prompt: "[mock:tag=" + tag + "] x"})
		}
	}
	k := len(starts)
	s.Stats = mockStats{GenerateRequests: k * (n + refused), TasksCreated: k * n, RateLimited: k * refused, StatusQueries: 5 * k * n}
	return s
}

func fullFixture() fixture {
	m := fixtureMeta()
	runs := map[string]*applyRun{}
	add := func(r *applyRun) { runs[r.ID] = r }
	for _, n := range m.Sizes {
		f := float64(n) / 100
		add(fixtureApply(m, "provider", n, 50, 6.1*f+2.4, 2.3, 491*n/100, 0))
		add(fixtureApply(m, "provider", n, 10, 22.8*f+1.8, 1.9, 549*n/100, 0))
		add(fixtureApply(m, "callback", n, 50, 5.9*f+2.2, 2.2, n, n))
		add(fixtureApply(m, "baseline", n, 50, 25.5*f+3.2, 1.2, 105*n/100, 0))
	}
	runs["provider-n500-p10"].steady429 = 2
	runs["provider-n500-p10"].Stats.RateLimited = 7
	runs["callback-n100-p50"].Stats.CallbacksFailed = 1
	big := fixtureApply(m, "provider", 50, 50, 10.3, 0.5, 100, 0)
	big.ID, big.Bytes, big.Sampler.ProviderPeakHWMKiB = "bigdl-cdn-n50", 50*20_980_000, 45_056
	runs[big.ID] = big
	big4 := fixtureApply(m, "provider", 50, 50, 22.4, 0.5, 100, 0)
	big4.ID, big4.Bytes, big4.Sampler.ProviderPeakHWMKiB = "bigdl-mock4-n50", 50*820_000, 52_224
	runs[big4.ID] = big4
	large := fixtureApply(m, "provider", 5000, 50, 548.2, 21.6, 24_950, 0)
	large.ID, large.Bytes, large.Sampler.ProviderPeakHWMKiB, large.Sampler.ProviderCPUSec = "large-provider-n5000-p50", 5000*10_594, 187_392, 212.4
	large.MockCPUSec = ptr(31.7)
	large.created = []createdSample{{30, 0}, {40.2, 12}, {89.6, 1000}, {205.1, 2500}, {548, 5000}}
	runs[large.ID] = large
	floor := fixtureApply(m, "floor", 5000, 50, 501.3, 0, 0, 0)
	floor.ID, floor.Files, floor.Bytes, floor.Stats, floor.tasksInRun = "large-floor-n5000-p50", 0, 0, mockStats{}, 0
	floor.Sampler.ProviderPeakHWMKiB, floor.MockCPUSec = 98_304, ptr(0.2)
	floor.created = []createdSample{{30, 0}, {36.8, 120}, {55.0, 1000}, {170.3, 2500}, {501.2, 5000}}
	runs[floor.ID] = floor
	plans := fixturePlans(m.PlanN, "provider-first", "provider", "provider-floor", "baseline", "provider-nofile",
		"provider-empty", "baseline-empty")
	plans["plan-provider-empty-2"].Sampler.ProviderPeakHWMKiB = 0
	var shared []*sharedScenario
	for t := 1; t <= 3; t++ {
		d := 0.4 * float64(t-2)
		shared = append(shared,
			fixtureShared(fmt.Sprintf("shared-3-t%d", t), false, 100, []float64{0, 0.05, 0.1 * float64(t)},
				[]float64{14.3 + d, 20.5 + d, 19.6 - d}, 2.1, 30+t),
			fixtureShared(fmt.Sprintf("shared-join-t%d", t), true, 100, []float64{0, 3.6 + 0.1*float64(t)},
				[]float64{9.5, 10.9 + d}, 1.3, 10*t))
	}
	// readShared's order: together first, then the joining scenarios.
	shared = []*sharedScenario{shared[0], shared[2], shared[4], shared[1], shared[3], shared[5]}
	return fixture{m: m, runs: runs, plans: plans, cdn: &cdnStats{Downloads: 50, PeakConcurrent: 50, Bytes: 50 * 20_980_000},
		shared: shared}
}

func degradedFixture() fixture {
	m := fixtureMeta()
	m.Quick, m.Sizes, m.Scale, m.PlanN, m.BigN, m.BigMiB, m.SharedN, m.LargeN = true, []int{20}, 1, 50, 5, 8, 20, 200
	m.Command = "BENCH_QUICK=1 make bench"
	m.WindowMs, m.LatencyMs, m.JitterMs = 7000, 10000, 20000
	m.Provider.WindowAttr, m.Provider.InitialAttr, m.Provider.SafetyPoll = "", "", ""
	m.ImageMin, m.ImageMax, m.ImageScale = 0, 0, 0
	m.LoadStart, m.Nproc = "3.5 1 1", "2"
	runs := map[string]*applyRun{}
	p := fixtureApply(m, "provider", 20, 50, 40.5, 1.1, 100, 3)
	p.ExitCode, p.Files, p.Bytes = 1, 17, 0
	p.steady429, p.statsSampled = -1, false
	runs[p.ID] = p
	q := fixtureApply(m, "provider", 20, 10, 44, 0.9, 200, 0)
	q.Stats.GenerateRequests, q.Stats.TasksCreated = 21, 21
	runs[q.ID] = q
	b := fixtureApply(m, "baseline", 20, 50, 80, 1, 30, 0)
	b.Files, b.Bytes = 0, 0
	runs[b.ID] = b
	big := fixtureApply(m, "provider", 5, 50, 3, 0.2, 10, 0)
	big.ID, big.ExitCode, big.Files = "bigdl-cdn-n5", 2, 4
	big.Sampler.ProviderPeakHWMKiB = 160_000
	runs[big.ID] = big
	// The large apply ran out of memory's target and had no floor to compare with.
	large := fixtureApply(m, "provider", 200, 50, 60, 2, 1000, 0)
	large.ID, large.Sampler.ProviderPeakHWMKiB = "large-provider-n200-p50", 300_000
	runs[large.ID] = large
	plans := fixturePlans(m.PlanN, "provider", "provider-floor", "baseline-empty")
	plans["plan-provider-2"].ExitCode, plans["plan-provider-2"].APICalls = 2, 3
	shared := []*sharedScenario{fixtureShared("shared-3", false, 20, []float64{0, 0, 0}, []float64{30, 31, 32}, 0.5, 12)}
	shared[0].Runs[1].ExitCode, shared[0].Runs[1].Files = 1, 18
	shared[0].Stats.TasksCreated++
	noTasks := fixtureShared("shared-join", true, 20, []float64{0, 2}, []float64{9, 9}, 0.5, 0)
	noTasks.tasks = nil
	shared = append(shared, noTasks)
	return fixture{m: m, runs: runs, plans: plans, cdn: &cdnStats{}, shared: shared}
}

// emptyFixture is a run where nothing but the setup is known.
func emptyFixture() fixture {
	m := fixtureMeta()
	m.LoadStart = ""
	return fixture{m: m, runs: map[string]*applyRun{}, plans: map[string]*planRun{}, cdn: &cdnStats{}}
}

func ptr[T any](v T) *T { return &v }
