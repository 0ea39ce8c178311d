package kie

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestDecodeTask(t *testing.T) {
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name   string
		data   string
		wantID string // the id asked for, if any
		check  func(t *testing.T, task *Task)
	}{
		{
			name: "finished, epoch millis and RFC 3339",
			data: `{"taskId":"t1","paramJson":"{\"prompt\":\"kite\",\"aspectRatio\":\"16:9\",\"safetyTolerance\":\"3\",\"promptUpsampling\":\"true\",\"enableTranslation\":false}",
				"createTime":1741064767000,"completeTime":"2025-03-04T05:07:07+01:00","successFlag":1,
				"response":{"resultImageUrl":"https://cdn.example/r.png","originImageUrl":"https://cdn.example/o.png"},
				"errorCode":null,"errorMessage":null}`,
			check: func(t *testing.T, task *Task) {
				if task.TaskID != "t1" || task.SuccessFlag != FlagSuccess || task.ResultImageURL != "https://cdn.example/r.png" || task.OriginImageURL != "https://cdn.example/o.png" {
					t.Errorf("task %+v", task)
				}
				if !task.CreateTime.Equal(created) || !task.CompleteTime.Equal(created.Add(-59*time.Minute)) {
					t.Errorf("times %v %v", task.CreateTime, task.CompleteTime)
				}
				p := task.Params
				if p == nil || p.Prompt != "kite" || p.AspectRatio != "16:9" || p.SafetyTolerance == nil || *p.SafetyTolerance != 3 ||
					p.PromptUpsampling == nil || !*p.PromptUpsampling || p.EnableTranslation == nil || *p.EnableTranslation || p.UploadCn != nil {
					t.Errorf("params %+v", p)
				}
				if !strings.Contains(task.ParamJSON, `"prompt":"kite"`) {
					t.Errorf("ParamJSON %q", task.ParamJSON)
				}
			},
		},
		{
			name: "running, plain date and string flag",
			data: `{"taskId":"t2","createTime":"2025-03-04 05:06:07","completeTime":null,"successFlag":"0","response":null}`,
			check: func(t *testing.T, task *Task) {
				if task.SuccessFlag != FlagGenerating || !task.CreateTime.Equal(created) || !task.CompleteTime.IsZero() || task.ResultImageURL != "" || task.Params != nil {
					t.Errorf("task %+v", task)
				}
			},
		},
		{
			name: "failed with string error code and millis as string",
			data: `{"taskId":"t3","successFlag":3,"errorCode":"400","errorMessage":"content flagged","createTime":"1741064767000"}`,
			check: func(t *testing.T, task *Task) {
				if task.SuccessFlag != FlagGenerateFailed || task.ErrorCode != 400 || task.ErrorMessage != "content flagged" || !task.CreateTime.Equal(created) {
					t.Errorf("task %+v", task)
				}
			},
		},
		{
			name: "flag by name, callback-shaped info, unparseable params",
			data: `{"taskId":"t4","successFlag":"SUCCESS","info":{"resultImageUrl":"https://cdn.example/i.png"},"paramJson":"not json","createTime":"yesterday"}`,
			check: func(t *testing.T, task *Task) {
				if task.SuccessFlag != FlagSuccess || task.ResultImageURL != "https://cdn.example/i.png" || task.Params != nil || !task.CreateTime.IsZero() {
					t.Errorf("task %+v", task)
				}
			},
		},
		{
			name:   "missing task id takes the one asked for",
			data:   `{"successFlag":0}`,
			wantID: "asked",
			check: func(t *testing.T, task *Task) {
				if task.TaskID != "asked" {
					t.Errorf("task id %q", task.TaskID)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task, err := decodeTask([]byte(tt.data), tt.wantID, nil)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, task)
		})
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `{}`, `{"foo":1}`, `{"taskId":`} {
		if _, err := decodeTask([]byte(bad), "", nil); err == nil {
			t.Errorf("decodeTask(%q) accepted", bad)
		}
	}
}

func TestParseParamsLenient(t *testing.T) {
	p := parseParams(`"{\"prompt\":\"double\",\"uploadCn\":1,\"callbackUrl\":\"https://h/cb\",\"safetyTolerance\":2.0}"`)
	if p == nil || p.Prompt != "double" || p.UploadCn == nil || !*p.UploadCn || p.CallBackURL != "https://h/cb" || *p.SafetyTolerance != 2 {
		t.Errorf("double-encoded params: %+v", p)
	}
	for _, bad := range []string{"", "  ", "[1]", "null", "{"} {
		if got := parseParams(bad); got != nil {
			t.Errorf("parseParams(%q) = %+v", bad, got)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		in string
		ok bool
	}{
		{"2025-03-04T05:06:07Z", true},
		{"2025-03-04T06:06:07+01:00", true},
		{"2025-03-04 05:06:07", true},
		{"2025-03-04T05:06:07", true},
		{"1741064767000", true},
		{"1741064767", true}, // seconds are accepted too
		{"", false},
		{"0", false},
		{"-5", false},
		{"NaN", false},
		{"99999999999999999", false},
		{"03/04/2025", false},
	}
	for _, tt := range tests {
		got, ok := parseTime(tt.in)
		if ok != tt.ok || (ok && (!got.Equal(want) || got.Location() != time.UTC)) {
			t.Errorf("parseTime(%q) = %v, %v", tt.in, got, ok)
		}
	}
}

func TestGetTaskRetriesTransientFaults(t *testing.T) {
	ok := env(200, "success", taskJSON("t1", 1, `"response":{"resultImageUrl":"https://cdn/x.png"}`))
	tests := []struct {
		name  string
		first http.HandlerFunc
	}{
		{"503 HTML", reply(503, "<html><body>Service Unavailable</body></html>")},
		{"502 empty", reply(502, "")},
		{"504", reply(504, "gateway timeout")},
		{"500 JSON", reply(500, `{"code":500,"msg":"internal"}`)},
		{"body code 500", env(500, "internal", "null")},
		{"429 with Retry-After", reply(429, `{"code":429,"msg":"slow"}`, "Retry-After", "1")},
		{"455 maintenance", env(455, "maintenance", "null")},
		{"malformed JSON", reply(200, `{"code":200,"data":{"taskId":"t1",`)},
		{"data null", env(200, "success", "null")},
		{"empty body", reply(200, "")},
		{"connection reset", resetConn},
		{"timeout", stall(5*time.Second, ok)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.first, ok)
			clk := newFakeClock()
			c := newTestClient(srv.URL, WithClock(clk), WithRequestTimeout(200*time.Millisecond))
			task, err := c.GetTask(context.Background(), "t1")
			if err != nil || task.SuccessFlag != FlagSuccess || task.ResultImageURL != "https://cdn/x.png" {
				t.Fatalf("GetTask = %+v, %v", task, err)
			}
			if srv.Count() != 2 {
				t.Errorf("%d requests, want 2", srv.Count())
			}
			if strings.Contains(tt.name, "Retry-After") && !slices.Contains(clk.Sleeps(), time.Second) {
				t.Errorf("Retry-After not honoured: %v", clk.Sleeps())
			}
			r := srv.Requests()[1]
			if r.Method != http.MethodGet || r.Path != "/api/v1/flux/kontext/record-info" || r.Query != "taskId=t1" {
				t.Errorf("request %s %s?%s", r.Method, r.Path, r.Query)
			}
		})
	}
}

func TestGetTaskDefiniteErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		is      func(error) bool
	}{
		{"401", reply(401, `{"code":401,"msg":"unauthorized"}`), IsUnauthorized},
		{"402 in HTTP 200", env(402, "no credits", "null"), IsInsufficientCredits},
		{"404 unknown task", env(404, "record not found", "null"), IsNotFound},
		{"HTTP 404 without body", reply(404, ""), IsNotFound},
		{"422", env(422, "taskId invalid", "null"), IsValidation},
		{"400", reply(400, `{"code":400,"msg":"bad"}`), IsValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.handler)
			c := newTestClient(srv.URL)
			_, err := c.GetTask(context.Background(), "t-404")
			if !tt.is(err) || srv.Count() != 1 {
				t.Fatalf("err %v after %d requests", err, srv.Count())
			}
			if !strings.Contains(err.Error(), "t-404") {
				t.Errorf("error does not name the task: %v", err)
			}
		})
	}
}

func TestGetTaskGivesUpAfterPolicyAttempts(t *testing.T) {
	srv := newScriptServer(t, reply(503, "down"))
	c := newTestClient(srv.URL, WithRetryPolicy(RetryPolicy{BaseDelay: time.Millisecond, MaxAttempts: 3}))
	_, err := c.GetTask(context.Background(), "t1")
	var e *APIError
	if !errors.As(err, &e) || e.HTTPStatus != 503 || srv.Count() != 3 || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("err %v after %d requests", err, srv.Count())
	}
}

func TestGetTaskStopsWhenContextEnds(t *testing.T) {
	// In a bubble the deadline cannot pass while the first query is under way, however loaded the
	// machine: it ends the hour-long backoff after the 503, as it would in real time.
	synctest.Test(t, func(t *testing.T) {
		srv := newPipeScriptServer(t, reply(503, "down"))
		c := newTestClient(srv.URL, srv.Via(), WithRetryPolicy(RetryPolicy{BaseDelay: time.Hour, MaxAttempts: 100}))
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err := c.GetTask(ctx, "t1")
		var e *APIError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &e) || e.HTTPStatus != 503 {
			t.Fatalf("got %v", err)
		}
		if srv.Count() != 1 {
			t.Errorf("%d requests, want 1", srv.Count())
		}
	})
}
