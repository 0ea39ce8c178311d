package kie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func okMarket(id string) http.HandlerFunc {
	return env(200, "success", `{"taskId":"`+id+`"}`)
}

// marketJSON is a recordInfo data object with the given state and extra fields.
func marketJSON(id, state, extra string) string {
	s := fmt.Sprintf(`{"taskId":%q,"model":"google/nano-banana","state":%q`, id, state)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}

func marketStep(id, state, extra string) http.HandlerFunc {
	return env(200, "success", marketJSON(id, state, extra))
}

// recordNull is KIE's answer for a task it does not show (yet).
var recordNull = env(422, "recordInfo is null", "null")

func TestCreateMarketTaskWireFormat(t *testing.T) {
	srv := newScriptServer(t, okMarket("task_google_1"), okMarket("task_google_2"))
	c := newTestClient(srv.URL)
	in := json.RawMessage(`{"prompt":"a <red> & blue kite","aspect_ratio":"16:9","image_urls":["https://x/a.png"],"seed":12345678901}`)
	id, err := c.CreateMarketTask(context.Background(), MarketRequest{Model: " google/nano-banana ", CallBackURL: "https://cb.example/kie", Input: in})
	if err != nil || id != "task_google_1" {
		t.Fatalf("CreateMarketTask = %q, %v", id, err)
	}
	// No input still sends an input object.
	if id, err := c.CreateMarketTask(context.Background(), MarketRequest{Model: "z-image"}); err != nil || id != "task_google_2" {
		t.Fatalf("CreateMarketTask without input = %q, %v", id, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/v1/jobs/createTask" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("User-Agent") != "terraform-provider-kie/dev" {
		t.Errorf("headers %v", r.Header)
	}
	want := `{"model":"google/nano-banana","callBackUrl":"https://cb.example/kie","input":{"prompt":"a <red> & blue kite","aspect_ratio":"16:9","image_urls":["https://x/a.png"],"seed":12345678901}}`
	if r.Body != want {
		t.Errorf("body\n%s\nwant\n%s", r.Body, want)
	}
	if reqs[1].Body != `{"model":"z-image","input":{}}` {
		t.Errorf("body without input: %s", reqs[1].Body)
	}
}

func TestCreateMarketTaskCallerChecks(t *testing.T) {
	srv := newScriptServer(t, okMarket("x"))
	c := newTestClient(srv.URL)
	for name, req := range map[string]MarketRequest{
		"no model":      {Input: json.RawMessage(`{}`)},
		"array input":   {Model: "m", Input: json.RawMessage(`[1]`)},
		"invalid input": {Model: "m", Input: json.RawMessage(`{"prompt":`)},
		"string input":  {Model: "m", Input: json.RawMessage(`"x"`)},
	} {
		if _, err := c.CreateMarketTask(context.Background(), req); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New("").CreateMarketTask(context.Background(), MarketRequest{Model: "m"}); !errors.Is(err, ErrMissingAPIKey) {
		t.Errorf("missing key: %v", err)
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests sent", srv.Count())
	}
}

func TestCreateMarketTaskRetryRules(t *testing.T) {
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		wantPosts int
		wantID    string
		uncertain bool
		// fakeNet runs the case in a synctest bubble on the in-memory network, with a 200 ms request
		// timeout: there it passes only once the server holds the request and both sides wait. The
		// other cases never want the timeout, so on TCP it is a minute that a loaded machine cannot run out.
		fakeNet bool
		check   func(t *testing.T, err error)
	}{
		{name: "429 then accepted", steps: []http.HandlerFunc{reply(429, `{"code":429,"msg":"too many"}`, "Retry-After", "1"), okMarket("m1")}, wantPosts: 2, wantID: "m1"},
		{name: "body code 429 in HTTP 200 is retried", steps: []http.HandlerFunc{env(429, "rate limited", "null"), okMarket("m2")}, wantPosts: 2, wantID: "m2"},
		{name: "455 maintenance is retried", steps: []http.HandlerFunc{env(455, "maintenance", "null"), okMarket("m3")}, wantPosts: 2, wantID: "m3"},
		{name: "body code 200 decides over HTTP 500", steps: []http.HandlerFunc{reply(500, `{"code":200,"msg":"success","data":{"taskId":"m4"}}`)}, wantPosts: 1, wantID: "m4"},
		{
			name:  "455 until the time runs out is a refusal",
			steps: []http.HandlerFunc{reply(455, `{"code":455,"msg":"maintenance"}`, "Retry-After", "50")},
			// Attempts at 0 s, 50-52.5 s and 100-105 s: a fourth would come after fastRetry's 2 minutes.
			wantPosts: 3,
			check: func(t *testing.T, err error) {
				var re *RefusedError
				if !errors.As(err, &re) || re.Refusals != 3 || !IsRefusedForNow(err) ||
					!strings.Contains(err.Error(), "kie createTask: KIE refused the request 3 times") ||
					!strings.Contains(err.Error(), "service under maintenance") {
					t.Errorf("got %v", err)
				}
			},
		},
		{name: "HTTP 500 is uncertain", steps: []http.HandlerFunc{reply(500, `{"code":500,"msg":"internal"}`), okMarket("never")}, wantPosts: 1, uncertain: true},
		{name: "reset after the request was read is uncertain", steps: []http.HandlerFunc{resetConn, okMarket("never")}, wantPosts: 1, uncertain: true},
		{name: "timeout after sending is uncertain", steps: []http.HandlerFunc{stall(5*time.Second, okMarket("late")), okMarket("never")}, wantPosts: 1, uncertain: true, fakeNet: true},
		{name: "no task id is uncertain", steps: []http.HandlerFunc{env(200, "success", `{}`), okMarket("never")}, wantPosts: 1, uncertain: true},
		{
			name: "body code 422 in HTTP 200 is a validation error", steps: []http.HandlerFunc{env(422, "input.aspect_ratio is invalid", "null")}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !IsValidation(err) || IsNotFound(err) || !strings.Contains(err.Error(), "validation error: input.aspect_ratio is invalid (code 422, HTTP 200)") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "message instead of msg", steps: []http.HandlerFunc{reply(200, `{"code":422,"message":"prompt is required","data":null}`)}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !IsValidation(err) || !strings.Contains(err.Error(), "prompt is required") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "433 sub-key over its limit is permanent", steps: []http.HandlerFunc{env(433, "sub key usage exceeded", "null")}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !IsUsageLimited(err) || IsRefusedForNow(err) || !strings.Contains(err.Error(), "the API key is over its usage limit") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "501 generation failed is permanent", steps: []http.HandlerFunc{env(501, "generation failed", "null"), okMarket("never")}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "generation failed: KIE could not produce a result") || !strings.Contains(err.Error(), "code 501") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "505 feature disabled is permanent", steps: []http.HandlerFunc{env(505, "model offline", "null"), okMarket("never")}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !IsFeatureDisabled(err) || !strings.Contains(err.Error(), "feature disabled: KIE has switched this model or feature off: model offline") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "402 is a definite refusal", steps: []http.HandlerFunc{env(402, "insufficient credits", "null")}, wantPosts: 1,
			check: func(t *testing.T, err error) {
				if !IsInsufficientCredits(err) {
					t.Errorf("got %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		run := func(t *testing.T) {
			var srv *scriptServer
			timeout := time.Minute
			if tt.fakeNet {
				srv, timeout = newPipeScriptServer(t, tt.steps...), 200*time.Millisecond
			} else {
				srv = newScriptServer(t, tt.steps...)
			}
			c := newTestClient(srv.URL, srv.Via(), WithClock(newFakeClock()), WithRequestTimeout(timeout))
			id, err := c.CreateMarketTask(context.Background(), MarketRequest{Model: "m", Input: json.RawMessage(`{"prompt":"p"}`)})
			if n := srv.Count(); n != tt.wantPosts {
				t.Errorf("server saw %d POSTs, want %d", n, tt.wantPosts)
			}
			var u *UncertainCreateError
			if got := errors.As(err, &u); got != tt.uncertain {
				t.Errorf("uncertain = %v, want %v (err %v)", got, tt.uncertain, err)
			}
			if tt.uncertain && !strings.Contains(err.Error(), "the outcome of the createTask request is unknown: a paid task may have been created") {
				t.Errorf("message does not warn about payment: %v", err)
			}
			if tt.wantID != "" && (err != nil || id != tt.wantID) {
				t.Errorf("CreateMarketTask = %q, %v; want %q", id, err, tt.wantID)
			}
			if tt.wantID == "" && (err == nil || id != "") {
				t.Errorf("CreateMarketTask = %q, %v; want an error", id, err)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		}
		t.Run(tt.name, func(t *testing.T) {
			if tt.fakeNet {
				synctest.Test(t, run)
			} else {
				run(t)
			}
		})
	}
}

// TestMarketAndFluxShareTheCreateWindow: KIE counts Flux generate and Market createTask requests against one
// account limit, so a mixed sequence never has more than the limit accepted in any window, and a refusal
// of either lowers the rate of both.
func TestMarketAndFluxShareTheCreateWindow(t *testing.T) {
	const limit, per = 3, time.Minute
	clk := newFakeClock()
	var mu sync.Mutex
	var accepted []time.Time
	paths := map[string]int{}
	refusedOnce := false
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/api/v1/jobs/createTask" && len(accepted) == 5 && !refusedOnce {
			refusedOnce = true
			reply(429, `{"code":429,"msg":"rate limited"}`, "Retry-After", "1")(w, r)
			return
		}
		accepted = append(accepted, clk.Now())
		paths[r.URL.Path]++
		okTask(fmt.Sprintf("t%d", len(accepted)))(w, r)
	})
	logs := &logRecorder{}
	c := newTestClient(srv.URL, WithClock(clk), WithCreateLimit(limit, per), WithLogger(logs))
	ctx := context.Background()
	for i := range 12 {
		var err error
		if i%2 == 0 {
			_, err = c.Generate(ctx, GenerateRequest{Prompt: "p"})
		} else {
			_, err = c.CreateMarketTask(ctx, MarketRequest{Model: "m"})
		}
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(accepted) != 12 || paths["/api/v1/flux/kontext/generate"] != 6 || paths["/api/v1/jobs/createTask"] != 6 || !refusedOnce {
		t.Fatalf("accepted %d, paths %v, refused %v", len(accepted), paths, refusedOnce)
	}
	for i, at := range accepted {
		n := 0
		for _, other := range accepted {
			if !other.Before(at) && other.Before(at.Add(per)) {
				n++
			}
		}
		if n > limit {
			t.Errorf("%d requests accepted in the window starting at request %d: %v", n, i, accepted)
		}
	}
	// The sequence took at least three windows: 12 requests at 3 per minute.
	if span := accepted[len(accepted)-1].Sub(accepted[0]); span < 3*per {
		t.Errorf("12 requests within %v", span)
	}
	if got := logs.All(); !strings.Contains(got, "op:createTask") || !strings.Contains(got, "create_rate_lowered:true") {
		t.Errorf("the Market refusal did not lower the shared create rate:\n%s", got)
	}
}

func TestMarketRefusalLowersFluxRate(t *testing.T) {
	srv := newScriptServer(t, env(429, "rate limited", "null"), okMarket("m"))
	c := newTestClient(srv.URL, WithClock(newFakeClock()), WithCreateLimit(8, time.Minute))
	if _, err := c.CreateMarketTask(context.Background(), MarketRequest{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	// One window for both APIs: what the Market refusal cut is what Generate will be admitted at.
	start := newCreateWindow(8, time.Minute).rate()
	if r := c.create.rate(); r >= start || r < 1 {
		t.Errorf("create rate %.2f after a Market 429, want it cut below the start share of %.2f", r, start)
	}
}

func TestDecodeMarketTask(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := created.UnixMilli()
	tests := []struct {
		name   string
		data   string
		wantID string
		check  func(t *testing.T, m *MarketTask)
	}{
		{
			name: "success with resultJson and param as strings",
			data: fmt.Sprintf(`{"taskId":"m1","model":"bytedance/seedream-v4-text-to-image","state":"success",
				"param":"{\"model\":\"bytedance/seedream-v4-text-to-image\",\"callBackUrl\":\"https://cb/x\",\"input\":{\"prompt\":\"kite\",\"max_images\":2}}",
				"resultJson":"{\"resultUrls\":[\"https://cdn/a.png\",\" https://cdn/b.png \"]}",
				"failCode":"","failMsg":"","costTime":15000,"createTime":%d,"completeTime":%d,"updateTime":%d,"creditsConsumed":6.5}`,
				ms, ms+15000, ms+15001),
			check: func(t *testing.T, m *MarketTask) {
				if m.TaskID != "m1" || m.Model != "bytedance/seedream-v4-text-to-image" || m.State != MarketSuccess || !m.State.Terminal() {
					t.Errorf("task %+v", m)
				}
				if !slices.Equal(m.ResultURLs, []string{"https://cdn/a.png", "https://cdn/b.png"}) {
					t.Errorf("results %q", m.ResultURLs)
				}
				if m.CostTime != 15000 || m.FailCode != "" || m.FailMsg != "" {
					t.Errorf("cost %d, fail %q %q", m.CostTime, m.FailCode, m.FailMsg)
				}
				if !m.CreateTime.Equal(created) || !m.CompleteTime.Equal(created.Add(15*time.Second)) || !m.UpdateTime.Equal(created.Add(15001*time.Millisecond)) {
					t.Errorf("times %v %v %v", m.CreateTime, m.CompleteTime, m.UpdateTime)
				}
				if m.CreditsConsumed == nil || *m.CreditsConsumed != 6.5 || m.RemainedCredits != nil {
					t.Errorf("credits %v %v", m.CreditsConsumed, m.RemainedCredits)
				}
				p := m.Params
				if p == nil || p.Model != "bytedance/seedream-v4-text-to-image" || p.CallBackURL != "https://cb/x" ||
					p.Input["prompt"] != "kite" || p.Input["max_images"] != 2.0 {
					t.Errorf("params %+v", p)
				}
				if !strings.Contains(m.ParamJSON, `"prompt":"kite"`) {
					t.Errorf("ParamJSON %q", m.ParamJSON)
				}
			},
		},
		{
			name: "resultJson as an object, costTime in seconds kept raw, older credit fields",
			data: `{"taskId":"m2","state":"SUCCESS","resultJson":{"resultUrls":["https://cdn/c.png"]},"costTime":"89",
				"consumeCredits":100,"remainedCredits":2510330,"param":{"model":"google/imagen4","input":{"seed":"abc"}}}`,
			check: func(t *testing.T, m *MarketTask) {
				if m.State != MarketSuccess || !slices.Equal(m.ResultURLs, []string{"https://cdn/c.png"}) || m.CostTime != 89 {
					t.Errorf("task %+v", m)
				}
				if m.CreditsConsumed == nil || *m.CreditsConsumed != 100 || m.RemainedCredits == nil || *m.RemainedCredits != 2510330 {
					t.Errorf("credits %v %v", m.CreditsConsumed, m.RemainedCredits)
				}
				// The model comes from param when data has none.
				if m.Model != "google/imagen4" || m.Params == nil || m.Params.Input["seed"] != "abc" {
					t.Errorf("model %q params %+v", m.Model, m.Params)
				}
			},
		},
		{
			name: "resultJson as a list, double-encoded param",
			data: `{"taskId":"m3","state":"success","resultJson":["https://cdn/d.png",""],"param":"\"{\\\"model\\\":\\\"z-image\\\",\\\"input\\\":{}}\""}`,
			check: func(t *testing.T, m *MarketTask) {
				if !slices.Equal(m.ResultURLs, []string{"https://cdn/d.png"}) || m.Params == nil || m.Params.Model != "z-image" || m.Params.Input == nil {
					t.Errorf("task %+v params %+v", m, m.Params)
				}
			},
		},
		{
			name: "fail with numeric failCode, empty resultJson, zero credits",
			data: `{"taskId":"m4","state":"fail","resultJson":"","failCode":500,"failMsg":"Invalid prompt: prohibited content","creditsConsumed":0}`,
			check: func(t *testing.T, m *MarketTask) {
				if m.State != MarketFail || len(m.ResultURLs) != 0 || m.FailCode != "500" || m.FailMsg != "Invalid prompt: prohibited content" {
					t.Errorf("task %+v", m)
				}
				if m.CreditsConsumed == nil || *m.CreditsConsumed != 0 {
					t.Errorf("credits %v: zero is not absent", m.CreditsConsumed)
				}
			},
		},
		{
			name: "running states, unknown state kept, absent fields",
			data: `{"taskId":"m5","state":"post-processing","param":"not json","resultJson":null,"createTime":null}`,
			check: func(t *testing.T, m *MarketTask) {
				if m.State != "post-processing" || m.State.Terminal() || m.Params != nil || m.ParamJSON != "not json" ||
					m.ResultURLs != nil || !m.CreateTime.IsZero() || m.CreditsConsumed != nil || m.CostTime != 0 {
					t.Errorf("task %+v", m)
				}
			},
		},
		{
			name: "task_id spelling", data: `{"task_id":"m6","state":"Queuing"}`,
			check: func(t *testing.T, m *MarketTask) {
				if m.TaskID != "m6" || m.State != MarketQueuing {
					t.Errorf("task %+v", m)
				}
			},
		},
		{
			name: "missing task id takes the one asked for", data: `{"state":"waiting"}`, wantID: "asked",
			check: func(t *testing.T, m *MarketTask) {
				if m.TaskID != "asked" || m.State != MarketWaiting {
					t.Errorf("task %+v", m)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := decodeMarketTask([]byte(tt.data), tt.wantID, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, m)
		})
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"foo":1}`, `{"taskId":`} {
		if _, err := decodeMarketTask([]byte(bad), "", nil); err == nil {
			t.Errorf("decodeMarketTask(%q) accepted", bad)
		}
	}
}

func TestGetMarketTask(t *testing.T) {
	srv := newScriptServer(t,
		reply(503, "busy"), // retried: a query is free to repeat
		reply(200, `{"code":200,"message":"success","data":`+marketJSON("m1", "generating", `"costTime":0`)+`}`))
	c := newTestClient(srv.URL)
	m, err := c.GetMarketTask(context.Background(), " m1 ")
	if err != nil || m.TaskID != "m1" || m.State != MarketGenerating || m.Model != "google/nano-banana" {
		t.Fatalf("GetMarketTask = %+v, %v", m, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[1].Method != http.MethodGet || reqs[1].Path != "/api/v1/jobs/recordInfo" || reqs[1].Query != "taskId=m1" {
		t.Errorf("requests %+v", reqs)
	}
	if _, err := c.GetMarketTask(context.Background(), " "); err == nil {
		t.Error("empty task id accepted")
	}
}

// TestGetMarketTaskTellsUnknownFromFaults: the provider buries a task only when KIE says it does not know
// it; a fault that may pass must never look like that.
func TestGetMarketTaskTellsUnknownFromFaults(t *testing.T) {
	tests := []struct {
		name      string
		step      http.HandlerFunc
		wantReqs  int
		unknown   bool
		wantInErr string
	}{
		{"422 recordInfo is null in HTTP 200", recordNull, 1, true, "task m1): not found: KIE has no record of this task: recordInfo is null (code 422, HTTP 200)"},
		{"422 recordInfo is null as HTTP 422 with message", reply(422, `{"code":422,"message":"recordInfo is null","data":null}`), 1, true, "not found"},
		{"404", env(404, "task not found", "null"), 1, true, "not found"},
		{"other 422 is a validation error", env(422, "taskId is invalid", "null"), 1, false, "validation error"},
		{"server error", reply(500, `{"code":500,"msg":"internal"}`), 4, false, "server error"},
		{"gateway page", reply(502, "<h1>Bad Gateway</h1>"), 4, false, "Bad Gateway"},
		{"501 names the task", env(501, "generation failed", "null"), 1, false, "kie recordInfo (task m1): generation failed"},
		{"505 names the task", env(505, "", "null"), 1, false, "kie recordInfo (task m1): feature disabled"},
		{"433 names the task", env(433, "", "null"), 1, false, "kie recordInfo (task m1): the API key is over its usage limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.step)
			c := newTestClient(srv.URL)
			_, err := c.GetMarketTask(context.Background(), "m1")
			if err == nil {
				t.Fatal("no error")
			}
			if IsNotFound(err) != tt.unknown {
				t.Errorf("IsNotFound = %v, want %v: %v", IsNotFound(err), tt.unknown, err)
			}
			if tt.unknown && IsValidation(err) {
				t.Errorf("an unknown task reads as a validation error: %v", err)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("%q lacks %q", err.Error(), tt.wantInErr)
			}
			if srv.Count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", srv.Count(), tt.wantReqs)
			}
		})
	}
}

func TestWaitMarketTaskOutcomes(t *testing.T) {
	urls := `"resultJson":"{\"resultUrls\":[\"https://cdn/1.png\",\"https://cdn/2.png\"]}"`
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		wantState MarketState
		wantErr   func(t *testing.T, err error)
	}{
		{
			name: "through every running state to success",
			steps: []http.HandlerFunc{marketStep("m", "waiting", ""), marketStep("m", "queuing", ""), marketStep("m", "generating", ""),
				marketStep("m", "something-new", ""), marketStep("m", "success", urls)},
			wantState: MarketSuccess,
		},
		{
			name:      "not visible right after the create, then success",
			steps:     []http.HandlerFunc{recordNull, recordNull, recordNull, marketStep("m", "generating", ""), marketStep("m", "success", urls)},
			wantState: MarketSuccess,
		},
		{
			name:      "transient faults between polls do not end the wait",
			steps:     []http.HandlerFunc{marketStep("m", "generating", ""), reply(503, "down"), reply(502, ""), marketStep("m", "success", urls)},
			wantState: MarketSuccess,
		},
		{
			name:      "fail",
			steps:     []http.HandlerFunc{marketStep("m", "generating", ""), marketStep("m", "fail", `"resultJson":"","failCode":"422","failMsg":"Invalid prompt: prompt contains prohibited content"`)},
			wantState: MarketFail,
			wantErr: func(t *testing.T, err error) {
				var f *TaskFailedError
				if !errors.As(err, &f) || f.TaskID != "m" || f.State != MarketFail || f.FailCode != "422" || f.Model != "google/nano-banana" {
					t.Fatalf("got %v", err)
				}
				want := "task m (model google/nano-banana) ended with status fail, fail code 422: Invalid prompt: prompt contains prohibited content"
				if err.Error() != want {
					t.Errorf("message %q, want %q", err.Error(), want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.steps...)
			c := newTestClient(srv.URL, WithClock(newFakeClock()), WithRetryPolicy(RetryPolicy{BaseDelay: time.Millisecond, MaxAttempts: 1}))
			task, err := c.WaitMarketTask(context.Background(), "m")
			if task == nil || task.State != tt.wantState {
				t.Fatalf("task %+v, err %v", task, err)
			}
			if tt.wantErr == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != nil {
				tt.wantErr(t, err)
			}
			if tt.wantState == MarketSuccess && !slices.Equal(task.ResultURLs, []string{"https://cdn/1.png", "https://cdn/2.png"}) {
				t.Errorf("results %q", task.ResultURLs)
			}
			if srv.Count() != len(tt.steps) {
				t.Errorf("%d polls, want %d", srv.Count(), len(tt.steps))
			}
		})
	}
}

func TestWaitMarketTaskGivesUpOnAnUnknownTask(t *testing.T) {
	srv := newScriptServer(t, recordNull)
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithPollInterval(2*time.Second, 30*time.Second))
	start := clk.Now()
	task, err := c.WaitMarketTask(context.Background(), "ghost")
	if task != nil || !IsNotFound(err) || IsValidation(err) {
		t.Fatalf("task %+v, err %v; want a not-found error", task, err)
	}
	if !strings.Contains(err.Error(), "waiting for task ghost: KIE has no record of the task") {
		t.Errorf("message %v", err)
	}
	// Long enough to outlast a task that is only slow to show: at least 5 answers and 30 s; not much longer.
	n, waited := srv.Count(), clk.Now().Sub(start)
	if n < unknownTaskTolerance || waited < unknownTaskGrace || waited > unknownTaskGrace+10*time.Second || n > 20 {
		t.Errorf("gave up after %d queries over %v", n, waited)
	}
}

// TestWaitMarketTaskUnknownIgnoresCallbackInterval: while KIE does not show the task, the waiter asks on
// the normal schedule, not once per callback safety-net interval.
func TestWaitMarketTaskUnknownIgnoresCallbackInterval(t *testing.T) {
	srv := newScriptServer(t, recordNull, recordNull, marketStep("m", "success", ""))
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithPollInterval(2*time.Second, 30*time.Second), WithCallbackPolling(time.Hour))
	if _, err := c.WaitMarketTask(context.Background(), "m"); err != nil {
		t.Fatal(err)
	}
	sleeps := clk.Sleeps()
	if len(sleeps) != 3 || sleeps[0] < 50*time.Minute {
		t.Fatalf("waits %v: want the first-poll wait of callback mode, then two short ones", sleeps)
	}
	for _, d := range sleeps[1:] {
		if d > 5*time.Second {
			t.Errorf("waited %v while the task was not visible: %v", d, clk.Sleeps())
		}
	}
}

func TestFluxWaitStillStopsOnNotFound(t *testing.T) {
	srv := newScriptServer(t, env(404, "no such task", "null"))
	c := newTestClient(srv.URL, WithClock(newFakeClock()))
	if _, err := c.WaitTask(context.Background(), "f"); !IsNotFound(err) {
		t.Fatalf("err %v", err)
	}
	if srv.Count() != 1 {
		t.Errorf("%d polls: the Flux waiter keeps its rule", srv.Count())
	}
	// The Market's "recordInfo is null" rule is the Market's only: Flux keeps reading a 422 as before.
	flux := newScriptServer(t, recordNull)
	if _, err := newTestClient(flux.URL).GetTask(context.Background(), "f"); IsNotFound(err) || !IsValidation(err) {
		t.Errorf("Flux record-info 422: %v", err)
	}
}

func TestWaitMarketTaskContextTimeoutKeepsTaskID(t *testing.T) {
	// In a bubble the deadline passes only while the waiter sleeps between polls, never during the
	// first poll, however loaded the machine (see TestWaitTaskContextTimeoutKeepsTaskID).
	synctest.Test(t, func(t *testing.T) {
		srv := newPipeScriptServer(t, marketStep("m-slow", "generating", ""))
		c := newTestClient(srv.URL, srv.Via(), WithPollInterval(5*time.Millisecond, 10*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		task, err := c.WaitMarketTask(ctx, "m-slow")
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for task m-slow (last status generating)") {
			t.Fatalf("err %v", err)
		}
		if task == nil || task.TaskID != "m-slow" {
			t.Errorf("last task %+v", task)
		}
	})
}

func TestMarketAPIErrorMessages(t *testing.T) {
	for _, tt := range []struct {
		err  *APIError
		want string
	}{
		{&APIError{Op: "createTask", HTTPStatus: 200, Code: 433}, "kie createTask: the API key is over its usage limit (a sub-key's hourly, daily or total cap): raise the key's limit in the KIE settings or use another key (code 433, HTTP 200)"},
		{&APIError{Op: "createTask", HTTPStatus: 200, Code: 455, Message: "maintenance"}, "kie createTask: service under maintenance: KIE accepts no new work for now; try again later: maintenance (code 455, HTTP 200)"},
		{&APIError{Op: "recordInfo", TaskID: "m7", HTTPStatus: 200, Code: 501}, "kie recordInfo (task m7): generation failed: KIE could not produce a result; only a new task can (code 501, HTTP 200)"},
		{&APIError{Op: "recordInfo", TaskID: "m7", HTTPStatus: 505, Code: 505, Message: "off"}, "kie recordInfo (task m7): feature disabled: KIE has switched this model or feature off: off (code 505)"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
	for code, want := range map[int]failClass{429: failRefused, 455: failRefused, 433: failPermanent, 501: failPermanent, 505: failPermanent, 500: failTransient, 502: failTransient} {
		if got := classifyCode(code); got != want {
			t.Errorf("classifyCode(%d) = %v, want %v", code, got, want)
		}
	}
}

// marketHosts is an API (download-url, recordInfo) and a CDN whose links can be made to expire.
type marketHosts struct {
	api, cdn  *scriptServer
	live      map[string]bool // CDN paths that still serve
	freshPath string          // what download-url hands out ("" answers 422)
	record    func(cdn string) http.HandlerFunc
}

func newMarketHosts(t *testing.T, h *marketHosts) *marketHosts {
	h.cdn = newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		if h.live[r.URL.Path] {
			servePNG(w, r)
			return
		}
		w.WriteHeader(http.StatusForbidden)
	})
	h.api = newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/common/download-url":
			if h.freshPath == "" {
				env(422, "url is not a KIE result", "null")(w, r)
				return
			}
			env(200, "success", `"`+h.cdn.URL+h.freshPath+`"`)(w, r)
		case "/api/v1/jobs/recordInfo":
			h.record(h.cdn.URL)(w, r)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	return h
}

func succeededWith(paths ...string) func(string) http.HandlerFunc {
	return func(cdn string) http.HandlerFunc {
		var urls []string
		for _, p := range paths {
			urls = append(urls, cdn+p)
		}
		rj, _ := json.Marshal(map[string][]string{"resultUrls": urls})
		s, _ := json.Marshal(string(rj))
		return marketStep("m1", "success", `"resultJson":`+string(s))
	}
}

func TestDownloadMarketResultRecovery(t *testing.T) {
	tests := []struct {
		name     string
		hosts    marketHosts
		wantOK   bool
		wantGone bool
	}{
		{name: "link still valid", hosts: marketHosts{live: map[string]bool{"/old1.png": true}, record: succeededWith()}, wantOK: true},
		{name: "fresh link", hosts: marketHosts{live: map[string]bool{"/fresh.png": true}, freshPath: "/fresh.png", record: succeededWith()}, wantOK: true},
		{
			// The task's new links serve both results; only the one at the same index is the right picture.
			name:   "refresh refused, task has new links",
			hosts:  marketHosts{live: map[string]bool{"/new0.png": true, "/new1.png": true}, record: succeededWith("/new0.png", "/new1.png")},
			wantOK: true,
		},
		{name: "everything expired", hosts: marketHosts{freshPath: "/fresh.png", record: succeededWith("/new0.png", "/new1.png")}, wantGone: true},
		{name: "refresh refused and KIE no longer knows the task", hosts: marketHosts{record: func(string) http.HandlerFunc { return recordNull }}, wantGone: true},
		{name: "task has fewer results now", hosts: marketHosts{live: map[string]bool{"/new0.png": true}, record: succeededWith("/new0.png")}},
		{name: "task is not finished", hosts: marketHosts{record: func(string) http.HandlerFunc { return marketStep("m1", "generating", "") }}},
		{name: "re-reading the task fails transiently", hosts: marketHosts{record: func(string) http.HandlerFunc { return reply(500, "oops") }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newMarketHosts(t, &tt.hosts)
			c := newTestClient(h.api.URL)
			dir := t.TempDir()
			dest := filepath.Join(dir, "img.png")
			task := &MarketTask{TaskID: "m1", State: MarketSuccess, ResultURLs: []string{h.cdn.URL + "/old0.png", h.cdn.URL + "/old1.png"}}
			res, err := c.DownloadMarketResult(context.Background(), task, 1, dest)
			if tt.wantOK {
				if err != nil || res.SHA256 != sha(pngBytes()) {
					t.Fatalf("DownloadMarketResult = %+v, %v", res, err)
				}
				for _, r := range h.cdn.Requests() {
					if strings.Contains(r.Path, "0.png") {
						t.Errorf("fetched %s for result 1", r.Path)
					}
				}
				return
			}
			if err == nil {
				t.Fatal("DownloadMarketResult succeeded")
			}
			if got := errors.Is(err, ErrResultImageGone); got != tt.wantGone {
				t.Errorf("gone = %v, want %v: %v", got, tt.wantGone, err)
			}
			if !strings.Contains(err.Error(), "task m1") {
				t.Errorf("message lacks the task: %v", err)
			}
			if !tt.wantGone && !strings.Contains(err.Error(), "try again later") {
				t.Errorf("message: %v", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v", names)
			}
			for _, r := range h.cdn.Requests() {
				if r.Header.Get("Authorization") != "" {
					t.Errorf("the CDN received the key on %s", r.Path)
				}
			}
		})
	}
}

func TestDownloadMarketResultChecks(t *testing.T) {
	c := newTestClient("http://api.invalid")
	if _, err := c.DownloadMarketResult(context.Background(), nil, 0, "x"); err == nil {
		t.Error("nil task accepted")
	}
	if _, err := c.DownloadMarketResult(context.Background(), &MarketTask{TaskID: "m"}, -1, "x"); err == nil {
		t.Error("negative index accepted")
	}
}

func TestDecodeMarketCallback(t *testing.T) {
	cb, err := DecodeCallback([]byte(`{"code":200,"msg":"Playground task completed successfully.",
		"data":{"taskId":"bd8f","model":"google/nano-banana","state":"success","param":"{\"model\":\"google/nano-banana\",\"input\":{\"prompt\":\"x\"}}",
		"resultJson":"{\"resultUrls\":[\"https://tempfile.example/a.png\"]}","costTime":89,"completeTime":1787567409000,
		"createTime":1787567320000,"updateTime":1787567409000,"creditsConsumed":61}}`))
	if err != nil || cb.TaskID != "bd8f" || cb.Code != 200 || cb.Market == nil {
		t.Fatalf("%+v %v", cb, err)
	}
	m := cb.Market
	if m.State != MarketSuccess || !slices.Equal(m.ResultURLs, []string{"https://tempfile.example/a.png"}) || m.CostTime != 89 ||
		m.CreditsConsumed == nil || *m.CreditsConsumed != 61 || m.Params == nil || m.Params.Input["prompt"] != "x" ||
		m.CompleteTime.UnixMilli() != 1787567409000 {
		t.Errorf("market %+v", m)
	}
	cb, err = DecodeCallback([]byte(`{"code":501,"msg":"Playground task failed.","data":{"task_id":"c0ff","model":"m","state":"fail",
		"param":"{}","failCode":"400","failMsg":"bad input","consumeCredits":0}}`))
	if err != nil || cb.TaskID != "c0ff" || cb.Code != 501 || cb.Market == nil || cb.Market.State != MarketFail ||
		cb.Market.FailCode != "400" || cb.Market.FailMsg != "bad input" || len(cb.Market.ResultURLs) != 0 ||
		cb.Market.CreditsConsumed == nil || *cb.Market.CreditsConsumed != 0 {
		t.Fatalf("%+v %+v %v", cb, cb.Market, err)
	}
	// A Flux callback stays one.
	cb, err = DecodeCallback([]byte(`{"code":200,"data":{"taskId":"f1","info":{"resultImageUrl":"https://x/r.png"}}}`))
	if err != nil || cb.Market != nil || cb.ResultImageURL != "https://x/r.png" {
		t.Fatalf("%+v %v", cb, err)
	}
}

// TestMarketCallbackWakesWaiter: a signed Market callback (task id as data.task_id) passes the handler's
// signature check and wakes WaitMarketTask, which asks KIE once per callback and never on its own.
func TestMarketCallbackWakesWaiter(t *testing.T) {
	srv := newScriptServer(t, marketStep("mk1", "generating", ""), marketStep("mk1", "success", `"resultJson":"{\"resultUrls\":[\"https://cdn/x.png\"]}"`))
	c := newTestClient(srv.URL, WithCallbackPolling(time.Hour))
	h := NewCallbackHandler(c, "hmac-secret")
	type result struct {
		task *MarketTask
		err  error
	}
	done := make(chan result, 1)
	go func() {
		task, err := c.WaitMarketTask(context.Background(), "mk1")
		done <- result{task, err}
	}()
	post := func() {
		body := `{"code":200,"msg":"Playground task completed successfully.","data":{"task_id":"mk1","model":"m","state":"success"}}`
		req := httptest.NewRequest(http.MethodPost, "/kie", strings.NewReader(body))
		now := time.Now().Unix()
		req.Header.Set("X-Webhook-Timestamp", strconv.FormatInt(now, 10))
		req.Header.Set("X-Webhook-Signature", sign("hmac-secret", "mk1", now))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("callback answered %d", rec.Code)
		}
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for srv.Count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d queries, want %d", srv.Count(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(30 * time.Millisecond)
	if n := srv.Count(); n != 0 {
		t.Fatalf("%d queries before any callback", n)
	}
	post() // wakes the first query (a callback may also arrive before the task is done)
	waitFor(1)
	post()
	select {
	case r := <-done:
		if r.err != nil || r.task.State != MarketSuccess || !slices.Equal(r.task.ResultURLs, []string{"https://cdn/x.png"}) {
			t.Fatalf("task %+v, err %v", r.task, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the callback did not wake the waiter")
	}
	if n := srv.Count(); n != 2 {
		t.Errorf("%d queries, want one per callback", n)
	}
}
