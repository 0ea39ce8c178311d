package main

import (
	"fmt"
)

// Target is one row of the Targets table. Kind names the template block ("measured-<kind>") that
// words the figures; the figures are in the one field its kind uses.
type Target struct {
	Kind   string         `json:"kind"`
	Name   string         `json:"name"`
	Pass   bool           `json:"pass"`
	Wall   *WallFigures   `json:"wall,omitempty"`
	Runs   []RunFigures   `json:"runs,omitempty"`
	Plan   *PlanFigures   `json:"plan,omitempty"`
	Memory *MemoryFigures `json:"memory,omitempty"`
	Shared []SharedGroup  `json:"shared,omitempty"`
	Large  *LargeFigures  `json:"large,omitempty"`
}

// Failure is set when an apply did not write every file.
type Failure struct {
	ExitCode int `json:"exitCode"`
	Files    int `json:"files"`
	N        int `json:"n"`
}

func failure(r *applyRun) *Failure {
	if r.ok() {
		return nil
	}
	return &Failure{ExitCode: r.ExitCode, Files: r.Files, N: r.N}
}

// WallFigures: the wall time counted from the first request (asked) and from the apply's start.
type WallFigures struct {
	AskedSec   float64      `json:"askedSec"`
	BoundSec   float64      `json:"boundSec"`
	Ratio      Ratio        `json:"ratio"`
	StartupSec float64      `json:"startupSec"`
	WallSec    float64      `json:"wallSec"`
	WallRatio  Ratio        `json:"wallRatio"`
	Baseline   *WallFigures `json:"baseline,omitempty"`
	Failure    *Failure     `json:"failure,omitempty"`
}

func wallFigures(r *applyRun) *WallFigures {
	asked := r.WallSec - r.startupSec
	return &WallFigures{AskedSec: asked, BoundSec: r.lowerBound, Ratio: Ratio(asked / r.lowerBound),
		StartupSec: r.startupSec, WallSec: r.WallSec, WallRatio: Ratio(r.WallSec / r.lowerBound), Failure: failure(r)}
}

// RunFigures is one apply's share of a per-run target.
type RunFigures struct {
	N           int      `json:"n"`
	Parallelism int      `json:"parallelism,omitempty"`
	NotRun      bool     `json:"notRun,omitempty"`
	Count       int      `json:"count,omitempty"` // POSTs or status queries
	PerImage    float64  `json:"perImage,omitempty"`
	Sampled     bool     `json:"sampled,omitempty"`
	Steady429   int      `json:"steady429,omitempty"`
	RateLimited int      `json:"rateLimited,omitempty"`
	Sent        int      `json:"callbacksSent,omitempty"`
	Failed      int      `json:"callbacksFailed,omitempty"`
	Failure     *Failure `json:"failure,omitempty"`
}

type PlanFigures struct {
	APICalls  int           `json:"apiCalls"`
	Plans     int           `json:"plans"`
	MedianSec float64       `json:"medianSec"` // of the repeated plans
	FloorSec  float64       `json:"floorSec"`  // bench/noop-provider's median
	Ratio     Ratio         `json:"ratio"`
	NoChanges bool          `json:"noChanges"` // every plan reported no changes
	Baseline  *PlanBaseline `json:"baseline,omitempty"`
}

// PlanBaseline is the same plan of terraform_data resources, for comparison.
type PlanBaseline struct {
	N         int     `json:"n"`
	MedianSec float64 `json:"medianSec"`
	Ratio     Ratio   `json:"ratio"` // the provider's median over the baseline's
}

type MemoryFigures struct {
	PeakKiB        int64    `json:"peakKiB"`
	PeakMB         float64  `json:"peakMB"`
	Downloads      int      `json:"downloads"`
	DownloadMB     float64  `json:"downloadMB"`
	PeakConcurrent int      `json:"peakConcurrent"`
	Failure        *Failure `json:"failure,omitempty"`
}

// targets judges every target, in the table's order.
func targets(m *meta, runs map[string]*applyRun, plans map[string]*planRun, cdn *cdnStats, shared []*sharedScenario) []Target {
	largest := maxSize(m)
	var out []Target
	if t, ok := wallTarget(runs, largest); ok {
		out = append(out, t)
	}
	out = append(out, largeTargets(m, runs)...)
	var prov []*applyRun
	for _, n := range m.Sizes {
		for _, par := range []int{50, 10} {
			if r := runs[fmt.Sprintf("provider-n%d-p%d", n, par)]; r != nil {
				prov = append(prov, r)
			}
		}
	}
	if id, _ := largeIDs(m); runs[id] != nil {
		prov = append(prov, runs[id])
	}
	out = append(out, postsTarget(prov), queriesTarget(prov), steady429Target(prov))
	if t, ok := planTarget(m, plans); ok {
		out = append(out, t)
	}
	if r := runs[fmt.Sprintf("bigdl-cdn-n%d", m.BigN)]; r != nil {
		out = append(out, memoryTarget(m, r, cdn))
	}
	out = append(out, callbackTarget(m, runs))
	return append(out, sharedTargets(m, shared)...)
}

func maxSize(m *meta) int {
	n := 0
	for _, s := range m.Sizes {
		n = max(n, s)
	}
	return n
}

func wallTarget(runs map[string]*applyRun, largest int) (Target, bool) {
	pr := runs[fmt.Sprintf("provider-n%d-p50", largest)]
	if pr == nil {
		return Target{}, false
	}
	t := Target{Kind: "wall", Wall: wallFigures(pr), Name: fmt.Sprintf("Wall time at N = %d (-parallelism=50) within 1.15× "+
		"of the lower bound, counted from the first request (Terraform's refresh and plan before it, measured in the run, "+
		"is the floor below the target)", largest)}
	if largest != 500 {
		t.Name += " (target is stated for N = 500)"
	}
	if br := runs[fmt.Sprintf("baseline-n%d-p50", largest)]; br != nil {
		t.Wall.Baseline = wallFigures(br)
		t.Wall.Baseline.Failure = nil // the baseline's failures are in its table row
	}
	t.Pass = pr.ok() && pr.tasksInRun > 0 && t.Wall.AskedSec <= 1.15*pr.lowerBound
	return t, true
}

func postsTarget(prov []*applyRun) Target {
	t := Target{Kind: "posts", Name: "Exactly one POST (generate request) per image", Pass: len(prov) > 0}
	for _, r := range prov {
		t.Runs = append(t.Runs, RunFigures{N: r.N, Parallelism: r.Parallelism, Count: r.Stats.GenerateRequests})
		t.Pass = t.Pass && r.ok() && r.Stats.GenerateRequests == r.N && r.Stats.TasksCreated == r.N
	}
	return t
}

func queriesTarget(prov []*applyRun) Target {
	t := Target{Kind: "queries", Name: "Polling only: at most 8 status queries per image on average", Pass: len(prov) > 0}
	for _, r := range prov {
		q := float64(r.Stats.StatusQueries) / float64(max(r.N, 1))
		t.Runs = append(t.Runs, RunFigures{N: r.N, Parallelism: r.Parallelism, Count: r.Stats.StatusQueries, PerImage: q})
		t.Pass = t.Pass && r.ok() && q <= 8
	}
	return t
}

func steady429Target(prov []*applyRun) Target {
	t := Target{Kind: "steady429", Name: "No 429 in steady state (429s after the first create window; total in parentheses)",
		Pass: len(prov) > 0}
	for _, r := range prov {
		f := RunFigures{N: r.N, Parallelism: r.Parallelism, Sampled: r.steady429 >= 0}
		if f.Sampled {
			f.Steady429, f.RateLimited = r.steady429, r.Stats.RateLimited
		}
		t.Runs = append(t.Runs, f)
		t.Pass = t.Pass && r.steady429 == 0
	}
	return t
}

// planTarget needs the repeated plans and the floor's: the target compares the two.
func planTarget(m *meta, plans map[string]*planRun) (Target, bool) {
	var prov []float64
	f := &PlanFigures{NoChanges: true}
	for rep := 1; rep <= 3; rep++ {
		if p := plans[fmt.Sprintf("plan-provider-%d", rep)]; p != nil {
			prov = append(prov, p.WallSec)
			f.APICalls += p.APICalls
			f.NoChanges = f.NoChanges && p.ExitCode == 0
		}
		if b := plans[fmt.Sprintf("plan-baseline-%d", rep)]; b != nil {
			f.NoChanges = f.NoChanges && b.ExitCode == 0
		}
	}
	f.Plans = len(prov)
	if first := plans["plan-provider-first-1"]; first != nil {
		f.APICalls += first.APICalls
		f.NoChanges = f.NoChanges && first.ExitCode == 0
		f.Plans++
	}
	floor, ok := medianPlan(plans, "provider-floor")
	if !ok || len(prov) == 0 {
		return Target{}, false
	}
	f.MedianSec, f.FloorSec = median(prov), floor
	f.Ratio = Ratio(f.MedianSec / floor)
	if bm, ok := medianPlan(plans, "baseline"); ok {
		f.Baseline = &PlanBaseline{N: m.PlanN, MedianSec: bm, Ratio: Ratio(f.MedianSec / bm)}
	}
	name := fmt.Sprintf("Plan (with refresh) of %d finished images", m.PlanN)
	if m.ImageMax > 0 {
		name += fmt.Sprintf(" with %.3g–%.3g MB files", float64(m.ImageMin)/1e6, float64(m.ImageMax)/1e6)
	}
	name += ": 0 API calls, plan time within 1.15× of `bench/noop-provider` (Terraform's own cost for this schema), measured side by side"
	return Target{Kind: "plan", Name: name, Plan: f,
		Pass: f.NoChanges && f.APICalls == 0 && f.MedianSec <= 1.15*floor}, true
}

func memoryTarget(m *meta, r *applyRun, cdn *cdnStats) Target {
	f := &MemoryFigures{PeakKiB: r.Sampler.ProviderPeakHWMKiB, PeakMB: mb(r.Sampler.ProviderPeakHWMKiB),
		Downloads: cdn.Downloads, DownloadMB: float64(cdn.Bytes) / 1e6, PeakConcurrent: cdn.PeakConcurrent, Failure: failure(r)}
	name := "Provider peak RSS under 150 MB while downloading 50 images of 20 MB at once"
	if m.BigN != 50 || m.BigMiB != 20 {
		name += fmt.Sprintf(" (this run: %d images of %g MiB)", m.BigN, m.BigMiB)
	}
	return Target{Kind: "memory", Name: name, Memory: f, Pass: r.ok() && f.PeakMB < 150}
}

func callbackTarget(m *meta, runs map[string]*applyRun) Target {
	t := Target{Kind: "callback", Name: "Callback-receiver variant: at most 1.5 status queries per image", Pass: len(m.Sizes) > 0}
	for _, n := range m.Sizes {
		r := runs[fmt.Sprintf("callback-n%d-p50", n)]
		if r == nil {
			t.Runs = append(t.Runs, RunFigures{N: n, NotRun: true})
			t.Pass = false
			continue
		}
		q := float64(r.Stats.StatusQueries) / float64(max(r.N, 1))
		t.Runs = append(t.Runs, RunFigures{N: r.N, Parallelism: r.Parallelism, Count: r.Stats.StatusQueries, PerImage: q,
			Sent: r.Stats.CallbacksSent, Failed: r.Stats.CallbacksFailed, Failure: failure(r)})
		t.Pass = t.Pass && r.ok() && q <= 1.5
	}
	return t
}
