package main

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// sharedScenario is one shared-account scenario of scripts/bench.sh: several applies with one key
// against one kie-mock, each in its own working directory and provider process.
type sharedScenario struct {
	ID          string              `json:"id"`
	N           int                 `json:"n"` // images per run
	Parallelism int                 `json:"parallelism"`
	Join        bool                `json:"join"` // run 2 started once run 1 had created half of its images
	Runs        []sharedRun         `json:"runs"`
	Stats       mockStats           `json:"stats"` // the whole account
	Tags        map[string]tagStats `json:"tags"`  // per run, by its prompt tag
	// Limits are the mock's when they differ from the run's (the mixed scenario's real-time runs);
	// Mix splits each run's images between the two APIs (mixed scenarios only).
	Limits *scenarioLimits `json:"limits,omitempty"`
	Mix    *scenarioMix    `json:"mix,omitempty"`

	tasks []taskSnapshot // every task of the mock, from ID.tasks beside the results
}

type sharedRun struct {
	Tag      string `json:"tag"`
	StartNs  int64  `json:"startNs"`
	EndNs    int64  `json:"endNs"`
	ExitCode int    `json:"exitCode"`
	Files    int    `json:"files"`
}

type tagStats struct {
	GenerateRequests int `json:"generateRequests"`
	TasksCreated     int `json:"tasksCreated"`
	RateLimited      int `json:"rateLimited"`
	StatusQueries    int `json:"statusQueries"`
}

func (r sharedRun) failed(n int) int { return max(n-r.Files, 0) }

// Account is a shared scenario summed up for the account.
type Account struct {
	Images        int     `json:"images"`
	ExitCodes     []int   `json:"exitCodes"` // per run
	Failed        int     `json:"failedResources"`
	TasksCreated  int     `json:"tasksCreated"`
	RateLimited   int     `json:"rateLimited"`
	StatusQueries int     `json:"statusQueries"`
	WallSec       float64 `json:"wallSec"` // first run's start to last run's end
	BoundSec      float64 `json:"boundSec"`
	WallRatio     Ratio   `json:"wallRatio"`
	RunsOK        bool    `json:"runsOK"`
	OneTask       bool    `json:"oneTask"` // exactly one created task per image, for the account and for every run
	// As the mock saw the scenario's tasks (0 when unknown): first task created to the last one
	// created, and to the last one finished.
	CreateSpanSec float64 `json:"createSpanSec"`
	APISpanSec    float64 `json:"apiSpanSec"`
	// From the account's first created task on: Terraform's start-up before it (refresh and plan of
	// every run, on this machine's CPUs) is a floor the provider barely touches, so the target is
	// met from there. AskedBoundSec is the lower bound with each run starting at its own first task.
	StartupSec    float64 `json:"startupSec"`
	AskedWallSec  float64 `json:"askedWallSec"`
	AskedBoundSec float64 `json:"askedBoundSec"`
	AskedRatio    Ratio   `json:"askedRatio"` // +Inf (null) without a bound
	Mix           *APIMix `json:"mix,omitempty"`
}

// account computes the account's figures. Its lower bound is the later of what the create limit
// allows for all images together and, for a run that started late, its start plus its own bound.
func (s *sharedScenario) account(m *meta) Account {
	a := Account{Images: s.N * len(s.Runs), RunsOK: len(s.Runs) > 0, OneTask: len(s.Runs) > 0,
		TasksCreated: s.Stats.TasksCreated, RateLimited: s.Stats.RateLimited, StatusQueries: s.Stats.StatusQueries,
		AskedRatio: Ratio(math.Inf(1))}
	if len(s.Runs) == 0 {
		a.WallRatio = Ratio(math.NaN()) // no runs, no bound
		return a
	}
	lim := s.limits(m)
	lb := func(n int) float64 {
		return lowerBound(n, lim.CreateLimit, lim.WindowMs/1000, lim.LatencyMs/1000, lim.JitterMs/1000)
	}
	first := slices.MinFunc(s.Runs, func(x, y sharedRun) int { return int(x.StartNs - y.StartNs) }).StartNs
	last := first
	a.BoundSec = lb(a.Images)
	for _, r := range s.Runs {
		last = max(last, r.EndNs)
		a.BoundSec = max(a.BoundSec, float64(r.StartNs-first)/1e9+lb(s.N))
		a.Failed += r.failed(s.N)
		a.RunsOK = a.RunsOK && r.ExitCode == 0 && r.failed(s.N) == 0
		a.OneTask = a.OneTask && s.Tags[r.Tag].TasksCreated == s.N
		a.ExitCodes = append(a.ExitCodes, r.ExitCode)
	}
	a.WallSec = float64(last-first) / 1e9
	a.WallRatio = Ratio(a.WallSec / a.BoundSec)
	a.OneTask = a.OneTask && s.Stats.TasksCreated == a.Images
	if s.Mix != nil {
		a.Mix = s.apiMix()
		a.OneTask = a.OneTask && a.Mix.FluxTasks == a.Mix.FluxImages && a.Mix.MarketTasks == a.Mix.MarketImages
	}
	var firstTask, lastCreated, lastDone time.Time
	for _, t := range s.tasks {
		if t.CreatedAt.Before(time.Unix(0, first)) || t.CompletedAt.IsZero() {
			continue // an earlier scenario's task
		}
		if firstTask.IsZero() || t.CreatedAt.Before(firstTask) {
			firstTask = t.CreatedAt
		}
		if t.CreatedAt.After(lastCreated) {
			lastCreated = t.CreatedAt
		}
		if t.CompletedAt.After(lastDone) {
			lastDone = t.CompletedAt
		}
	}
	a.AskedWallSec, a.AskedBoundSec = a.WallSec, a.BoundSec
	if !firstTask.IsZero() {
		a.CreateSpanSec, a.APISpanSec = lastCreated.Sub(firstTask).Seconds(), lastDone.Sub(firstTask).Seconds()
		a.StartupSec = firstTask.Sub(time.Unix(0, first)).Seconds()
		a.AskedWallSec = float64(last)/1e9 - float64(firstTask.UnixNano())/1e9
		a.AskedBoundSec = lb(a.Images)
		for _, r := range s.Runs {
			if asked, ok := s.firstTask(r); ok {
				a.AskedBoundSec = max(a.AskedBoundSec, asked.Sub(firstTask).Seconds()+lb(s.N))
			}
		}
	}
	if a.AskedBoundSec > 0 {
		a.AskedRatio = Ratio(a.AskedWallSec / a.AskedBoundSec)
	}
	return a
}

// firstTask is when the mock created the first task of run r (its prompts carry its tag).
func (s *sharedScenario) firstTask(r sharedRun) (time.Time, bool) {
	var at time.Time
	marker := "[mock:tag=" + r.Tag + "]"
	for _, t := range s.tasks {
		if strings.Contains(t.Prompt, marker) && (at.IsZero() || t.CreatedAt.Before(at)) {
			at = t.CreatedAt
		}
	}
	return at, !at.IsZero()
}

func (s *sharedScenario) describe() string {
	trial := ""
	if base := trialBase(s.ID); base != s.ID {
		trial = ", trial " + strings.TrimPrefix(s.ID, base+"-t")
	}
	if s.Mix != nil {
		return s.describeMixed(trial)
	}
	if s.Join {
		return fmt.Sprintf("%d runs of %d images, the second joining when the first has created half of its images%s", len(s.Runs), s.N, trial)
	}
	return fmt.Sprintf("%d runs of %d images started together%s", len(s.Runs), s.N, trial)
}

func readShared(dir string) ([]*sharedScenario, error) {
	return readAccounts(filepath.Join(dir, "shared"))
}

// readAccounts reads the one-account scenarios scripts/bench.sh wrote to dir (ID.json and ID.tasks).
func readAccounts(dir string) ([]*sharedScenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*sharedScenario
	for _, f := range files {
		var s sharedScenario
		if err := readJSON(f, &s); err != nil {
			return nil, err
		}
		_ = readJSON(strings.TrimSuffix(f, ".json")+".tasks", &s.tasks) // optional: spans stay unknown
		out = append(out, &s)
	}
	// Runs together first, then the joining variant.
	slices.SortFunc(out, func(a, b *sharedScenario) int {
		if a.Join != b.Join {
			if a.Join {
				return 1
			}
			return -1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// trialGroup is one shared-account scenario over its trials (IDs ID-t1, ID-t2, ...; a single
// untagged ID is one trial).
type trialGroup struct {
	label  string
	trials []*sharedScenario
}

// trialBase is a scenario's ID without its trial suffix.
func trialBase(id string) string {
	if i := strings.LastIndex(id, "-t"); i > 0 && strings.Trim(id[i+2:], "0123456789") == "" && len(id) > i+2 {
		return id[:i]
	}
	return id
}

func groupTrials(scenarios []*sharedScenario) []trialGroup {
	var groups []trialGroup
	at := map[string]int{}
	for _, s := range scenarios {
		base := trialBase(s.ID)
		i, ok := at[base]
		if !ok {
			label := fmt.Sprintf("%d together", len(s.Runs))
			if s.Join {
				label = "second joins"
			}
			if s.Mix != nil {
				label = s.mixedLabel()
			}
			i = len(groups)
			at[base] = i
			groups = append(groups, trialGroup{label: label})
		}
		groups[i].trials = append(groups[i].trials, s)
	}
	return groups
}

// SharedGroup is one shared-account scenario over its trials, for a target row. Trials name the
// scenarios of the shared section, whose Account holds their figures.
type SharedGroup struct {
	Label  string   `json:"label"`
	Trials []string `json:"trials"`
	// Median is the median trial by AskedRatio (the lower middle of an even count), which the
	// wall-time target judges.
	Median string `json:"median"`
}

// sharedTargets judges the shared-account scenarios.
func sharedTargets(m *meta, scenarios []*sharedScenario) []Target {
	return accountTargets(m, scenarios, accountWording{what: "Shared account", request: "generate", tasksKind: "shared-tasks"})
}

// accountWording is what differs between the one-account sections' targets: their names, the block
// wording the tasks, and which scenarios the wall-time and refusal targets judge (all when nil).
type accountWording struct {
	what, request, tasksKind string
	judged                   func(s *sharedScenario) bool
}

// accountTargets judges one-account scenarios. A count target must hold in every trial; the
// wall-time target is judged on the median trial, and every trial's ratio is shown.
func accountTargets(m *meta, scenarios []*sharedScenario, w accountWording) []Target {
	if len(scenarios) == 0 {
		return nil
	}
	judged := func(s *sharedScenario) bool { return w.judged == nil || w.judged(s) }
	type trial struct {
		id string
		a  Account
	}
	var groups, judgedGroups []SharedGroup
	var all, judgedAll []Account
	medians := true
	for _, g := range groupTrials(scenarios) {
		sg := SharedGroup{Label: g.label}
		var trials []trial
		for _, s := range g.trials {
			a := s.account(m)
			sg.Trials = append(sg.Trials, s.ID)
			trials = append(trials, trial{s.ID, a})
			all = append(all, a)
			if judged(s) {
				judgedAll = append(judgedAll, a)
			}
		}
		slices.SortStableFunc(trials, func(x, y trial) int { return cmp.Compare(x.a.AskedRatio, y.a.AskedRatio) })
		med := trials[(len(trials)-1)/2]
		sg.Median = med.id
		groups = append(groups, sg)
		if judged(g.trials[0]) {
			medians = medians && med.a.AskedRatio <= 1.2
			judgedGroups = append(judgedGroups, sg)
		}
	}
	every := func(accounts []Account, ok func(a Account) bool) bool {
		for _, a := range accounts {
			if !ok(a) {
				return false
			}
		}
		return len(accounts) > 0
	}
	out := []Target{
		{Kind: "shared-runs", Name: w.what + ": every run succeeds (exit 0, no failed resource)", Shared: groups,
			Pass: every(all, func(a Account) bool { return a.RunsOK })},
		{Kind: w.tasksKind, Name: w.what + ": exactly one created task per image", Shared: groups,
			Pass: every(all, func(a Account) bool { return a.OneTask })},
		{Kind: "shared-refused", Name: w.what + ": at most 0.5 refused " + w.request + " requests per image over the account",
			Shared: judgedGroups, Pass: every(judgedAll, func(a Account) bool { return a.Images > 0 && a.RefusedPerImage() <= 0.5 })},
		{Kind: "shared-queries", Name: w.what + ": at most 8 status queries per image", Shared: groups,
			Pass: every(all, func(a Account) bool { return a.Images > 0 && a.QueriesPerImage() <= 8 })},
		{Kind: "shared-wall", Name: w.what + ": account wall time within 1.2× of the lower bound its limit allows, " +
			"counted from the account's first request (Terraform's start-up before it, measured in the run, is the floor " +
			"below the target)", Shared: judgedGroups, Pass: medians},
	}
	if len(judgedGroups) == 0 { // only unjudged scenarios ran: no refusal or wall-time row
		out = slices.DeleteFunc(out, func(t Target) bool { return t.Kind == "shared-refused" || t.Kind == "shared-wall" })
	}
	return out
}

func (a Account) RefusedPerImage() float64 { return float64(a.RateLimited) / float64(max(a.Images, 1)) }
func (a Account) QueriesPerImage() float64 {
	return float64(a.StatusQueries) / float64(max(a.Images, 1))
}

// SharedSection is the shared-account section: a table per scenario and trial.
type SharedSection struct {
	Parallelism    int              `json:"parallelism"`
	WindowSec      float64          `json:"windowSec"`
	RetryAfterUnit string           `json:"retryAfterUnit"`
	Scenarios      []SharedScenario `json:"scenarios"`
}

type SharedScenario struct {
	ID      string      `json:"id"`
	Title   string      `json:"title"`
	Runs    []SharedRow `json:"runs"`
	Account Account     `json:"account"`
	// Limits are the scenario's own when they differ from the run's (nil: the run's).
	Limits *scenarioLimits `json:"limits,omitempty"`
	// CreateFloorSec is (b − 1)·W: the least time the create limit allows for the account's images.
	CreateFloorSec float64 `json:"createFloorSec"`
}

// SharedRow is one run of a shared scenario, as its prompt tag counted it.
type SharedRow struct {
	Tag        string   `json:"tag"`
	N          int      `json:"n"`
	StartSec   float64  `json:"startSec"` // after the scenario's first start
	WallSec    float64  `json:"wallSec"`
	BoundRatio Ratio    `json:"boundRatio"` // wall over the account's bound
	Tags       tagStats `json:"stats"`
	Failed     int      `json:"failedResources"`
	ExitCode   int      `json:"exitCode"`
}

func sharedSection(m *meta, scenarios []*sharedScenario) *SharedSection {
	if len(scenarios) == 0 {
		return nil
	}
	sec := &SharedSection{Parallelism: scenarios[0].Parallelism, WindowSec: m.WindowMs / 1000, RetryAfterUnit: m.RetryAfterUnit}
	for _, s := range scenarios {
		a := s.account(m)
		first := s.Runs[0].StartNs
		for _, r := range s.Runs {
			first = min(first, r.StartNs)
		}
		out := SharedScenario{ID: s.ID, Title: s.describe(), Account: a, Limits: s.Limits}
		for _, r := range s.Runs {
			wall := float64(r.EndNs-r.StartNs) / 1e9
			out.Runs = append(out.Runs, SharedRow{Tag: r.Tag, N: s.N, StartSec: float64(r.StartNs-first) / 1e9, WallSec: wall,
				BoundRatio: Ratio(wall / a.BoundSec), Tags: s.Tags[r.Tag], Failed: r.failed(s.N), ExitCode: r.ExitCode})
		}
		if lim := s.limits(m); a.CreateSpanSec > 0 {
			batches := (a.Images + lim.CreateLimit - 1) / max(lim.CreateLimit, 1)
			out.CreateFloorSec = float64(batches-1) * lim.WindowMs / 1000
		}
		sec.Scenarios = append(sec.Scenarios, out)
	}
	return sec
}

// sharedOrWarn reads the shared scenarios; a broken file is reported but does not stop the report.
func sharedOrWarn(dir string) []*sharedScenario {
	s, err := readShared(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report: shared-account results:", err)
	}
	return s
}
