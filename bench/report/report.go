package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Report is every figure of REPORT.md; report.md.tmpl only words and formats them. It is written
// as REPORT.json beside the Markdown, so a template change can be re-rendered without a new run.
// A new scenario is rows (an ApplyTable, say) and Targets here, plus a line of report.md.tmpl.
type Report struct {
	Run     *meta          `json:"run"` // scripts/bench.sh's meta.json: command, machine, knobs
	Setup   Setup          `json:"setup"`
	Caveats Caveats        `json:"caveats"`
	Targets []Target       `json:"targets"`
	Applies []ApplyTable   `json:"applies"`
	Shared  *SharedSection `json:"shared,omitempty"`
	Mixed   *SharedSection `json:"mixed,omitempty"` // Flux and Market images on one account (mixed.go)
	Large   *LargeSection  `json:"large,omitempty"`
	Chart   Chart          `json:"chart"`
	Plan    *PlanSection   `json:"plan,omitempty"`
	Memory  MemorySection  `json:"memory"`
}

// Setup holds the figures derived from the run's knobs.
type Setup struct {
	WindowSec     float64 `json:"windowSec"`
	LatencyMinSec float64 `json:"latencyMinSec"`
	LatencyMaxSec float64 `json:"latencyMaxSec"`
	ImageScale    float64 `json:"imageScale"`
	PictureSize   string  `json:"pictureSize"`     // what kie-mock drew in the apply and plan runs
	FullSize      string  `json:"fullPictureSize"` // at -image-scale 1
}

type Caveats struct {
	// UnscaledWindow: the provider has no create-window option, so its limit stays per 10 s.
	UnscaledWindow bool `json:"unscaledWindow"`
	// BusyLoad is the load average before the run when it exceeded the CPUs ("" when not).
	BusyLoad string `json:"busyLoad,omitempty"`
}

// Ratio is a quotient that may be infinite; JSON has no Inf or NaN, so those are written as null.
type Ratio float64

func (r Ratio) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(r), 0) || math.IsNaN(float64(r)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(r))
}

// UnmarshalJSON reads null back as +Inf: a ratio without a bound to compare with.
func (r *Ratio) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = Ratio(math.Inf(1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*r = Ratio(f)
	return err
}

// ApplyTable is one section of timed applies: a row per configuration.
type ApplyTable struct {
	Title string     `json:"title"`
	Rows  []ApplyRow `json:"rows"`
}

// MemorySection is the large-download scenario: its runs and bench/cdn's counters.
type MemorySection struct {
	Rows []ApplyRow `json:"rows"`
	CDN  cdnStats   `json:"cdn"`
}

// ApplyRow is one timed apply with its derived figures.
type ApplyRow struct {
	ID            string         `json:"id"`
	Configuration string         `json:"configuration"`
	Kind          string         `json:"kind"`
	N             int            `json:"n"`
	Parallelism   int            `json:"parallelism"`
	ExitCode      int            `json:"exitCode"`
	OK            bool           `json:"ok"` // exit 0 and every file written
	Files         int            `json:"files"`
	MeanFileBytes float64        `json:"meanFileBytes"`
	WallSec       float64        `json:"wallSec"`
	LowerBoundSec float64        `json:"lowerBoundSec"`
	Ratio         Ratio          `json:"ratio"`
	StartupSec    float64        `json:"startupSec"` // the apply's start to its first created task
	APISpanSec    float64        `json:"apiSpanSec"`
	MeanGenSec    float64        `json:"meanGenerationSec"`
	Steady429     int            `json:"steady429"` // -1: no samples
	NoProvider    bool           `json:"noProvider"`
	Callbacks     bool           `json:"callbacks"` // the run was told of finished tasks by callbacks
	Stats         mockStats      `json:"stats"`
	Sampler       samplerSummary `json:"sampler"`
}

type Chart struct {
	N    int    `json:"n"`
	Path string `json:"path"`
}

type PlanSection struct {
	N    int       `json:"n"`
	Rows []PlanRow `json:"rows"`
}

// PlanRow is one configuration's plans: its three timed plans (one for the first plan).
type PlanRow struct {
	Kind            string     `json:"kind"`
	Configuration   string     `json:"configuration"`
	Times           []PlanTime `json:"times"`
	MedianSec       float64    `json:"medianSec"`
	APICalls        int        `json:"apiCalls"`
	NoProvider      bool       `json:"noProvider"`
	ProviderPeakKiB int64      `json:"providerPeakKiB"`
	CLIPeakKiB      int64      `json:"cliPeakKiB"`
	ProviderCPUSec  float64    `json:"providerCpuSecMedian"`
	CLICPUSec       float64    `json:"cliCpuSecMedian"`
}

type PlanTime struct {
	WallSec  float64 `json:"wallSec"`
	ExitCode int     `json:"exitCode"`
}

// build computes the report's figures from the raw results.
func build(m *meta, runs map[string]*applyRun, plans map[string]*planRun, cdn *cdnStats, chart string,
	shared, mixed []*sharedScenario) *Report {
	scale := cmp.Or(m.ImageScale, 1)
	r := &Report{
		Run: m,
		Setup: Setup{WindowSec: m.WindowMs / 1000, LatencyMinSec: m.LatencyMs / 1000,
			LatencyMaxSec: (m.LatencyMs + m.JitterMs) / 1000, ImageScale: scale, PictureSize: pictureSize(scale),
			FullSize: pictureSize(1)},
		Caveats: Caveats{UnscaledWindow: m.Provider.WindowAttr == "" && m.WindowMs != 10000},
		Chart:   Chart{N: maxSize(m), Path: chart},
		Shared:  sharedSection(m, shared),
		Mixed:   sharedSection(m, mixed),
		Large:   largeSection(m, runs),
		Plan:    planSection(m, plans),
		Memory:  MemorySection{CDN: *cdn},
	}
	if busy, load := busyMachine(m); busy {
		r.Caveats.BusyLoad = load
	}
	for _, n := range m.Sizes {
		t := ApplyTable{Title: fmt.Sprintf("Apply, N = %d", n)}
		for _, id := range []string{fmt.Sprintf("provider-n%d-p50", n), fmt.Sprintf("provider-n%d-p10", n),
			fmt.Sprintf("callback-n%d-p50", n), fmt.Sprintf("baseline-n%d-p50", n)} {
			if run := runs[id]; run != nil {
				t.Rows = append(t.Rows, applyRow(run, describe(run)))
			}
		}
		r.Applies = append(r.Applies, t)
	}
	if run := runs[fmt.Sprintf("bigdl-cdn-n%d", m.BigN)]; run != nil {
		r.Memory.Rows = append(r.Memory.Rows, applyRow(run, fmt.Sprintf("`bench/cdn` stand-in: a %g MiB noise PNG at %g MiB/s "+
			"per download (%d downloads, at most %d at once)", m.BigMiB, m.BigRate, cdn.Downloads, cdn.PeakConcurrent)))
	}
	if run := runs[fmt.Sprintf("bigdl-mock4-n%d", m.BigN)]; run != nil {
		r.Memory.Rows = append(r.Memory.Rows, applyRow(run, "kie-mock's own largest images (`-image-scale 4`, JPEG 16:9, "+pictureSize(4)+")"))
	}
	r.Targets = append(targets(m, runs, plans, cdn, shared), mixedTargets(m, mixed)...)
	return r
}

func applyRow(r *applyRun, configuration string) ApplyRow {
	row := ApplyRow{ID: r.ID, Configuration: configuration, Kind: r.Kind, N: r.N, Parallelism: r.Parallelism,
		ExitCode: r.ExitCode, OK: r.ok(), Files: r.Files, WallSec: r.WallSec, LowerBoundSec: r.lowerBound,
		Ratio: Ratio(r.WallSec / r.lowerBound), StartupSec: r.startupSec, APISpanSec: r.apiSpanSec,
		MeanGenSec: r.meanLatency, Steady429: r.steady429, NoProvider: r.Kind == "baseline",
		Callbacks: r.Kind == "callback" || r.Stats.CallbacksSent+r.Stats.CallbacksFailed > 0,
		Stats:     r.Stats, Sampler: r.Sampler}
	if r.Files > 0 {
		row.MeanFileBytes = float64(r.Bytes) / float64(r.Files)
	}
	return row
}

func describe(r *applyRun) string {
	switch r.Kind {
	case "baseline":
		return fmt.Sprintf("terraform_data + local-exec curl, -parallelism=%d", r.Parallelism)
	case "callback":
		return fmt.Sprintf("kie_flux_image + callback_receiver, -parallelism=%d", r.Parallelism)
	}
	return fmt.Sprintf("kie_flux_image, -parallelism=%d", r.Parallelism)
}

// planKinds are the plan configurations in the table's order.
func planKinds(n int) []struct{ kind, name string } {
	return []struct{ kind, name string }{
		{"provider-first", fmt.Sprintf("%d `kie_flux_image` with `output_path`, the first plan after the apply (hashes every file once; diagnostic)", n)},
		{"provider", fmt.Sprintf("%d `kie_flux_image` with `output_path` (target)", n)},
		{"provider-floor", fmt.Sprintf("%d `kie_flux_image` with `output_path`, served by `bench/noop-provider` (the target's floor: Terraform's own cost)", n)},
		{"baseline", fmt.Sprintf("%d `terraform_data` (comparison)", n)},
		{"provider-nofile", fmt.Sprintf("%d `kie_flux_image` without `output_path` (diagnostic)", n)},
		{"provider-empty", "0 resources, `kie` provider configured (diagnostic: fixed cost)"},
		{"baseline-empty", "0 resources, no provider (diagnostic: fixed cost)"},
	}
}

// planSection is nil when neither the provider's nor the baseline's repeated plans ran.
func planSection(m *meta, plans map[string]*planRun) *PlanSection {
	if _, ok := medianPlan(plans, "provider"); !ok {
		if _, ok := medianPlan(plans, "baseline"); !ok {
			return nil
		}
	}
	s := &PlanSection{N: m.PlanN}
	for _, k := range planKinds(m.PlanN) {
		row := PlanRow{Kind: k.kind, Configuration: k.name, NoProvider: strings.HasPrefix(k.kind, "baseline")}
		var ws, provCPU, cliCPU []float64
		for rep := 1; rep <= 3; rep++ {
			p := plans[fmt.Sprintf("plan-%s-%d", k.kind, rep)]
			if p == nil {
				continue
			}
			row.Times = append(row.Times, PlanTime{WallSec: p.WallSec, ExitCode: p.ExitCode})
			ws = append(ws, p.WallSec)
			provCPU = append(provCPU, p.Sampler.ProviderCPUSec)
			cliCPU = append(cliCPU, p.Sampler.CLICPUSec)
			row.APICalls += p.APICalls
			row.ProviderPeakKiB = max(row.ProviderPeakKiB, p.Sampler.ProviderPeakHWMKiB)
			row.CLIPeakKiB = max(row.CLIPeakKiB, p.Sampler.CLIPeakHWMKiB)
		}
		if len(ws) == 0 {
			continue
		}
		row.MedianSec, row.ProviderCPUSec, row.CLICPUSec = median(ws), median(provCPU), median(cliCPU)
		s.Rows = append(s.Rows, row)
	}
	return s
}
