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
	"strings"
	"time"
)

// MarketRequest is the body of a Market createTask request: a model id and that model's own input
// object, sent as given.
type MarketRequest struct {
	Model       string          `json:"model"`
	CallBackURL string          `json:"callBackUrl,omitempty"`
	Input       json.RawMessage `json:"input"` // a JSON object; empty sends {}
}

// CreateMarketTask starts a paid Market generation and returns its task id. It shares the account's
// create window and every rule of Generate: only a request that provably was not accepted is repeated,
// an unknown outcome is an *UncertainCreateError, refusals until the deadline are a *RefusedError.
func (c *Client) CreateMarketTask(ctx context.Context, req MarketRequest) (string, error) {
	if c.apiKey == "" {
		return "", ErrMissingAPIKey
	}
	req.Model = strings.TrimSpace(req.Model)
	if req.Model == "" {
		return "", errors.New("kie createTask: the model is required")
	}
	in := bytes.TrimSpace(req.Input)
	if len(in) == 0 || isNull(in) {
		in = []byte("{}")
	}
	if in[0] != '{' || !json.Valid(in) {
		return "", errors.New("kie createTask: the input must be a JSON object")
	}
	req.Input = in
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // send prompts exactly as written
	if err := enc.Encode(req); err != nil {
		return "", fmt.Errorf("kie createTask: encoding the request: %w", err)
	}
	cl := &call{op: "createTask", method: http.MethodPost, base: c.baseURL, path: "/api/v1/jobs/createTask",
		body: bytes.TrimSpace(buf.Bytes())}
	return c.createTask(ctx, cl)
}

// MarketState is a Market task's state.
type MarketState string

// The Market task states. Any other value is kept as KIE sent it and counts as running.
const (
	MarketWaiting    MarketState = "waiting"
	MarketQueuing    MarketState = "queuing"
	MarketGenerating MarketState = "generating"
	MarketSuccess    MarketState = "success"
	MarketFail       MarketState = "fail"
)

// Terminal reports whether the task will not change any more.
func (s MarketState) Terminal() bool { return s == MarketSuccess || s == MarketFail }

// MarketParams is the original create request as recordInfo's param reports it.
type MarketParams struct {
	Model       string
	CallBackURL string
	Input       map[string]any
}

// MarketTask is a Market task as recordInfo (or a callback) reports it.
type MarketTask struct {
	TaskID     string
	Model      string
	State      MarketState
	ParamJSON  string        // raw param string as returned
	Params     *MarketParams // parsed from ParamJSON; nil when absent or unparseable
	ResultURLs []string      // from resultJson's resultUrls; empty unless the task succeeded
	FailCode   string        // as given, "" on success
	FailMsg    string        // redacted and capped
	// CostTime is stored as given: KIE's docs say milliseconds for recordInfo, seconds for callbacks.
	CostTime     int64
	CreateTime   time.Time // zero when absent
	CompleteTime time.Time
	UpdateTime   time.Time
	// CreditsConsumed is creditsConsumed (or the older consumeCredits); nil when absent.
	CreditsConsumed *float64
	RemainedCredits *float64 // older callbacks only
}

// GetMarketTask reads a Market task's state once, through the shared query gate. Transient faults are
// retried within the retry policy. An unknown task (404, or 422 "recordInfo is null") is an error for
// which IsNotFound is true; right after a create KIE may answer so briefly, which WaitMarketTask tolerates.
func (c *Client) GetMarketTask(ctx context.Context, taskID string) (*MarketTask, error) {
	if c.apiKey == "" {
		return nil, ErrMissingAPIKey
	}
	taskID = strings.TrimSpace(taskID)
	if taskID == "" {
		return nil, errors.New("kie recordInfo: the task id is empty")
	}
	cl := &call{op: "recordInfo", method: http.MethodGet, base: c.baseURL, path: "/api/v1/jobs/recordInfo",
		query: url.Values{"taskId": {taskID}}, taskID: taskID, nullIsUnknown: true}
	var task *MarketTask
	err := c.queryRecord(ctx, cl, func(data json.RawMessage) (err error) {
		task, err = decodeMarketTask(data, taskID, c.redact)
		return err
	})
	if err != nil {
		return nil, err
	}
	return task, nil
}

// WaitMarketTask polls a Market task until it ends, with WaitTask's schedule, Notify wake-ups and
// cancellation. On success it returns the task; in state fail it returns the task and a
// *TaskFailedError. KIE's "not found" is taken for "not visible yet" for a while (at least
// 5 answers and 30 s); after that the error satisfies IsNotFound.
func (c *Client) WaitMarketTask(ctx context.Context, taskID string) (*MarketTask, error) {
	return waitLoop(ctx, c, taskID, taskPoll[MarketTask]{
		get: c.GetMarketTask,
		done: func(t *MarketTask) (bool, error) {
			switch t.State {
			case MarketSuccess:
				return true, nil
			case MarketFail:
				return true, &TaskFailedError{TaskID: t.TaskID, State: t.State, FailCode: t.FailCode, Model: t.Model,
					ErrorMessage: c.redact(t.FailMsg)}
			}
			return false, nil
		},
		state:           func(t *MarketTask) string { return string(t.State) },
		tolerateUnknown: true,
	})
}

// DownloadMarketResult downloads result number index of a finished Market task. An expired link is
// refreshed through FreshDownloadURL, then the task is read again for a new link at the same index;
// only when all of that fails for good does the error wrap ErrResultImageGone.
func (c *Client) DownloadMarketResult(ctx context.Context, task *MarketTask, index int, destPath string) (*DownloadResult, error) {
	if task == nil {
		return nil, errors.New("kie: downloading a task result: no task given")
	}
	if index < 0 {
		return nil, fmt.Errorf("kie: downloading a result of task %s: negative index %d", task.TaskID, index)
	}
	link := ""
	if index < len(task.ResultURLs) {
		link = task.ResultURLs[index]
	}
	return c.downloadWithRefresh(ctx, task.TaskID, link, destPath, func(ctx context.Context) (string, error) {
		t, err := c.GetMarketTask(ctx, task.TaskID)
		switch {
		case err != nil:
			return "", err
		case t.State != MarketSuccess:
			return "", fmt.Errorf("the task has no result to download: its state is %s", cmp.Or(string(t.State), "unknown"))
		case index >= len(t.ResultURLs):
			return "", fmt.Errorf("the task has %d results, none at index %d", len(t.ResultURLs), index)
		}
		return t.ResultURLs[index], nil
	})
}

// decodeMarketTask reads a recordInfo (or callback) data object leniently. wantID, when set, is the id
// asked for; redact, when set, cleans failMsg before it is cut (see decodeTask).
func decodeMarketTask(data json.RawMessage, wantID string, redact func(string) string) (*MarketTask, error) {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return nil, errors.New("the task data is not a JSON object")
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(t, &f); err != nil {
		return nil, fmt.Errorf("the task data is not valid JSON: %w", err)
	}
	id := cmp.Or(strings.TrimSpace(rawString(f["taskId"])), strings.TrimSpace(rawString(f["task_id"])))
	_, hasState := f["state"]
	if id == "" && !hasState {
		return nil, errors.New("the task data has neither taskId nor state")
	}
	task := &MarketTask{
		TaskID:       cmp.Or(wantID, id),
		Model:        strings.TrimSpace(rawString(f["model"])),
		State:        parseMarketState(f["state"]),
		ParamJSON:    cmp.Or(rawString(f["param"]), rawString(f["paramJson"])),
		ResultURLs:   parseResultURLs(f["resultJson"]),
		FailCode:     strings.TrimSpace(rawString(f["failCode"])),
		CreateTime:   rawTime(f["createTime"]),
		CompleteTime: rawTime(f["completeTime"]),
		UpdateTime:   rawTime(f["updateTime"]),
	}
	if len(task.ResultURLs) == 0 {
		task.ResultURLs = urlList(f["resultUrls"])
	}
	msg := rawString(f["failMsg"])
	if redact != nil {
		msg = redact(msg)
	}
	task.FailMsg = capText(msg, maxMessageLen)
	if n, ok := rawNumber(f["costTime"]); ok && math.Abs(n) < math.MaxInt64/2 {
		task.CostTime = int64(n)
	}
	task.CreditsConsumed = rawFloatPtr(f["creditsConsumed"])
	if task.CreditsConsumed == nil {
		task.CreditsConsumed = rawFloatPtr(f["consumeCredits"])
	}
	task.RemainedCredits = rawFloatPtr(f["remainedCredits"])
	task.Params = parseMarketParams(task.ParamJSON)
	if task.Model == "" && task.Params != nil {
		task.Model = task.Params.Model
	}
	return task, nil
}

// parseMarketState lowercases the documented states and keeps anything else as sent.
func parseMarketState(raw json.RawMessage) MarketState {
	s := strings.TrimSpace(rawString(raw))
	for _, known := range []MarketState{MarketWaiting, MarketQueuing, MarketGenerating, MarketSuccess, MarketFail} {
		if strings.EqualFold(s, string(known)) {
			return known
		}
	}
	return MarketState(s)
}

// parseResultURLs reads resultJson: a JSON string holding {"resultUrls":[...]}, that object given
// directly, or the list itself; empty when absent or unreadable.
func parseResultURLs(raw json.RawMessage) []string {
	t := bytes.TrimSpace(raw)
	for range 3 { // a string may hold JSON, possibly encoded twice
		if len(t) == 0 || t[0] != '"' {
			break
		}
		var s string
		if json.Unmarshal(t, &s) != nil {
			return nil
		}
		t = bytes.TrimSpace([]byte(s))
	}
	if len(t) == 0 {
		return nil
	}
	if t[0] == '[' {
		return urlList(t)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(t, &obj) != nil {
		return nil
	}
	return urlList(firstRaw(obj, "resultUrls", "result_urls"))
}

// urlList reads a JSON array of URL strings, dropping blanks.
func urlList(raw json.RawMessage) []string {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if u := strings.TrimSpace(rawString(it)); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// parseMarketParams reads the original create body from param, leniently; nil when unusable.
func parseMarketParams(s string) *MarketParams {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		var inner string
		if json.Unmarshal([]byte(s), &inner) != nil || json.Unmarshal([]byte(inner), &m) != nil {
			return nil
		}
	}
	if m == nil {
		return nil
	}
	p := &MarketParams{
		Model:       strings.TrimSpace(rawString(m["model"])),
		CallBackURL: rawString(firstRaw(m, "callBackUrl", "callbackUrl")),
	}
	in := bytes.TrimSpace(m["input"])
	if len(in) > 0 && in[0] == '"' { // an input encoded as a string of its own
		in = []byte(rawString(in))
	}
	if json.Unmarshal(in, &p.Input) != nil {
		p.Input = nil
	}
	return p
}

func rawFloatPtr(raw json.RawMessage) *float64 {
	if n, ok := rawNumber(raw); ok {
		return &n
	}
	return nil
}

// firstRaw is the first of keys present in m.
func firstRaw(m map[string]json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}
