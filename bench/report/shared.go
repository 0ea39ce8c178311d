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

// sharedAccount sums a scenario up for the account.
type sharedAccount struct {
	images     int
	wallSec    float64 // first run's start to last run's end
	lowerBound float64
	failed     int
	runsOK     bool
	oneTask    bool // exactly one created task per image, for the account and for every run
	// As the mock saw the scenario's tasks (0 when unknown): first task created to the last one
	// created, and to the last one finished.
	createSpan, apiSpan float64
	// From the account's first created task on: Terraform's start-up before it (refresh and plan of
	// every run, on this machine's CPUs) is a floor the provider barely touches, so the target is
	// met from there. askedBound is the lower bound with each run starting at its own first task.
	startupSec, askedWallSec, askedBound float64
}

// account computes the account's figures. Its lower bound is the later of what the create limit
// allows for all images together and, for a run that started late, its start plus its own bound.
func (s *sharedScenario) account(m *meta) sharedAccount {
	a := sharedAccount{images: s.N * len(s.Runs), runsOK: len(s.Runs) > 0, oneTask: len(s.Runs) > 0}
	if len(s.Runs) == 0 {
		return a
	}
	lb := func(n int) float64 {
		return lowerBound(n, m.CreateLim, m.WindowMs/1000, m.LatencyMs/1000, m.JitterMs/1000)
	}
	first := slices.MinFunc(s.Runs, func(x, y sharedRun) int { return int(x.StartNs - y.StartNs) }).StartNs
	last := first
	a.lowerBound = lb(a.images)
	for _, r := range s.Runs {
		last = max(last, r.EndNs)
		a.lowerBound = max(a.lowerBound, float64(r.StartNs-first)/1e9+lb(s.N))
		a.failed += r.failed(s.N)
		a.runsOK = a.runsOK && r.ExitCode == 0 && r.failed(s.N) == 0
		a.oneTask = a.oneTask && s.Tags[r.Tag].TasksCreated == s.N
	}
	a.wallSec = float64(last-first) / 1e9
	a.oneTask = a.oneTask && s.Stats.TasksCreated == a.images
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
	a.askedWallSec, a.askedBound = a.wallSec, a.lowerBound
	if !firstTask.IsZero() {
		a.createSpan, a.apiSpan = lastCreated.Sub(firstTask).Seconds(), lastDone.Sub(firstTask).Seconds()
		a.startupSec = firstTask.Sub(time.Unix(0, first)).Seconds()
		a.askedWallSec = float64(last)/1e9 - float64(firstTask.UnixNano())/1e9
		a.askedBound = lb(a.images)
		for _, r := range s.Runs {
			if asked, ok := s.firstTask(r); ok {
				a.askedBound = max(a.askedBound, asked.Sub(firstTask).Seconds()+lb(s.N))
			}
		}
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
	if s.Join {
		return fmt.Sprintf("%d runs of %d images, the second joining when the first has created half of its images%s", len(s.Runs), s.N, trial)
	}
	return fmt.Sprintf("%d runs of %d images started together%s", len(s.Runs), s.N, trial)
}

func readShared(dir string) ([]*sharedScenario, error) {
	files, err := filepath.Glob(filepath.Join(dir, "shared", "*.json"))
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
			i = len(groups)
			at[base] = i
			groups = append(groups, trialGroup{label: label})
		}
		groups[i].trials = append(groups[i].trials, s)
	}
	return groups
}

// writeSharedTargets writes the target rows of the shared-account scenarios. A count target must hold
// in every trial; the wall-time target is judged on the median trial, and every trial's ratio is shown.
func writeSharedTargets(b *strings.Builder, m *meta, scenarios []*sharedScenario) {
	if len(scenarios) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	type target struct {
		name    string
		measure func(s *sharedScenario, a sharedAccount) (string, bool)
	}
	targets := []target{
		{"Shared account: every run succeeds (exit 0, no failed resource)", func(s *sharedScenario, a sharedAccount) (string, bool) {
			var codes []string
			for _, r := range s.Runs {
				codes = append(codes, fmt.Sprint(r.ExitCode))
			}
			return fmt.Sprintf("exit %s, %d failed resources", strings.Join(codes, "/"), a.failed), a.runsOK
		}},
		{"Shared account: exactly one created task per image", func(s *sharedScenario, a sharedAccount) (string, bool) {
			return fmt.Sprintf("%d tasks for %d images", s.Stats.TasksCreated, a.images), a.oneTask
		}},
		{"Shared account: at most 0.5 refused generate requests per image over the account", func(s *sharedScenario, a sharedAccount) (string, bool) {
			v := float64(s.Stats.RateLimited) / float64(max(a.images, 1))
			return fmt.Sprintf("%.2f (%d 429s)", v, s.Stats.RateLimited), a.images > 0 && v <= 0.5
		}},
		{"Shared account: at most 8 status queries per image", func(s *sharedScenario, a sharedAccount) (string, bool) {
			v := float64(s.Stats.StatusQueries) / float64(max(a.images, 1))
			return fmt.Sprintf("%.2f", v), a.images > 0 && v <= 8
		}},
	}
	groups := groupTrials(scenarios)
	accounts := map[*sharedScenario]sharedAccount{}
	for _, sc := range scenarios {
		accounts[sc] = sc.account(m)
	}
	for _, t := range targets {
		var parts []string
		okAll := true
		for _, g := range groups {
			var texts []string
			for _, s := range g.trials {
				text, ok := t.measure(s, accounts[s])
				texts = append(texts, text)
				okAll = okAll && ok
			}
			parts = append(parts, g.label+": "+strings.Join(texts, " / "))
		}
		p("| %s | %s | %s |\n", t.name, strings.Join(parts, "; "), passFail(okAll))
	}

	var parts []string
	okAll := true
	for _, g := range groups {
		type trial struct {
			a     sharedAccount
			ratio float64
		}
		var trials []trial
		for _, s := range g.trials {
			a := accounts[s]
			ratio := math.Inf(1)
			if a.askedBound > 0 {
				ratio = a.askedWallSec / a.askedBound
			}
			trials = append(trials, trial{a, ratio})
		}
		ratios := make([]string, len(trials))
		for i, tr := range trials {
			ratios[i] = fmt.Sprintf("%.2f×", tr.ratio)
		}
		slices.SortStableFunc(trials, func(x, y trial) int { return cmp.Compare(x.ratio, y.ratio) })
		med := trials[(len(trials)-1)/2] // the lower middle of an even count: report it as it is
		a := med.a
		text := fmt.Sprintf("%.1f s vs %.1f s: **%.2f×** (start-up before the first request %.1f s; from the first "+
			"apply's start %.1f s vs %.1f s, %.2f×)", a.askedWallSec, a.askedBound, med.ratio, a.startupSec, a.wallSec,
			a.lowerBound, a.wallSec/a.lowerBound)
		if len(trials) > 1 {
			text = fmt.Sprintf("median of %d trials %s; trials in order: %s", len(trials), text, strings.Join(ratios, ", "))
		}
		parts = append(parts, g.label+": "+text)
		okAll = okAll && med.ratio <= 1.2
	}
	p("| Shared account: account wall time within 1.2× of the lower bound its limit allows, counted from the account's "+
		"first request (Terraform's start-up before it, measured in the run, is the floor below the target) | %s | %s |\n",
		strings.Join(parts, "; "), passFail(okAll))
}

// writeShared writes the section of the shared-account scenarios.
func writeShared(b *strings.Builder, m *meta, scenarios []*sharedScenario) {
	if len(scenarios) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## Shared account: several runs, one key\n\n")
	p("Each run is a `terraform apply` of `bench/provider/main.tf` in its own working directory (its own provider "+
		"process), `-parallelism=%d`, all with the same key against one kie-mock with KIE's limits (20 creates per %.3g s, "+
		"Retry-After in steps of %s). No run knows of the others: the provider's create rate backs off when KIE refuses a "+
		"request and recovers as requests are accepted. Each run's prompts carry a `[mock:tag=…]` marker, so the mock "+
		"counts each run's requests apart (`GET /_mock/tag-stats`).\n\n", scenarios[0].Parallelism, m.WindowMs/1000, m.RetryAfterUnit)
	for _, s := range scenarios {
		a := s.account(m)
		first := s.Runs[0].StartNs
		for _, r := range s.Runs {
			first = min(first, r.StartNs)
		}
		p("### %s\n\n", s.describe())
		p("| Run | Start (s) | Wall (s) | Wall / account bound | Created tasks / image | Refused (429) / image | Status queries / image | Failed resources | Exit |\n")
		p("|---|---|---|---|---|---|---|---|---|\n")
		for i, r := range s.Runs {
			ts := s.Tags[r.Tag]
			wall := float64(r.EndNs-r.StartNs) / 1e9
			p("| run %d | %.1f | %.1f | %.2f× | %s | %s | %s | %d | %d |\n", i+1, float64(r.StartNs-first)/1e9, wall,
				wall/a.lowerBound, perImage(ts.TasksCreated, s.N), perImage(ts.RateLimited, s.N), perImage(ts.StatusQueries, s.N),
				r.failed(s.N), r.ExitCode)
		}
		p("| **account** (%d images) | 0.0 | %.1f | **%.2f×** (bound %.1f s) | %s | %s | %s | %d | |\n\n", a.images, a.wallSec,
			a.wallSec/a.lowerBound, a.lowerBound, perImage(s.Stats.TasksCreated, a.images), perImage(s.Stats.RateLimited, a.images),
			perImage(s.Stats.StatusQueries, a.images), a.failed)
		if a.createSpan > 0 {
			batches := (a.images + m.CreateLim - 1) / max(m.CreateLim, 1)
			p("As the mock saw it: the account's tasks were created over %.1f s (its limit allows no less than "+
				"(b − 1)·W = %.1f s for %d images) and the last one finished %.1f s after the first was created.\n\n",
				a.createSpan, float64(batches-1)*m.WindowMs/1000, a.images, a.apiSpan)
		}
	}
	p("Account bound: LB(N) above for all the account's images together, or, when a run started later, its start " +
		"plus LB of its own images, whichever is later. Wall: each apply's own start to end; the account's, the first " +
		"start to the last end. Refused: the mock's 429s, all of them (including the first window's). Failed resources: " +
		"images without a file after the apply.\n\n")
	p("The target counts the account's time from its first created task: before it, every run's Terraform refreshes " +
		"and plans its 100 new resources, all runs at once on this machine's CPUs, nearly all of it Terraform's own work " +
		"(a run alone needs about a second; three together, two to three). The bound is then taken from each run's own " +
		"first task. Both ratios are in the target row.\n\n")
}

// sharedOrWarn reads the shared scenarios; a broken file is reported but does not stop the report.
func sharedOrWarn(dir string) []*sharedScenario {
	s, err := readShared(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report: shared-account results:", err)
	}
	return s
}
