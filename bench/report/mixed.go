package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The mixed-account scenario: every run applies half kie_flux_image (Flux Kontext API) and half
// kie_image (Market API) with one key, so both APIs draw on the account's one create window. Its
// scenarios are one-account scenarios (shared.go) with a Mix, and the real-time ones carry their
// own Limits.

// scenarioLimits are the mock's limits and timing of a scenario.
type scenarioLimits struct {
	Scale          float64 `json:"scale"`
	CreateLimit    int     `json:"createLimit"`
	LatencyMs      float64 `json:"latencyMs"`
	JitterMs       float64 `json:"jitterMs"`
	WindowMs       float64 `json:"windowMs"`
	RetryAfterUnit string  `json:"retryAfterUnit"`
}

// scenarioMix is how many images of each run go to each API.
type scenarioMix struct {
	Flux   int    `json:"flux"`
	Market int    `json:"market"`
	Model  string `json:"model"`
}

// limits are the scenario's own, or the run's when it has none.
func (s *sharedScenario) limits(m *meta) scenarioLimits {
	if s.Limits != nil {
		return *s.Limits
	}
	return scenarioLimits{Scale: m.Scale, CreateLimit: m.CreateLim, LatencyMs: m.LatencyMs, JitterMs: m.JitterMs,
		WindowMs: m.WindowMs, RetryAfterUnit: m.RetryAfterUnit}
}

// realTime says that the scenario ran at KIE's own speed while the run did not.
func (s *sharedScenario) realTime() bool { return s.Limits != nil && s.Limits.Scale == 1 }

// APIMix is a mixed scenario's account split by API: the mock counts the Market's share, Flux's is
// the rest.
type APIMix struct {
	Model         string `json:"model"`
	FluxImages    int    `json:"fluxImages"`
	FluxTasks     int    `json:"fluxTasks"`
	FluxRefused   int    `json:"fluxRefused"`
	FluxQueries   int    `json:"fluxQueries"`
	MarketImages  int    `json:"marketImages"`
	MarketTasks   int    `json:"marketTasks"`
	MarketRefused int    `json:"marketRefused"`
	MarketQueries int    `json:"marketQueries"`
}

func (s *sharedScenario) apiMix() *APIMix {
	st, runs := s.Stats, len(s.Runs)
	return &APIMix{Model: s.Mix.Model,
		FluxImages: s.Mix.Flux * runs, FluxTasks: st.TasksCreated - st.MarketTasksCreated,
		FluxRefused: st.RateLimited - st.MarketRateLimited, FluxQueries: st.StatusQueries - st.MarketStatusQueries,
		MarketImages: s.Mix.Market * runs, MarketTasks: st.MarketTasksCreated, MarketRefused: st.MarketRateLimited,
		MarketQueries: st.MarketStatusQueries}
}

func (s *sharedScenario) describeMixed(trial string) string {
	what := fmt.Sprintf("%d images (%d `kie_flux_image`, %d `kie_image` %s)", s.N, s.Mix.Flux, s.Mix.Market, s.Mix.Model)
	var out string
	switch {
	case len(s.Runs) == 1:
		out = "One apply of " + what
	case s.Join:
		out = fmt.Sprintf("%d runs of %s, the second joining when the first has created half of its images", len(s.Runs), what)
	default:
		out = fmt.Sprintf("%d runs of %s started together", len(s.Runs), what)
	}
	if s.realTime() {
		out += ", in real time"
	}
	return out + trial
}

func (s *sharedScenario) mixedLabel() string {
	label := fmt.Sprintf("%d × %d together", len(s.Runs), s.N)
	if len(s.Runs) == 1 {
		label = fmt.Sprintf("one apply of %d", s.N)
	}
	if s.realTime() {
		label += ", real time"
	}
	return label
}

// mixedTargets: every run succeeds and pays one task per image in every scenario; the refusal and
// wall-time targets judge the scenarios where several applies share the account.
func mixedTargets(m *meta, scenarios []*sharedScenario) []Target {
	return accountTargets(m, scenarios, accountWording{what: "Mixed account (Flux and Market)", request: "create",
		tasksKind: "mixed-tasks", judged: func(s *sharedScenario) bool { return len(s.Runs) > 1 }})
}

func mixedOrWarn(dir string) []*sharedScenario {
	s, err := readAccounts(filepath.Join(dir, "mixed"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "report: mixed-account results:", err)
	}
	slices.SortFunc(s, mixedOrder)
	return s
}

// trialAccount finds a one-account scenario's figures by ID in either section.
func trialAccount(r *Report, id string) (Account, bool) {
	for _, sec := range []*SharedSection{r.Shared, r.Mixed} {
		if sec == nil {
			continue
		}
		for _, s := range sec.Scenarios {
			if s.ID == id {
				return s.Account, true
			}
		}
	}
	return Account{}, false
}

// mixedOrder puts the single apply before the concurrent ones and the real-time ones last.
func mixedOrder(a, b *sharedScenario) int {
	rank := func(s *sharedScenario) int {
		r := len(s.Runs)
		if s.realTime() {
			r += 100
		}
		return r
	}
	if d := rank(a) - rank(b); d != 0 {
		return d
	}
	return strings.Compare(a.ID, b.ID)
}
