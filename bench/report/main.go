// Command report turns the raw results of scripts/bench.sh (meta.json, runs/, csv/, shared/ in one
// results folder) into the report's figures, written as REPORT.json (report.go), and renders them
// as REPORT.md with report.md.tmpl: a table per scenario and PASS/FAIL per target.
//
//	report -dir bench/work/s10 -out bench/REPORT.md -chart inflight.png   # also writes bench/REPORT.json
//	report -data bench/REPORT.json -out bench/REPORT.md                   # re-render only
package main

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

type meta struct {
	Date      string  `json:"date"`
	Command   string  `json:"command"`
	Scale     float64 `json:"scale"`
	Sizes     []int   `json:"sizes"`
	Quick     bool    `json:"quick"`
	Nproc     string  `json:"nproc"`
	CPU       string  `json:"cpu"`
	Mem       string  `json:"mem"`
	Kernel    string  `json:"kernel"`
	LoadStart string  `json:"loadStart"`
	LoadEnd   string  `json:"loadEnd"`
	CLI       string  `json:"cli"`
	Go        string  `json:"go"`
	Commit    string  `json:"commit"`
	CreateLim int     `json:"createLimit"`
	LatencyMs float64 `json:"latencyMs"`
	JitterMs  float64 `json:"jitterMs"`
	WindowMs  float64 `json:"windowMs"`
	PlanN     int     `json:"planN"`
	ImageMin  int64   `json:"imageMinBytes"`
	ImageMax  int64   `json:"imageMaxBytes"`
	// ImageScale is kie-mock's -image-scale for the apply and plan runs (0 in reports before it: 1).
	ImageScale float64 `json:"imageScale"`
	BigN       int     `json:"bigN"`
	BigMiB     float64 `json:"bigMiB"`
	BigRate    float64 `json:"bigRateMiB"`
	SharedN    int     `json:"sharedN"`
	// The large apply (0 in reports before it): images, -parallelism and kie-mock's -image-scale.
	LargeN          int     `json:"largeN"`
	LargePar        int     `json:"largeParallelism"`
	LargeImageScale float64 `json:"largeImageScale"`
	// RetryAfterUnit is kie-mock's -retry-after-unit.
	RetryAfterUnit string `json:"retryAfterUnit"`
	Provider       struct {
		PollMin         string `json:"pollMin"`
		PollMax         string `json:"pollMax"`
		RequestTimeout  string `json:"requestTimeout"`
		QueryRate       string `json:"queryRate"`
		CreateRateLimit int    `json:"createRateLimit"`
		WindowAttr      string `json:"windowAttr"`
		Window          string `json:"window"`
		InitialAttr     string `json:"initialDelayAttr"`
		InitialDelay    string `json:"initialDelay"`
		SafetyPoll      string `json:"safetyPoll"`
	} `json:"provider"`
	Baseline struct {
		Poll       string `json:"poll"`
		RetrySleep string `json:"retrySleep"`
	} `json:"baseline"`
}

type mockStats struct {
	GenerateRequests int `json:"generateRequests"`
	TasksCreated     int `json:"tasksCreated"`
	StatusQueries    int `json:"statusQueries"`
	Downloads        int `json:"downloads"`
	RateLimited      int `json:"rateLimited"`
	PeakInFlight     int `json:"peakInFlight"`
	CallbacksSent    int `json:"callbacksSent"`
	CallbacksFailed  int `json:"callbacksFailed"`
	// The Market API's share of the counters above (kie_image; 0 in runs without it).
	MarketCreateRequests int `json:"marketCreateRequests,omitempty"`
	MarketTasksCreated   int `json:"marketTasksCreated,omitempty"`
	MarketRateLimited    int `json:"marketRateLimited,omitempty"`
	MarketStatusQueries  int `json:"marketStatusQueries,omitempty"`
}

type samplerSummary struct {
	PeakInFlight       int     `json:"peakInFlight"`
	ProviderProcesses  int     `json:"providerProcesses"`
	ProviderPeakHWMKiB int64   `json:"providerPeakHwmKiB"`
	ProviderPeakRSSKiB int64   `json:"providerPeakRssKiB"`
	CLIPeakHWMKiB      int64   `json:"cliPeakHwmKiB"`
	TreePeakRSSKiB     int64   `json:"treePeakRssKiB"`
	ProviderCPUSec     float64 `json:"providerCpuSec"`
	CLICPUSec          float64 `json:"cliCpuSec"`
}

type applyRun struct {
	ID          string         `json:"id"`
	Kind        string         `json:"kind"`
	N           int            `json:"n"`
	Parallelism int            `json:"parallelism"`
	ExitCode    int            `json:"exitCode"`
	StartNs     int64          `json:"startNs"`
	WallSec     float64        `json:"wallSec"`
	Files       int            `json:"files"`
	Bytes       int64          `json:"bytes"`
	Stats       mockStats      `json:"stats"`
	Sampler     samplerSummary `json:"sampler"`
	// MockCPUSec is the CPU time kie-mock spent during the run, where it was measured.
	MockCPUSec *float64 `json:"mockCpuSec"`

	// Derived.
	lowerBound   float64
	steady429    int
	apiSpanSec   float64
	startupSec   float64 // the apply's start to its first created task: Terraform's refresh and plan
	meanLatency  float64
	tasksInRun   int
	statsSampled bool
	created      []createdSample // resources created over time, from the sampler's memory CSV
}

func (r *applyRun) ok() bool { return r.ExitCode == 0 && r.Files == r.N }

type planRun struct {
	ID       string         `json:"id"`
	N        int            `json:"n"`
	ExitCode int            `json:"exitCode"`
	WallSec  float64        `json:"wallSec"`
	APICalls int            `json:"apiCalls"`
	Sampler  samplerSummary `json:"sampler"`
}

type cdnStats struct {
	Downloads      int   `json:"downloads"`
	PeakConcurrent int   `json:"peakConcurrent"`
	Bytes          int64 `json:"bytes"`
}

type taskSnapshot struct {
	CreatedAt   time.Time `json:"createdAt"`
	CompletedAt time.Time `json:"completedAt"`
	Prompt      string    `json:"prompt"` // carries the run's [mock:tag=...] in the shared scenarios
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "results folder written by scripts/bench.sh")
	data := flag.String("data", "", "a REPORT.json to render instead of reading -dir (after a template change)")
	out := flag.String("out", "", "Markdown file to write")
	jsonOut := flag.String("json", "", "where -dir's figures go (default: -out with .json for .md)")
	chart := flag.String("chart", "inflight.png", "chart path relative to the report")
	flag.Parse()
	if (*dir == "") == (*data == "") || *out == "" {
		return errors.New("-out and one of -dir or -data are required")
	}
	r := new(Report)
	if *data != "" {
		if err := readJSON(*data, r); err != nil {
			return err
		}
	} else {
		var err error
		if r, err = load(*dir, *chart); err != nil {
			return err
		}
		if err := writeJSON(cmp.Or(*jsonOut, strings.TrimSuffix(*out, ".md")+".json"), r); err != nil {
			return err
		}
	}
	md, err := render(r)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, []byte(md), 0o644)
}

// load reads the raw results in dir and computes the report's figures.
func load(dir, chart string) (*Report, error) {
	var m meta
	if err := readJSON(filepath.Join(dir, "meta.json"), &m); err != nil {
		return nil, err
	}
	runs := map[string]*applyRun{}
	plans := map[string]*planRun{}
	files, err := filepath.Glob(filepath.Join(dir, "runs", "*.json"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		id := strings.TrimSuffix(filepath.Base(f), ".json")
		switch {
		case strings.HasSuffix(id, "-tasks") || strings.HasSuffix(id, "-cdn"):
			continue
		case strings.HasPrefix(id, "plan-"):
			var p planRun
			if err := readJSON(f, &p); err != nil {
				return nil, err
			}
			plans[id] = &p
		default:
			var r applyRun
			if err := readJSON(f, &r); err != nil {
				return nil, err
			}
			derive(dir, &m, &r)
			runs[id] = &r
		}
	}
	var cdn cdnStats
	_ = readJSON(filepath.Join(dir, "runs", fmt.Sprintf("bigdl-cdn-n%d-cdn.json", m.BigN)), &cdn)
	return build(&m, runs, plans, &cdn, chart, sharedOrWarn(dir), mixedOrWarn(dir)), nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// lowerBound is the shortest wall time the mock's limits allow for n images, ignoring every
// overhead: creates are capped at limit per sliding window W, so the last of the ceil(n/limit)
// batches cannot start before (ceil(n/limit)-1)*W; its k tasks take the minimum latency plus a
// uniform share of the jitter each, so the batch ends, on average, after
// Lmin + J*k/(k+1) (the expected maximum of k uniform draws).
func lowerBound(n, limit int, windowSec, lminSec, jitterSec float64) float64 {
	if n <= 0 || limit <= 0 {
		return 0
	}
	batches := (n + limit - 1) / limit
	k := n - limit*(batches-1)
	return float64(batches-1)*windowSec + lminSec + jitterSec*float64(k)/float64(k+1)
}

func derive(dir string, m *meta, r *applyRun) {
	r.lowerBound = lowerBound(r.N, m.CreateLim, m.WindowMs/1000, m.LatencyMs/1000, m.JitterMs/1000)
	r.steady429 = -1
	if s, err := readStatsCSV(filepath.Join(dir, "csv", r.ID+"-stats.csv")); err == nil && len(s) > 0 {
		r.statsSampled = true
		r.steady429 = steadyRateLimited(s, m.WindowMs/1000)
	}
	r.created, _ = readCreatedCSV(filepath.Join(dir, "csv", r.ID+"-rss.csv"))
	var tasks []taskSnapshot
	if err := readJSON(filepath.Join(dir, "runs", r.ID+"-tasks.json"), &tasks); err == nil {
		start := time.Unix(0, r.StartNs)
		var first, last time.Time
		var sum time.Duration
		for _, t := range tasks {
			if t.CreatedAt.Before(start) || t.CompletedAt.IsZero() {
				continue
			}
			r.tasksInRun++
			if first.IsZero() || t.CreatedAt.Before(first) {
				first = t.CreatedAt
			}
			if t.CompletedAt.After(last) {
				last = t.CompletedAt
			}
			sum += t.CompletedAt.Sub(t.CreatedAt)
		}
		if r.tasksInRun > 0 {
			r.startupSec = first.Sub(start).Seconds()
			r.apiSpanSec = last.Sub(first).Seconds()
			r.meanLatency = (sum / time.Duration(r.tasksInRun)).Seconds()
		}
	}
}

type statsSample struct {
	t           float64
	generate    int
	rateLimited int
}

func readStatsCSV(path string) ([]statsSample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	ti, gi, ri := col["t_sec"], col["generate_requests"], col["rate_limited"]
	var out []statsSample
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		t, _ := strconv.ParseFloat(rec[ti], 64)
		g, _ := strconv.Atoi(rec[gi])
		rl, _ := strconv.Atoi(rec[ri])
		out = append(out, statsSample{t, g, rl})
	}
	return out, nil
}

type createdSample struct {
	t       float64
	created int
}

// readCreatedCSV reads the sampler's count of created resources over time; nil for a CSV without it.
func readCreatedCSV(path string) ([]createdSample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, err
	}
	ti, ci := slices.Index(header, "t_sec"), slices.Index(header, "created")
	if ti < 0 || ci < 0 {
		return nil, nil
	}
	var out []createdSample
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		t, err1 := strconv.ParseFloat(rec[ti], 64)
		c, err2 := strconv.Atoi(rec[ci])
		if err1 == nil && err2 == nil {
			out = append(out, createdSample{t, c})
		}
	}
}

// steadyRateLimited counts the 429s after the first create window: from the first sample that shows
// a generate request, plus one window (sampling makes the edge uncertain by one interval).
func steadyRateLimited(s []statsSample, windowSec float64) int {
	first := -1.0
	for _, x := range s {
		if x.generate > 0 {
			first = x.t
			break
		}
	}
	if first < 0 {
		return 0
	}
	atEdge := 0
	for _, x := range s {
		if x.t <= first+windowSec {
			atEdge = x.rateLimited
		}
	}
	return s[len(s)-1].rateLimited - atEdge
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianPlan is the median wall time of the three plans of a kind, if all of them ran.
func medianPlan(plans map[string]*planRun, kind string) (float64, bool) {
	var ws []float64
	for rep := 1; rep <= 3; rep++ {
		if pp := plans[fmt.Sprintf("plan-%s-%d", kind, rep)]; pp != nil {
			ws = append(ws, pp.WallSec)
		}
	}
	if len(ws) == 0 {
		return 0, false
	}
	return median(ws), true
}

// busyMachine reports whether other work already loaded the machine before the benchmark started: a
// 1-minute load average above the number of CPUs.
func busyMachine(m *meta) (bool, string) {
	fields := strings.Fields(m.LoadStart)
	cpus, err := strconv.Atoi(strings.TrimSpace(m.Nproc))
	if len(fields) == 0 || err != nil || cpus <= 0 {
		return false, ""
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return false, ""
	}
	return load > float64(cpus), strings.Join(fields, ", ")
}

// pictureSize is the size kie-mock draws a 16:9 picture at the given -image-scale, as "W×H".
func pictureSize(scale float64) string {
	w, h, _ := kiemock.ScaledSize("16:9", scale)
	return fmt.Sprintf("%d×%d", w, h)
}
