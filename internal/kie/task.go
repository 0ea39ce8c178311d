package kie

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SuccessFlag is a task's state as the API reports it.
type SuccessFlag int

// The task states of the API.
const (
	FlagGenerating     SuccessFlag = 0
	FlagSuccess        SuccessFlag = 1
	FlagCreateFailed   SuccessFlag = 2
	FlagGenerateFailed SuccessFlag = 3
)

func (f SuccessFlag) String() string {
	switch f {
	case FlagGenerating:
		return "GENERATING"
	case FlagSuccess:
		return "SUCCESS"
	case FlagCreateFailed:
		return "CREATE_TASK_FAILED"
	case FlagGenerateFailed:
		return "GENERATE_FAILED"
	}
	return fmt.Sprintf("UNKNOWN(%d)", int(f))
}

// Terminal reports whether the task will not change any more.
func (f SuccessFlag) Terminal() bool {
	return f == FlagSuccess || f == FlagCreateFailed || f == FlagGenerateFailed
}

// Task is a generation task as the record-info endpoint reports it.
type Task struct {
	TaskID         string
	ParamJSON      string           // raw paramJson string as returned
	Params         *GenerateRequest // parsed from ParamJSON; nil when absent or unparseable
	CreateTime     time.Time        // zero when absent
	CompleteTime   time.Time
	SuccessFlag    SuccessFlag
	ResultImageURL string
	OriginImageURL string
	ErrorCode      int // 0 when null
	ErrorMessage   string
}

// GetTask reads a task's state once. Transient faults are retried within the retry policy;
// an unknown task is an error for which IsNotFound is true.
func (c *Client) GetTask(ctx context.Context, taskID string) (*Task, error) {
	if c.apiKey == "" {
		return nil, ErrMissingAPIKey
	}
	taskID = strings.TrimSpace(taskID)
	if taskID == "" {
		return nil, errors.New("kie record-info: the task id is empty")
	}
	cl := &call{op: "record-info", method: http.MethodGet, base: c.baseURL, path: "/api/v1/flux/kontext/record-info",
		query: url.Values{"taskId": {taskID}}, taskID: taskID}
	var task *Task
	err := c.queryRecord(ctx, cl, func(data json.RawMessage) (err error) {
		task, err = decodeTask(data, taskID, c.redact)
		return err
	})
	if err != nil {
		return nil, err
	}
	return task, nil
}

// queryRecord runs a status query through the shared query gate, retrying what is safe to repeat;
// decode reads the answer's data, and an answer it cannot read counts as a transient fault.
func (c *Client) queryRecord(ctx context.Context, cl *call, decode func(json.RawMessage) error) error {
	return c.retryLoop(ctx, c.what(cl), retryIdempotent, func(n int) (failClass, time.Duration, error) {
		admitted, err := c.query.admit(ctx, c.clock)
		if err != nil {
			return failCanceled, 0, fmt.Errorf("%s: waiting for the query rate limit: %w", c.what(cl), err)
		}
		ans, cls, retryAfter, err := c.send(ctx, cl, n)
		if err != nil {
			if cls == failRefused && c.query.refused(c.clock.Now(), admitted, cmp.Or(retryAfter, c.retry.BaseDelay)) {
				c.logger.Info(ctx, "KIE rate-limited a status query; querying more slowly",
					map[string]any{"task_id": cl.taskID, "status_query_rate": fmt.Sprintf("%.2f per second", c.query.rate())})
			}
			return cls, retryAfter, err
		}
		c.query.answered(c.clock.Now())
		if derr := decode(ans.env.Data); derr != nil {
			return failTransient, 0, c.malformed(cl, ans.status, ans.env.Data, derr.Error())
		}
		return failNone, 0, nil
	})
}

// retryIdempotent retries everything but a definite refusal: these calls cost nothing to repeat.
func retryIdempotent(cls failClass) bool {
	return cls == failNotSent || cls == failRefused || cls == failTransient
}

// decodeTask reads a record-info data object leniently. wantID, when set, is the id asked for. redact,
// when set, cleans the error message before it is cut to length: a failed task's message may repeat the
// request's Authorization header, and a cut could leave the start of the key behind.
func decodeTask(data json.RawMessage, wantID string, redact func(string) string) (*Task, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("the task data is not a JSON object")
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(t, &f); err != nil {
		return nil, fmt.Errorf("the task data is not valid JSON: %w", err)
	}
	_, hasID := f["taskId"]
	_, hasFlag := f["successFlag"]
	if !hasID && !hasFlag {
		return nil, errors.New("the task data has neither taskId nor successFlag")
	}
	task := &Task{
		TaskID:       strings.TrimSpace(rawString(f["taskId"])),
		ParamJSON:    rawString(f["paramJson"]),
		CreateTime:   rawTime(f["createTime"]),
		CompleteTime: rawTime(f["completeTime"]),
		SuccessFlag:  parseFlag(f["successFlag"]),
	}
	msg := rawString(f["errorMessage"])
	if redact != nil {
		msg = redact(msg)
	}
	task.ErrorMessage = capText(msg, maxMessageLen)
	if wantID != "" {
		task.TaskID = wantID
	}
	task.ErrorCode, _ = rawInt(f["errorCode"])
	task.Params = parseParams(task.ParamJSON)

	// The result sits under "response" (the callback calls it "info"); accept it at the top as well.
	for _, key := range []string{"response", "info"} {
		var r map[string]json.RawMessage
		if json.Unmarshal(f[key], &r) == nil {
			task.ResultImageURL = cmp.Or(task.ResultImageURL, strings.TrimSpace(rawString(r["resultImageUrl"])))
			task.OriginImageURL = cmp.Or(task.OriginImageURL, strings.TrimSpace(rawString(r["originImageUrl"])))
		}
	}
	task.ResultImageURL = cmp.Or(task.ResultImageURL, strings.TrimSpace(rawString(f["resultImageUrl"])))
	task.OriginImageURL = cmp.Or(task.OriginImageURL, strings.TrimSpace(rawString(f["originImageUrl"])))
	return task, nil
}

// parseFlag reads successFlag as a number, a numeric string or a state name; absent means running.
func parseFlag(raw json.RawMessage) SuccessFlag {
	if n, ok := rawInt(raw); ok {
		return SuccessFlag(n)
	}
	if isNull(raw) {
		return FlagGenerating
	}
	name := strings.ToUpper(strings.TrimSpace(rawString(raw)))
	for _, f := range []SuccessFlag{FlagGenerating, FlagSuccess, FlagCreateFailed, FlagGenerateFailed} {
		if name == f.String() {
			return f
		}
	}
	return SuccessFlag(-1)
}

// parseParams reads the original request from paramJson, leniently; nil when unusable.
func parseParams(s string) *GenerateRequest {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		// Some answers encode the JSON twice.
		var inner string
		if json.Unmarshal([]byte(s), &inner) != nil || json.Unmarshal([]byte(inner), &m) != nil {
			return nil
		}
	}
	if m == nil {
		return nil
	}
	get := func(keys ...string) json.RawMessage {
		for _, k := range keys {
			if v, ok := m[k]; ok {
				return v
			}
		}
		return nil
	}
	boolPtr := func(keys ...string) *bool {
		if b, ok := rawBool(get(keys...)); ok {
			return &b
		}
		return nil
	}
	p := &GenerateRequest{
		Prompt:            rawString(get("prompt")),
		EnableTranslation: boolPtr("enableTranslation"),
		UploadCn:          boolPtr("uploadCn", "uploadCN"),
		InputImage:        rawString(get("inputImage")),
		AspectRatio:       rawString(get("aspectRatio")),
		OutputFormat:      rawString(get("outputFormat")),
		PromptUpsampling:  boolPtr("promptUpsampling"),
		Model:             rawString(get("model")),
		CallBackURL:       rawString(get("callBackUrl", "callbackUrl")),
		Watermark:         rawString(get("watermark")),
	}
	if n, ok := rawInt(get("safetyTolerance")); ok {
		p.SafetyTolerance = &n
	}
	return p
}

// rawTime reads a time given as epoch milliseconds (number or numeric string), RFC 3339 or
// "2006-01-02 15:04:05" (UTC); zero when absent or unreadable.
func rawTime(raw json.RawMessage) time.Time {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return time.Time{}
	}
	if t[0] != '"' {
		if f, ok := rawNumber(t); ok {
			ts, _ := epochTime(f)
			return ts
		}
		return time.Time{}
	}
	ts, _ := parseTime(rawString(t))
	return ts
}

// parseTime reads one of the time formats the API uses; the result is in UTC.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return epochTime(f)
	}
	for _, layout := range []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05Z07:00",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// epochTime reads epoch milliseconds; values too small to be milliseconds after 1973 are seconds.
func epochTime(f float64) (time.Time, bool) {
	const maxMillis = 253402300799999 // 9999-12-31T23:59:59.999Z
	if math.IsNaN(f) || f <= 0 || f > maxMillis {
		return time.Time{}, false
	}
	if f < 1e11 {
		f *= 1000
	}
	if f > maxMillis {
		return time.Time{}, false
	}
	ms := int64(f)
	return time.UnixMilli(ms).UTC(), true
}
