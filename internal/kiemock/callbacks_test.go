package kiemock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

type received struct {
	header http.Header
	body   []byte
}

// callbackReceiver records callbacks; status decides each answer.
func callbackReceiver(t *testing.T, status func(n int) int) (*httptest.Server, chan received) {
	t.Helper()
	ch := make(chan received, 16)
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost {
			t.Errorf("callback method %s", r.Method)
		}
		ch <- received{header: r.Header.Clone(), body: b}
		w.WriteHeader(status(int(n.Add(1))))
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func next(t *testing.T, ch chan received) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no callback")
		return received{}
	}
}

// waitStats polls until cond holds for the mock's stats.
func waitStats(t *testing.T, s *Server, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := s.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never matched: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type callbackBody struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data struct {
		TaskID string `json:"taskId"`
		Info   *struct {
			OriginImageURL string `json:"originImageUrl"`
			ResultImageURL string `json:"resultImageUrl"`
		} `json:"info"`
	} `json:"data"`
}

func TestCallbackSignedAndCounted(t *testing.T) {
	const secret = "webhook-secret"
	recv, ch := callbackReceiver(t, func(int) int { return 200 })
	s := startMock(t, Options{Latency: 30 * time.Millisecond, CallbackSecret: secret})
	id := generate(t, s, map[string]any{"prompt": "call me", "callBackUrl": recv.URL + "/cb"})

	got := next(t, ch)
	var cb callbackBody
	if err := json.Unmarshal(got.body, &cb); err != nil {
		t.Fatalf("callback body %s: %v", got.body, err)
	}
	info := recordInfoOf(t, s, id)
	if cb.Code != 200 || cb.Data.TaskID != id || cb.Data.Info == nil ||
		cb.Data.Info.ResultImageURL != info.Response.ResultImageURL || cb.Data.Info.OriginImageURL != info.Response.OriginImageURL {
		t.Fatalf("callback %s vs record-info %+v", got.body, info.Response)
	}
	if got.header.Get("Content-Type") != "application/json" {
		t.Errorf("content type %q", got.header.Get("Content-Type"))
	}
	ts := got.header.Get("X-Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Fatalf("timestamp %q", ts)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + "." + ts))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	if got.header.Get("X-Webhook-Signature") != want {
		t.Fatalf("signature %q, want %q", got.header.Get("X-Webhook-Signature"), want)
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 1 })
	if snap, _ := s.Task(id); snap.CallbackPosts != 1 {
		t.Fatalf("callback posts %d", snap.CallbackPosts)
	}
}

func TestCallbackUnsignedWithoutSecret(t *testing.T) {
	recv, ch := callbackReceiver(t, func(int) int { return 204 })
	s := startMock(t, Options{})
	generate(t, s, map[string]any{"prompt": "x", "callBackUrl": recv.URL})
	got := next(t, ch)
	if got.header.Get("X-Webhook-Signature") != "" || got.header.Get("X-Webhook-Timestamp") != "" {
		t.Fatalf("signed without a secret: %v", got.header)
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 1 })
}

func TestCallbackForFailedTask(t *testing.T) {
	recv, ch := callbackReceiver(t, func(int) int { return 200 })
	s := startMock(t, Options{})
	id := generate(t, s, map[string]any{"prompt": "x " + MarkerGenerateFail, "callBackUrl": recv.URL})
	var cb callbackBody
	if err := json.Unmarshal(next(t, ch).body, &cb); err != nil {
		t.Fatal(err)
	}
	if cb.Code != 501 || cb.Data.TaskID != id || cb.Data.Info != nil || cb.Msg != "generation failed" {
		t.Fatalf("failure callback %+v", cb)
	}
}

func TestCallbackRetriesDuplicatesAndRefusals(t *testing.T) {
	recv, ch := callbackReceiver(t, func(n int) int {
		if n == 1 {
			return 500 // first attempt fails, the retry succeeds
		}
		return 200
	})
	s := startMock(t, Options{CallbackRetries: 1})
	generate(t, s, map[string]any{"prompt": "retry", "callBackUrl": recv.URL})
	next(t, ch)
	next(t, ch)
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 1 && st.CallbacksFailed == 1 })

	id := generate(t, s, map[string]any{"prompt": "dup " + MarkerDupCallback, "callBackUrl": recv.URL})
	a, b := next(t, ch), next(t, ch)
	if string(a.body) != string(b.body) {
		t.Fatalf("duplicate differs: %s vs %s", a.body, b.body)
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 3 })
	if snap, _ := s.Task(id); snap.CallbackPosts != 2 {
		t.Fatalf("posts %d", snap.CallbackPosts)
	}

	// Non-loopback callbacks are refused (and never resolved).
	generate(t, s, map[string]any{"prompt": "far", "callBackUrl": "https://example.invalid/cb"})
	waitStats(t, s, func(st Stats) bool { return st.CallbacksFailed == 3 }) // 1 earlier + 2 attempts
}
