package kiemock

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// Two clients with one key, told apart by their prompts' tags: each sees its own generate requests,
// tasks, 429s and status queries; untagged requests count only in Stats; ResetStats clears the tags.
func TestTagStatsSplitOneAccount(t *testing.T) {
	s := startMock(t, Options{CreateLimit: 3, CreateWindow: time.Hour})
	a1 := generate(t, s, map[string]any{"prompt": "[mock:tag=a] one"})
	generate(t, s, map[string]any{"prompt": "two [mock:tag=b]"})
	generate(t, s, map[string]any{"prompt": "untagged"})
	for _, p := range []string{"[mock:tag=a] three", "[mock:tag=b] four", "[mock:tag=b] five"} {
		if r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, map[string]any{"prompt": p}); r.Code != 429 {
			t.Fatalf("%s: %s", p, r.Raw)
		}
	}
	for range 2 {
		if r := call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+a1, testKey, nil); r.Code != 200 {
			t.Fatalf("record-info: %s", r.Raw)
		}
	}
	want := map[string]TagStats{
		"a": {GenerateRequests: 2, TasksCreated: 1, RateLimited: 1, StatusQueries: 2},
		"b": {GenerateRequests: 3, TasksCreated: 1, RateLimited: 2},
	}
	got := s.TagStats()
	if len(got) != len(want) || got["a"] != want["a"] || got["b"] != want["b"] {
		t.Fatalf("tag stats %+v, want %+v", got, want)
	}
	resp, body := get(t, s.URL()+"/_mock/tag-stats")
	var viaHTTP map[string]TagStats
	if resp.StatusCode != 200 || json.Unmarshal(body, &viaHTTP) != nil || viaHTTP["b"] != want["b"] {
		t.Fatalf("GET /_mock/tag-stats: %d %s", resp.StatusCode, body)
	}
	if st := s.Stats(); st.GenerateRequests != 6 || st.RateLimited != 3 {
		t.Fatalf("stats %+v", st)
	}
	s.ResetStats()
	if got := s.TagStats(); len(got) != 0 {
		t.Fatalf("after ResetStats: %+v", got)
	}
}

// With a unit below a second, Retry-After keeps its precision: a time-scaled run's window of 1 s is not
// answered with a whole second.
func TestRetryAfterUnit(t *testing.T) {
	const window = 1500 * time.Millisecond
	s := startMock(t, Options{CreateLimit: 1, CreateWindow: window, RetryAfterUnit: 100 * time.Millisecond})
	generate(t, s, map[string]any{"prompt": "1"})
	r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, map[string]any{"prompt": "2"})
	ra, err := strconv.ParseFloat(r.Header.Get("Retry-After"), 64)
	if r.Code != 429 || err != nil || ra < 1.3 || ra > 1.5 || ra*10 != float64(int(ra*10)) {
		t.Fatalf("Retry-After %q: want tenths of a second up to the window", r.Header.Get("Retry-After"))
	}
}
