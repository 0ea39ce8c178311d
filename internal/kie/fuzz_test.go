package kie

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func FuzzDecodeEnvelope(f *testing.F) {
	for _, seed := range []string{
		`{"code":200,"msg":"success","data":{"taskId":"t1"}}`,
		`{"code":"402","msg":"insufficient","data":null}`,
		`{"code":200.5}`,
		`{"code":1e400}`,
		`{"msg":{"nested":[1,2]},"data":"x"}`,
		`<html><title>Error 1010</title><script>x</script></html>`,
		`{"code":200,"msg":"succ`,
		"",
		"\x00\xff",
		`[]`,
	} {
		f.Add([]byte(seed), 200)
		f.Add([]byte(seed), 502)
	}
	c := New(testKey)
	f.Fuzz(func(t *testing.T, body []byte, status int) {
		e, ok := decodeEnvelope(body)
		if ok && !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !ok && (e.HasCode || e.Data != nil) {
			t.Fatalf("rejected body left fields set: %+v", e)
		}
		if e.Data != nil && !json.Valid(e.Data) {
			t.Fatalf("data is not JSON: %q", e.Data)
		}
		checkText(t, e.Msg, maxMessageLen)

		ans, cls, apiErr := c.judge(&call{op: "fuzz"}, status, http.Header{}, body)
		switch {
		case apiErr == nil && (ans == nil || cls != failNone):
			t.Fatalf("success without an answer: %v %v", ans, cls)
		case apiErr != nil:
			checkText(t, apiErr.Excerpt, maxExcerptLen)
			if apiErr.Error() == "" {
				t.Fatal("empty error text")
			}
		}
	})
}

func FuzzDecodeTask(f *testing.F) {
	for _, seed := range []string{
		`{"taskId":"t1","paramJson":"{\"prompt\":\"p\",\"safetyTolerance\":\"2\"}","createTime":1741064767000,"completeTime":"2025-03-04 05:06:07","successFlag":1,"response":{"resultImageUrl":"https://x/y.png"},"errorCode":null,"errorMessage":null}`,
		`{"taskId":"t2","successFlag":"GENERATE_FAILED","errorCode":"400","errorMessage":"flagged"}`,
		`{"taskId":3,"successFlag":1e10,"createTime":"-1","response":"nope"}`,
		`{"successFlag":null,"paramJson":{"prompt":1}}`,
		`{}`,
		`null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		task, err := decodeTask(data, "", nil)
		if err != nil {
			if task != nil {
				t.Fatal("task and error together")
			}
			return
		}
		if task.TaskID != strings.TrimSpace(task.TaskID) || task.SuccessFlag.String() == "" {
			t.Fatalf("task %+v", task)
		}
		for _, ts := range []time.Time{task.CreateTime, task.CompleteTime} {
			if !ts.IsZero() && ts.Location() != time.UTC {
				t.Fatalf("time not in UTC: %v", ts)
			}
		}
		checkText(t, task.ErrorMessage, maxMessageLen)
		if task.Params != nil && task.ParamJSON == "" {
			t.Fatal("params without paramJson")
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, seed := range []string{"0", "2", "1.5", "-3", "1e308", "NaN", "Inf", "Wed, 01 Jan 2025 12:00:30 GMT", "Monday, 01-Jan-25 12:00:30 GMT", "soon", ""} {
		f.Add(seed)
	}
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	const limit = 60 * time.Second
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now, limit)
		if d < 0 || d > limit || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{"2025-03-04T05:06:07Z", "2025-03-04T05:06:07.123+05:30", "2025-03-04 05:06:07", "1741064767000", "1741064767", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-01:00", "0", "", "garbage"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ts, ok := parseTime(s)
		if !ok {
			if !ts.IsZero() {
				t.Fatalf("failed parse returned %v", ts)
			}
			return
		}
		if ts.Location() != time.UTC || ts.Year() < 1 || ts.Year() > 9999 {
			t.Fatalf("parseTime(%q) = %v", s, ts)
		}
		back, ok := parseTime(ts.Format(time.RFC3339Nano))
		if !ok || !back.Equal(ts) {
			t.Fatalf("round trip of %v gave %v %v", ts, back, ok)
		}
	})
}

// checkText asserts a capped, single-line, printable text.
func checkText(t *testing.T, s string, limit int) {
	t.Helper()
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit+1 {
		t.Fatalf("text not capped or not UTF-8: %q", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			t.Fatalf("control character in %q", s)
		}
	}
}

func FuzzDecodeCallback(f *testing.F) {
	for _, s := range []string{
		`{"code":200,"msg":"ok","data":{"taskId":"t","info":{"resultImageUrl":"u","originImageUrl":"o"}}}`,
		`{"code":"501","data":{"taskId":1,"info":null}}`,
		`{"data":{"taskId":"t","info":[]}}`, `{}`, `null`, ``, `{"data":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, err := DecodeCallback(body)
		if err == nil && (cb == nil || cb.TaskID == "") {
			t.Fatalf("accepted a callback without a task id: %+v", cb)
		}
	})
}

func FuzzDecodeMarketTask(f *testing.F) {
	for _, seed := range []string{
		`{"taskId":"m1","model":"x","state":"success","param":"{\"model\":\"x\",\"input\":{\"prompt\":\"p\"}}","resultJson":"{\"resultUrls\":[\"https://x/a.png\"]}","costTime":15000,"createTime":1741064767000,"creditsConsumed":6}`,
		`{"taskId":"m2","state":"fail","failCode":422,"failMsg":"bad","resultJson":null,"consumeCredits":"0"}`,
		`{"task_id":3,"state":["x"],"resultJson":{"resultUrls":"nope"},"param":"\"{\\\"input\\\":\\\"{}\\\"}\"","costTime":1e300}`,
		`{"state":"queuing","resultJson":[1,null,"u"]}`, `{}`, `null`, ``, `{"taskId":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeMarketTask(data, "", nil)
		if err != nil {
			return
		}
		checkText(t, m.FailMsg, maxMessageLen)
		for _, u := range m.ResultURLs {
			if strings.TrimSpace(u) != u || u == "" {
				t.Fatalf("untrimmed or empty result URL %q", u)
			}
		}
	})
}
