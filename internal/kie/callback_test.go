package kie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func sign(key, taskID string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(taskID + "." + strconv.FormatInt(ts, 10)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestDecodeCallback(t *testing.T) {
	cb, err := DecodeCallback([]byte(`{"code":"200","msg":"ok","data":{"taskId":" t1 ","info":{"resultImageUrl":"https://x/r.png","originImageUrl":"https://x/o.png"}}}`))
	if err != nil || cb.TaskID != "t1" || cb.Code != 200 || cb.ResultImageURL != "https://x/r.png" || cb.OriginImageURL != "https://x/o.png" {
		t.Fatalf("%+v %v", cb, err)
	}
	cb, err = DecodeCallback([]byte(`{"code":501,"msg":"failed","data":{"taskId":"t2","info":null}}`))
	if err != nil || cb.TaskID != "t2" || cb.Code != 501 || cb.ResultImageURL != "" {
		t.Fatalf("%+v %v", cb, err)
	}
	for _, bad := range []string{``, `[]`, `{"code":200}`, `{"data":{"info":{}}}`, `{"data":"x"}`, `{"data":{"taskId":""}}`} {
		if _, err := DecodeCallback([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestVerifyCallbackSignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	ts := now.Unix() - 10
	good := sign("k", "t1", ts)
	if err := VerifyCallbackSignature([]byte("k"), "t1", strconv.FormatInt(ts, 10), good, now); err != nil {
		t.Fatal(err)
	}
	cases := map[string][4]string{
		"wrong key":    {"other", "t1", strconv.FormatInt(ts, 10), good},
		"other task":   {"k", "t2", strconv.FormatInt(ts, 10), good},
		"stale":        {"k", "t1", strconv.FormatInt(now.Unix()-3600, 10), sign("k", "t1", now.Unix()-3600)},
		"future":       {"k", "t1", strconv.FormatInt(now.Unix()+3600, 10), sign("k", "t1", now.Unix()+3600)},
		"no timestamp": {"k", "t1", "", good},
		"not base64":   {"k", "t1", strconv.FormatInt(ts, 10), "%%%"},
	}
	for name, c := range cases {
		if err := VerifyCallbackSignature([]byte(c[0]), c[1], c[2], c[3], now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCallbackHandlerWakesWaiterAndRefusesForgeries(t *testing.T) {
	c := newTestClient("http://127.0.0.1:1")
	h := NewCallbackHandler(c, "secret")
	post := func(body string, hdr map[string]string) int {
		req := httptest.NewRequest(http.MethodPost, "/kie", strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	body := `{"code":200,"data":{"taskId":"t9","info":{"resultImageUrl":"https://x/r.png"}}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if code := post(body, nil); code != http.StatusUnauthorized {
		t.Fatalf("unsigned callback answered %d", code)
	}
	if code := post(body, map[string]string{"X-Webhook-Timestamp": ts, "X-Webhook-Signature": sign("wrong", "t9", time.Now().Unix())}); code != http.StatusUnauthorized {
		t.Fatalf("forged callback answered %d", code)
	}
	c.waitMu.Lock()
	_, early := c.early["t9"]
	c.waitMu.Unlock()
	if early {
		t.Fatal("a refused callback must not wake anyone")
	}
	hdr := map[string]string{"X-Webhook-Timestamp": ts, "X-Webhook-Signature": sign("secret", "t9", time.Now().Unix())}
	for range 2 { // duplicates are fine
		if code := post(body, hdr); code != http.StatusOK {
			t.Fatalf("signed callback answered %d", code)
		}
	}
	c.waitMu.Lock()
	_, early = c.early["t9"]
	c.waitMu.Unlock()
	if !early {
		t.Fatal("the signed callback was not recorded for its waiter")
	}
	if code := post(strings.Repeat("x", maxCallbackBody+1), hdr); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body answered %d", code)
	}
	req := httptest.NewRequest(http.MethodGet, "/kie", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET answered %d", rec.Code)
	}
}

// warnRecorder is a logger that can warn.
// TestCallbackHandlerWarnsOfRefusedCallbacks: a refused callback (a forgery, or a wrong hmac_key that
// leaves every task to the slow safety poll) is logged as a warning.
func TestCallbackHandlerWarnsOfRefusedCallbacks(t *testing.T) {
	body := `{"code":200,"data":{"taskId":"t9"}}`
	req := httptest.NewRequest(http.MethodPost, "/kie", strings.NewReader(body))
	req.Header.Set("X-Webhook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("X-Webhook-Signature", sign("wrong", "t9", time.Now().Unix()))
	rec := httptest.NewRecorder()
	logs := &logRecorder{}
	NewCallbackHandler(New(testKey, WithLogger(logs)), "secret").ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged callback answered %d", rec.Code)
	}
	if got := logs.All(); !strings.Contains(got, "WARN refused a KIE callback") || !strings.Contains(got, "task_id:t9") {
		t.Errorf("no warning of the refused callback: %q", got)
	}
}
