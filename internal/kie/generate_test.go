package kie

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func okTask(id string) http.HandlerFunc {
	return env(200, "success", `{"taskId":"`+id+`"}`)
}

func TestGenerateWireFormatAndHeaders(t *testing.T) {
	srv := newScriptServer(t, okTask("task_abc"))
	c := newTestClient(srv.URL + "/") // a trailing slash is tolerated
	f, zero := false, 0
	id, err := c.Generate(context.Background(), GenerateRequest{
		Prompt:            "a <red> & blue kite",
		EnableTranslation: &f,
		AspectRatio:       "16:9",
		SafetyTolerance:   &zero,
		Model:             "flux-kontext-pro",
	})
	if err != nil || id != "task_abc" {
		t.Fatalf("Generate = %q, %v", id, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/api/v1/flux/kontext/generate" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
	if got := r.Header.Get("User-Agent"); got != "terraform-provider-kie/dev" {
		t.Errorf("User-Agent = %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"aspectRatio", "enableTranslation", "model", "prompt", "safetyTolerance"}; !slices.Equal(keys, want) {
		t.Errorf("wire keys %v, want %v", keys, want)
	}
	if body["enableTranslation"] != false || body["safetyTolerance"] != 0.0 || body["prompt"] != "a <red> & blue kite" {
		t.Errorf("wire body %v", body)
	}
	if !strings.Contains(r.Body, "<red> &") {
		t.Errorf("prompt was escaped: %s", r.Body)
	}
}

func TestGenerateRetryRules(t *testing.T) {
	tests := []struct {
		name      string
		steps     []http.HandlerFunc
		wantPosts int
		wantID    string
		uncertain bool
		check     func(t *testing.T, err error, clk *fakeClock)
	}{
		{
			name:      "429 then success honours Retry-After",
			steps:     []http.HandlerFunc{reply(429, `{"code":429,"msg":"too many"}`, "Retry-After", "2"), okTask("t1")},
			wantPosts: 2, wantID: "t1",
			check: func(t *testing.T, _ error, clk *fakeClock) {
				// Never sooner than asked, and up to a twentieth later so that refused callers spread out.
				if !slices.ContainsFunc(clk.Sleeps(), func(d time.Duration) bool { return d >= 2*time.Second && d <= 2100*time.Millisecond }) {
					t.Errorf("no wait of 2-2.1s in %v", clk.Sleeps())
				}
			},
		},
		{
			name:      "body code 429 in HTTP 200 is retried",
			steps:     []http.HandlerFunc{env(429, "rate limited", "null"), okTask("t2")},
			wantPosts: 2, wantID: "t2",
		},
		{
			name:      "455 maintenance is retried",
			steps:     []http.HandlerFunc{env(455, "maintenance", "null"), env(455, "maintenance", "null"), okTask("t3")},
			wantPosts: 3, wantID: "t3",
		},
		{
			name:      "Retry-After is capped",
			steps:     []http.HandlerFunc{reply(429, "", "Retry-After", "86400"), okTask("t4")},
			wantPosts: 2, wantID: "t4",
			check: func(t *testing.T, _ error, clk *fakeClock) {
				if s := clk.Sleeps(); slices.Max(s) > 72*time.Second {
					t.Errorf("waited %v", s)
				}
			},
		},
		{
			name:  "429 until the time runs out is a refusal that says how often and how long",
			steps: []http.HandlerFunc{reply(429, `{"code":429,"msg":"slow down"}`, "Retry-After", "40")},
			// Attempts at 0 s, 40-48 s and 80-96 s: a fourth would come after fastRetry's 2 minutes.
			wantPosts: 3,
			check: func(t *testing.T, err error, _ *fakeClock) {
				var re *RefusedError
				if !IsRateLimited(err) || !errors.As(err, &re) || re.Refusals != 3 ||
					!strings.Contains(err.Error(), "KIE refused the request 3 times over 1m") {
					t.Errorf("got %v", err)
				}
			},
		},
		{name: "HTTP 500 is uncertain", steps: []http.HandlerFunc{reply(500, `{"code":500,"msg":"internal"}`), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "body code 500 is uncertain", steps: []http.HandlerFunc{env(500, "server error", "null"), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "502 HTML is uncertain", steps: []http.HandlerFunc{reply(502, "<h1>Bad Gateway</h1>"), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "empty 200 is uncertain", steps: []http.HandlerFunc{reply(200, ""), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "malformed 200 is uncertain", steps: []http.HandlerFunc{reply(200, `{"code":200,"data":{"taskId":`), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "empty task id is uncertain", steps: []http.HandlerFunc{env(200, "success", `{"taskId":""}`), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "null data is uncertain", steps: []http.HandlerFunc{env(200, "success", "null"), okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "reset after the request was read is uncertain", steps: []http.HandlerFunc{resetConn, okTask("never")}, wantPosts: 1, uncertain: true},
		{name: "timeout after sending is uncertain", steps: []http.HandlerFunc{stall(5*time.Second, okTask("late")), okTask("never")}, wantPosts: 1, uncertain: true},
		{
			name: "402 is a definite refusal", steps: []http.HandlerFunc{env(402, "insufficient credits", "null")}, wantPosts: 1,
			check: func(t *testing.T, err error, _ *fakeClock) {
				if !IsInsufficientCredits(err) {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "422 is a definite refusal", steps: []http.HandlerFunc{reply(422, `{"code":422,"msg":"aspectRatio invalid"}`)}, wantPosts: 1,
			check: func(t *testing.T, err error, _ *fakeClock) {
				if !IsValidation(err) || !strings.Contains(err.Error(), "aspectRatio invalid") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "403 CDN page is a definite refusal", steps: []http.HandlerFunc{reply(403, "<title>error 1010</title>")}, wantPosts: 1,
			check: func(t *testing.T, err error, _ *fakeClock) {
				if !strings.Contains(err.Error(), "error 1010") {
					t.Errorf("got %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.steps...)
			clk := newFakeClock()
			c := newTestClient(srv.URL, WithClock(clk), WithRequestTimeout(200*time.Millisecond))
			id, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"})
			if n := srv.Count(); n != tt.wantPosts {
				t.Errorf("server saw %d POSTs, want %d", n, tt.wantPosts)
			}
			var u *UncertainCreateError
			if got := errors.As(err, &u); got != tt.uncertain {
				t.Errorf("uncertain = %v, want %v (err %v)", got, tt.uncertain, err)
			}
			if tt.uncertain && !strings.Contains(err.Error(), "paid task may have been created") {
				t.Errorf("message does not warn about payment: %v", err)
			}
			if tt.wantID != "" && (err != nil || id != tt.wantID) {
				t.Errorf("Generate = %q, %v; want %q", id, err, tt.wantID)
			}
			if tt.wantID == "" && (err == nil || id != "") {
				t.Errorf("Generate = %q, %v; want an error", id, err)
			}
			if tt.check != nil {
				tt.check(t, err, clk)
			}
		})
	}
}

func TestGenerateConnectionRefusedIsRetried(t *testing.T) {
	srv := newScriptServer(t, okTask("after-refusal"))
	dead := closedAddr(t)
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		if dials.Add(1) <= 2 { // the first two dials hit a port nobody listens on
			return d.DialContext(ctx, network, dead)
		}
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c := newTestClient(srv.URL, WithHTTPClient(&http.Client{Transport: tr}))
	id, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"})
	if err != nil || id != "after-refusal" {
		t.Fatalf("Generate = %q, %v", id, err)
	}
	if dials.Load() != 3 || srv.Count() != 1 {
		t.Errorf("dials %d, POSTs %d", dials.Load(), srv.Count())
	}
}

func TestGenerateNeverReachableIsNotUncertain(t *testing.T) {
	c := newTestClient("http://" + closedAddr(t))
	_, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"})
	var u *UncertainCreateError
	if err == nil || errors.As(err, &u) {
		t.Fatalf("want a certain failure, got %v", err)
	}
	if !strings.Contains(err.Error(), "giving up after 4 attempts") {
		t.Errorf("got %v", err)
	}
}

func TestGenerateWaitsOnCreateLimiter(t *testing.T) {
	t.Run("between calls", func(t *testing.T) {
		srv := newScriptServer(t, okTask("a"))
		clk := newFakeClock()
		c := newTestClient(srv.URL, WithClock(clk), WithCreateLimit(1, time.Hour))
		for range 2 {
			if _, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"}); err != nil {
				t.Fatal(err)
			}
		}
		if s := clk.Sleeps(); len(s) != 1 || s[0] < 59*time.Minute {
			t.Errorf("waits %v, want one of about an hour", s)
		}
	})
	// An accepted request holds its room for the window; a refused one does not (KIE did not count it),
	// so its retry waits for the refusal's backoff, not for another window.
	t.Run("before a retry", func(t *testing.T) {
		srv := newScriptServer(t, okTask("a"), env(429, "limited", "null"), okTask("b"))
		clk := newFakeClock()
		c := newTestClient(srv.URL, WithClock(clk), WithCreateLimit(1, time.Minute))
		for range 2 {
			if _, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"}); err != nil {
				t.Fatal(err)
			}
		}
		var total time.Duration
		for _, s := range clk.Sleeps() {
			total += s
		}
		if total < 59*time.Second || total > 90*time.Second || srv.Count() != 3 {
			t.Errorf("waited %v over %d POSTs; want one window for the second call and only a backoff for its retry", total, srv.Count())
		}
	})
}

func TestGenerateCallerChecks(t *testing.T) {
	srv := newScriptServer(t, okTask("x"))
	c := newTestClient(srv.URL)
	if _, err := c.Generate(context.Background(), GenerateRequest{Prompt: "  "}); err == nil {
		t.Error("empty prompt accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Generate(ctx, GenerateRequest{Prompt: "p"})
	var u *UncertainCreateError
	if !errors.Is(err, context.Canceled) || errors.As(err, &u) {
		t.Errorf("canceled context: %v", err)
	}
	if _, err := New("").Generate(context.Background(), GenerateRequest{Prompt: "p"}); !errors.Is(err, ErrMissingAPIKey) {
		t.Errorf("missing key: %v", err)
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests sent", srv.Count())
	}
}

// A create already sent when the caller's context ends (Ctrl-C, or the create timeout) still gets its
// answer, within a grace: an accepted task is returned, not lost.
func TestCreateEndedAfterSendingKeepsTheAnswer(t *testing.T) {
	for _, api := range []string{"flux", "market"} {
		for _, end := range []string{"canceled", "deadline"} {
			t.Run(api+"/"+end, func(t *testing.T) {
				var ctx context.Context
				var cancel context.CancelFunc
				if end == "deadline" {
					ctx, cancel = context.WithTimeout(context.Background(), time.Second)
				} else {
					ctx, cancel = context.WithCancel(context.Background())
				}
				defer cancel()
				srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
					if end == "canceled" {
						cancel()
					}
					<-ctx.Done() // answer only once the caller's context is over
					okTask("task_late")(w, r)
				})
				c := newTestClient(srv.URL, WithRequestTimeout(time.Minute))
				c.answerGrace = time.Minute
				id, err := createFor(ctx, api, c)
				if err != nil || id != "task_late" {
					t.Fatalf("create = %q, %v; want the task KIE accepted", id, err)
				}
				if ctx.Err() == nil {
					t.Fatal("the caller's context had not ended: nothing was tested")
				}
				if n := len(srv.Requests()); n != 1 {
					t.Fatalf("%d requests, want 1", n)
				}
			})
		}
	}
}

// Without an answer within the grace, the outcome is unknown and said so, wrapping the context's end.
func TestCreateEndedAfterSendingWithoutAnswerIsUncertain(t *testing.T) {
	arrived := make(chan struct{})
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-r.Context().Done()
	})
	c := newTestClient(srv.URL)
	c.answerGrace = 50 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := c.Generate(ctx, GenerateRequest{Prompt: "p"})
	var u *UncertainCreateError
	if !errors.As(err, &u) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Fatalf("want uncertain wrapping context.Canceled, got %v", err)
	}
}

// createFor sends a paid create of the given API.
func createFor(ctx context.Context, api string, c *Client) (string, error) {
	if api == "market" {
		return c.CreateMarketTask(ctx, MarketRequest{Model: "google/nano-banana", Input: json.RawMessage(`{"prompt":"p"}`)})
	}
	return c.Generate(ctx, GenerateRequest{Prompt: "p"})
}
