package kiemock

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"time"
)

// MarketTaskSnapshot is a copy of a Market task's state.
type MarketTaskSnapshot struct {
	ID              string         `json:"taskId"`
	Model           string         `json:"model"`
	Prompt          string         `json:"prompt"`
	Params          map[string]any `json:"params"` // the create body received
	Input           map[string]any `json:"input"`  // effective input: the body's plus KIE's defaults
	InputURLs       []string       `json:"inputUrls,omitempty"`
	CallBackURL     string         `json:"callBackUrl,omitempty"`
	Width           int            `json:"width"` // pixel size of each result image
	Height          int            `json:"height"`
	OutputFormat    string         `json:"outputFormat"` // png or jpeg
	Results         int            `json:"results"`      // result images the task makes
	Cost            float64        `json:"cost"`         // credits charged (refunded again if the task failed)
	State           string         `json:"state"`
	FailCode        string         `json:"failCode,omitempty"`
	FailMsg         string         `json:"failMsg,omitempty"`
	ResultURLs      []string       `json:"resultUrls,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	CompletedAt     time.Time      `json:"completedAt,omitzero"`
	StatusQueries   int            `json:"statusQueries"` // recordInfo requests for this task
	NullQueriesLeft int            `json:"nullQueriesLeft"`
	Downloads       int            `json:"downloads"`
	CallbackPosts   int            `json:"callbackPosts"`
}

func (t *marketTask) snapshotLocked(now time.Time) MarketTaskSnapshot {
	var params map[string]any
	_ = json.Unmarshal(t.param, &params) // was valid JSON when accepted
	snap := MarketTaskSnapshot{
		ID: t.id, Model: t.model.id, Prompt: t.prompt, Params: params, Input: maps.Clone(t.input), InputURLs: t.inputURLs,
		CallBackURL: t.callbackURL, Width: t.width, Height: t.height, OutputFormat: t.format, Results: t.count,
		Cost: t.cost, FailCode: t.failCode, FailMsg: t.failMsg, ResultURLs: t.resultURLs, CreatedAt: t.createdAt,
		CompletedAt: t.completedAt, StatusQueries: t.queries, NullQueriesLeft: t.nullLeft, Downloads: t.downloads,
		CallbackPosts: t.post.callbackPosts,
	}
	switch {
	case !t.finished:
		snap.State, _ = progressState(t.createdAt, t.doneAt, now)
	case t.failCode != "":
		snap.State = StateFail
	default:
		snap.State = StateSuccess
	}
	return snap
}

// MarketTask returns a snapshot of one Market task, finishing it first if
// its latency has elapsed.
func (s *Server) MarketTask(id string) (MarketTaskSnapshot, bool) {
	s.mu.Lock()
	t := s.market.tasks[id]
	s.mu.Unlock()
	if t == nil {
		return MarketTaskSnapshot{}, false
	}
	s.settleMarket(s.ctx, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.snapshotLocked(time.Now()), true
}

// MarketTasks returns snapshots of every Market task in creation order.
func (s *Server) MarketTasks() []MarketTaskSnapshot {
	s.mu.Lock()
	order := append([]*marketTask(nil), s.market.order...)
	s.mu.Unlock()
	for _, t := range order {
		s.settleMarket(s.ctx, t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	out := make([]MarketTaskSnapshot, 0, len(order))
	for _, t := range order {
		out = append(out, t.snapshotLocked(now))
	}
	return out
}

// handleMarketControl serves /_mock/market-tasks[/<id>]; it reports false
// for other routes.
func (s *Server) handleMarketControl(w http.ResponseWriter, r *http.Request, route string) bool {
	if r.Method != http.MethodGet {
		return false
	}
	switch {
	case route == "market-tasks":
		writeJSON(w, http.StatusOK, s.MarketTasks())
	case strings.HasPrefix(route, "market-tasks/"):
		t, ok := s.MarketTask(strings.TrimPrefix(route, "market-tasks/"))
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "task not found"})
			return true
		}
		writeJSON(w, http.StatusOK, t)
	default:
		return false
	}
	return true
}
