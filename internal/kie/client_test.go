package kie

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMissingKeySendsNothing(t *testing.T) {
	srv := newScriptServer(t, env(200, "success", "1"))
	c := New("  ", WithBaseURL(srv.URL), WithUploadBaseURL(srv.URL))
	ctx := context.Background()
	calls := map[string]func() error{
		"Generate": func() error { _, err := c.Generate(ctx, GenerateRequest{Prompt: "p"}); return err },
		"GetTask":  func() error { _, err := c.GetTask(ctx, "t"); return err },
		"WaitTask": func() error { _, err := c.WaitTask(ctx, "t"); return err },
		"Credits":  func() error { _, err := c.Credits(ctx); return err },
		"Fresh":    func() error { _, err := c.FreshDownloadURL(ctx, "https://x/y"); return err },
		"Upload":   func() error { _, err := c.UploadFile(ctx, "x", ""); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrMissingAPIKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if srv.Count() != 0 {
		t.Errorf("%d requests sent without a key", srv.Count())
	}
}

func TestOptionsAndHeaders(t *testing.T) {
	srv := newScriptServer(t, env(200, "success", "5"))
	c := New(testKey, WithBaseURL(srv.URL+"///"), WithUserAgent("terraform-provider-kie/1.2.3"), WithHTTPClient(nil),
		WithLogger(nil), WithClock(nil), WithPollInterval(0, 0), WithCreateLimit(0, 0), WithQueryRate(-1),
		WithMaxDownloadBytes(0), WithRequestTimeout(0))
	if _, err := c.Credits(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	if r.Path != "/api/v1/chat/credit" || r.Header.Get("User-Agent") != "terraform-provider-kie/1.2.3" || r.Header.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("request %s UA %q", r.Path, r.Header.Get("User-Agent"))
	}
	// Options that make no sense keep the defaults.
	if c.pollMin != DefaultPollMin || c.pollMax != DefaultPollMax || c.createN != DefaultCreateLimit || c.queryRate != DefaultQueryRate ||
		c.maxDownload != (DefaultMaxDownloadMiB<<20) || c.requestTimeout != DefaultRequestTimeout || c.retry.MaxAttempts != 5 || c.uploadBaseURL != DefaultUploadBaseURL {
		t.Error("an invalid option value replaced a default")
	}
	if d := New("k", WithUserAgent("  ")); d.userAgent != defaultUserAgent || d.baseURL != DefaultBaseURL {
		t.Errorf("defaults: %q %q", d.userAgent, d.baseURL)
	}
	if d := New("k", WithPollInterval(5*time.Second, time.Second)); d.pollMin != 5*time.Second || d.pollMax != 5*time.Second {
		t.Errorf("poll bounds %v..%v", d.pollMin, d.pollMax)
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"api.kie.ai", "ftp://h", "http://%zz"} {
		_, err := New(testKey, WithBaseURL(base)).Credits(context.Background())
		if err == nil || !strings.Contains(err.Error(), "base URL") {
			t.Errorf("base %q: %v", base, err)
		}
	}
}

func TestCustomRedirectPolicyStillStripsKey(t *testing.T) {
	cdn := newScriptServer(t, servePNG)
	api := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, cdn.URL+"/img.png", http.StatusTemporaryRedirect)
	})
	called := false
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return nil }}
	c := newTestClient(api.URL, WithHTTPClient(hc))
	if _, err := c.Download(context.Background(), api.URL+"/r", filepath.Join(t.TempDir(), "x.png")); err != nil {
		t.Fatal(err)
	}
	if !called || cdn.Requests()[0].Header.Get("Authorization") != "" || api.Requests()[0].Header.Get("Authorization") == "" {
		t.Errorf("called %v, CDN auth %q", called, cdn.Requests()[0].Header.Get("Authorization"))
	}
	if hc.CheckRedirect == nil || c.hc == hc {
		t.Error("the caller's client was modified instead of copied")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	limit := 60 * time.Second
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{" 0 ", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"3600", limit, true},
		{"1e300", limit, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), limit, true},
		{"Wed, 01 Jan 2025 12:00:10 GMT", 10 * time.Second, true},
		{"", 0, false},
		{"-1", 0, false},
		{"NaN", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now, limit)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	for attempt := 1; attempt <= 10; attempt++ {
		step := min(100*time.Millisecond<<(attempt-1), time.Second)
		for range 50 {
			if d := p.backoff(attempt, 0); d < step/2 || d > step {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, step/2, step)
			}
		}
	}
	if d := p.backoff(1, 5*time.Second); d != 5*time.Second {
		t.Errorf("Retry-After not honoured: %v", d)
	}
	if d := p.backoff(1, time.Hour); d != p.MaxRetryAfter {
		t.Errorf("Retry-After not capped: %v", d)
	}
}

// The client's defaults are what every configuration that leaves the provider's arguments unset runs
// with, and what the provider's documentation promises. They are pinned as literals, never as the
// Default constants: a table that reads a constant follows it when it changes and never fails.
func TestClientDefaultsArePinned(t *testing.T) {
	c := New(testKey)
	for _, p := range []struct {
		argument  string
		got, want any
		cost      string
	}{
		{"base_url", c.baseURL, "https://api.kie.ai",
			"every configuration without base_url would send its API key and its paid requests to another host"},
		{"upload_base_url", c.uploadBaseURL, "https://kieai.redpandaai.co",
			"every input_image_file of a configuration without upload_base_url would go to another host"},
		{"request_timeout", c.requestTimeout, 60 * time.Second,
			"shorter, slow answers to create requests become uncertain outcomes (a task that may be paid for and " +
				"is not resumed); longer, a stalled connection holds every apply longer"},
		{"poll_min_interval", c.pollMin, 3 * time.Second,
			"shorter spends KIE's status-query budget faster and gets queries refused; longer delays every apply"},
		{"poll_max_interval", c.pollMax, 30 * time.Second,
			"shorter spends the query budget on long tasks; longer delays every apply by up to that much"},
		{"poll_initial_delay", c.firstPoll, 8 * time.Second,
			"shorter spends queries on tasks that cannot have finished; longer delays every apply"},
		{"create_rate_limit", c.createN, 20,
			"higher than KIE's account limit gets generations refused (429) and slows every run on the account; " +
				"lower slows every apply that creates images"},
		{"create_rate_window", c.createPer, 10 * time.Second,
			"shorter than KIE's window gets generations refused (429); longer slows every apply that creates images"},
		{"status_query_rate", c.queryRate, 10.0,
			"higher gets status queries refused (429) by KIE; lower slows every apply that waits for several images"},
		{"max_download_mb", c.maxDownload, int64(100 << 20),
			"lower makes downloads fail that work today (the image is paid for, the file never arrives)"},
		{"callback_receiver.safety_poll_interval", DefaultCallbackPolling, time.Minute,
			"shorter spends the query budget the callback receiver exists to save; longer delays applies whose callback is lost"},
		{"(retries of safe calls)", c.retry.MaxAttempts, 5,
			"fewer turns passing network faults into failed applies"},
		{"(refused generations retried without a deadline)", c.retry.RefusedFor, 15 * time.Minute,
			"shorter fails applies while KIE is busy; longer holds them"},
		{"(answer grace of a create sent when its context ends)", c.answerGrace, 5 * time.Second,
			"shorter turns creates KIE accepted just as a create timeout or Ctrl-C struck into unknown outcomes; " +
				"longer holds a Ctrl-C that long when KIE does not answer"},
	} {
		if p.got != p.want {
			t.Errorf("the default of %s changed from %v to %v: %s. Every user who leaves %s unset gets the new "+
				"value on their next apply; if that is intended, update this test, the provider's documentation "+
				"and the CHANGELOG", p.argument, p.want, p.got, p.cost, p.argument)
		}
	}
}
