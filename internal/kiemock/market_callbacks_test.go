package kiemock

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

// marketCallback is a Market callback as a receiver decodes it.
type marketCallback struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data struct {
		marketData
		ResultJSON *string `json:"resultJson"`
	} `json:"data"`
}

func TestMarketCallbackSuccessSigned(t *testing.T) {
	const secret = "market-secret"
	recv, ch := callbackReceiver(t, func(int) int { return 200 })
	s := startMock(t, Options{Latency: 1100 * time.Millisecond, CallbackSecret: secret})
	id := createMarket(t, s, "bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "call me", "max_images": 2},
		"callBackUrl", recv.URL+"/cb")

	got := next(t, ch)
	var cb marketCallback
	if err := json.Unmarshal(got.body, &cb); err != nil {
		t.Fatalf("callback %s: %v", got.body, err)
	}
	rec := marketInfo(t, s, id)
	d := cb.Data
	if cb.Code != 200 || cb.Msg != "Playground task completed successfully." || d.TaskID != id ||
		d.Model != "bytedance/seedream-v4-text-to-image" || d.State != StateSuccess || d.Param != rec.Param ||
		d.ResultJSON == nil || *d.ResultJSON != rec.ResultJSON || d.CreditsConsumed != 10 ||
		d.CreateTime != rec.CreateTime || d.CompleteTime == nil || *d.CompleteTime != *rec.CompleteTime ||
		d.UpdateTime != *rec.CompleteTime {
		t.Fatalf("callback %s vs recordInfo %+v", got.body, rec)
	}
	// costTime is seconds in the callback, milliseconds in recordInfo.
	if d.CostTime != 1 || rec.CostTime < 1100 || rec.CostTime > 5000 {
		t.Fatalf("costTime callback %d, recordInfo %d", d.CostTime, rec.CostTime)
	}
	if _, has := jsonKeys(t, got.body)["failCode"]; has {
		t.Fatalf("success callback carries failCode: %s", got.body)
	}
	ts := got.header.Get("X-Webhook-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Fatalf("timestamp %q", ts)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(id + "." + ts))
	if want := base64.StdEncoding.EncodeToString(m.Sum(nil)); got.header.Get("X-Webhook-Signature") != want {
		t.Fatalf("signature %q, want %q", got.header.Get("X-Webhook-Signature"), want)
	}
	if got.header.Get("X-Webhook-Signature") != CallbackSignature(secret, id, ts) {
		t.Fatal("signed differently from Flux callbacks")
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 1 })
	if snap, _ := s.MarketTask(id); snap.CallbackPosts != 1 {
		t.Fatalf("callback posts %d", snap.CallbackPosts)
	}
}

// jsonKeys are the keys of a callback's data object.
func jsonKeys(t *testing.T, body []byte) map[string]json.RawMessage {
	t.Helper()
	var env struct {
		Data map[string]json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatal(err)
	}
	return env.Data
}

func TestMarketCallbackFailure(t *testing.T) {
	recv, ch := callbackReceiver(t, func(int) int { return 200 })
	s := startMock(t, Options{})
	id := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "x " + MarkerGenerateFail}, "callBackUrl", recv.URL)
	got := next(t, ch)
	var cb marketCallback
	if err := json.Unmarshal(got.body, &cb); err != nil {
		t.Fatal(err)
	}
	d := cb.Data
	if cb.Code != 501 || cb.Msg != "Playground task failed." || d.TaskID != id || d.State != StateFail ||
		d.FailCode != "500" || d.FailMsg == "" || d.CreditsConsumed != 0 || d.ResultJSON != nil || d.Model != "google/nano-banana" {
		t.Fatalf("failure callback %s", got.body)
	}
	if keys := jsonKeys(t, got.body); keys["creditsConsumed"] == nil || keys["param"] == nil {
		t.Fatalf("required fields missing: %s", got.body)
	}
	if got.header.Get("X-Webhook-Signature") != "" {
		t.Fatal("signed without a secret")
	}
}

func TestMarketCallbackRetriesAndDuplicates(t *testing.T) {
	recv, ch := callbackReceiver(t, func(n int) int {
		if n == 1 {
			return 502
		}
		return 200
	})
	s := startMock(t, Options{CallbackRetries: 1})
	createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "retry"}, "callBackUrl", recv.URL)
	a, b := next(t, ch), next(t, ch)
	if string(a.body) != string(b.body) {
		t.Fatal("retry differs")
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 1 && st.CallbacksFailed == 1 })

	id := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "dup " + MarkerDupCallback}, "callBackUrl", recv.URL)
	if a, b := next(t, ch), next(t, ch); string(a.body) != string(b.body) {
		t.Fatal("duplicate differs")
	}
	waitStats(t, s, func(st Stats) bool { return st.CallbacksSent == 3 })
	if snap, _ := s.MarketTask(id); snap.CallbackPosts != 2 {
		t.Fatalf("posts %d", snap.CallbackPosts)
	}
	// Only loopback receivers are called.
	createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "far"}, "callBackUrl", "https://example.invalid/cb")
	waitStats(t, s, func(st Stats) bool { return st.CallbacksFailed == 3 })
}
