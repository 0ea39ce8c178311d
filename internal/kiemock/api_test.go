package kiemock

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuthRequiredOnAPIEndpoints(t *testing.T) {
	s := startMock(t, Options{})
	endpoints := []struct{ method, path string }{
		{http.MethodPost, pathGenerate},
		{http.MethodGet, pathRecordInfo + "?taskId=x"},
		{http.MethodGet, pathCredit},
		{http.MethodPost, pathDownloadURL},
		{http.MethodPost, pathStreamUpload},
		{http.MethodPost, pathBase64Upload},
		{http.MethodPost, pathURLUpload},
	}
	n := 0
	for _, ep := range endpoints {
		for _, key := range []string{"", "wrong-key"} {
			r := call(t, ep.method, s.URL()+ep.path, key, `{"prompt":"x"}`)
			n++
			if r.Status != 401 || r.Code != 401 || !strings.Contains(r.Msg, "access permissions") {
				t.Errorf("%s %s key %q: HTTP %d %s", ep.method, ep.path, key, r.Status, r.Raw)
			}
		}
	}
	st := s.Stats()
	if st.AuthFailures != n || st.TasksCreated != 0 || st.GenerateRequests != 2 {
		t.Errorf("stats %+v", st)
	}
	// The scheme is case-insensitive, the key is not.
	req, _ := http.NewRequest(http.MethodGet, s.URL()+pathCredit, nil)
	req.Header.Set("Authorization", "bearer "+testKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("lower-case bearer: %d", resp.StatusCode)
	}
	if r := call(t, http.MethodGet, s.URL()+pathCredit, strings.ToUpper(testKey), nil); r.Status != 401 {
		t.Errorf("upper-cased key accepted: %d", r.Status)
	}
}

func TestDefaultAPIKey(t *testing.T) {
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r := call(t, http.MethodGet, s.URL()+pathCredit, "mock-key", nil); r.Code != 200 {
		t.Fatalf("default key: %s", r.Raw)
	}
}

func TestGenerateValidation(t *testing.T) {
	s := startMock(t, Options{})
	cases := []struct {
		name  string
		body  string
		code  int
		field string
	}{
		{"missing prompt", `{"aspectRatio":"1:1"}`, 422, "prompt"},
		{"blank prompt", `{"prompt":"   "}`, 422, "prompt"},
		{"prompt not a string", `{"prompt":42}`, 422, "prompt"},
		{"bad model", `{"prompt":"a","model":"flux-kontext-ultra"}`, 422, "model"},
		{"bad aspect", `{"prompt":"a","aspectRatio":"2:1"}`, 422, "aspectRatio"},
		{"bad format", `{"prompt":"a","outputFormat":"webp"}`, 422, "outputFormat"},
		{"jpg is not jpeg", `{"prompt":"a","outputFormat":"jpg"}`, 422, "outputFormat"},
		{"input not a URL", `{"prompt":"a","inputImage":"landscape.jpg"}`, 422, "inputImage"},
		{"input ftp", `{"prompt":"a","inputImage":"ftp://127.0.0.1/x.png"}`, 422, "inputImage"},
		{"callback not a URL", `{"prompt":"a","callBackUrl":"not a url"}`, 422, "callBackUrl"},
		{"bool field wrong type", `{"prompt":"a","promptUpsampling":"yes"}`, 422, "promptUpsampling"},
		{"safety not integer", `{"prompt":"a","safetyTolerance":2.5}`, 422, "safetyTolerance"},
		{"safety too high", `{"prompt":"a","safetyTolerance":7}`, 500, "safetyTolerance"},
		{"safety negative", `{"prompt":"a","safetyTolerance":-1}`, 500, "safetyTolerance"},
		{"safety too high for edit", `{"prompt":"a","safetyTolerance":3,"inputImage":"http://127.0.0.1:1/x.png"}`, 500, "safetyTolerance"},
		{"malformed JSON", `{"prompt":"a"`, 400, ""},
		{"not an object", `["prompt"]`, 400, ""},
		{"flagged", `{"prompt":"nsfw [mock:flagged]"}`, 400, "flagged"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, c.body)
			if r.Code != c.code || r.Status != c.code {
				t.Fatalf("want %d, got HTTP %d %s", c.code, r.Status, r.Raw)
			}
			if !strings.Contains(r.Msg, c.field) {
				t.Fatalf("msg %q does not name %q", r.Msg, c.field)
			}
		})
	}
	if st := s.Stats(); st.TasksCreated != 0 || st.GenerateRequests != len(cases) {
		t.Fatalf("rejected requests created tasks: %+v", st)
	}
	if s.Credits() != DefaultCredits {
		t.Fatalf("rejected requests were charged: %v", s.Credits())
	}

	// Boundaries and unknown fields are accepted.
	for _, body := range []map[string]any{
		{"prompt": "a", "safetyTolerance": 6, "someFutureField": true},
		{"prompt": "a", "safetyTolerance": 0, "inputImage": "http://127.0.0.1:1/x.png"},
		{"prompt": "a", "safetyTolerance": 2, "inputImage": "https://127.0.0.1:1/x.png", "enableTranslation": false,
			"uploadCn": false, "promptUpsampling": true, "watermark": "hi", "callBackUrl": "http://127.0.0.1:1/cb"},
	} {
		generate(t, s, body)
	}
	if r := call(t, http.MethodGet, s.URL()+pathGenerate, testKey, nil); r.Status != 405 {
		t.Fatalf("GET generate: %d", r.Status)
	}
}

func TestDefaultsAndParamJSON(t *testing.T) {
	s := startMock(t, Options{})
	body := `{"prompt":"A lake at sunset","watermark":"kie","extra":{"nested":[1,2,3]}, "uploadCn": false}`
	r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, body)
	if r.Code != 200 {
		t.Fatal(string(r.Raw))
	}
	var d struct{ TaskID string }
	_ = json.Unmarshal(r.Data, &d)
	if !strings.HasPrefix(d.TaskID, "fluxkontext_") {
		t.Fatalf("task id %q", d.TaskID)
	}
	info := recordInfoOf(t, s, d.TaskID)
	var got, want map[string]any
	if err := json.Unmarshal([]byte(info.ParamJSON), &got); err != nil {
		t.Fatalf("paramJson is not a JSON string of the body: %q", info.ParamJSON)
	}
	_ = json.Unmarshal([]byte(body), &want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("paramJson %v, want %v", got, want)
	}
	snap, ok := s.Task(d.TaskID)
	if !ok {
		t.Fatal("Task not found")
	}
	if snap.Model != "flux-kontext-pro" || snap.AspectRatio != "16:9" || snap.OutputFormat != "jpeg" ||
		snap.SafetyTolerance != 2 || snap.Prompt != "A lake at sunset" || !reflect.DeepEqual(snap.Params, want) {
		t.Fatalf("snapshot %+v", snap)
	}
	if w, h, _ := ScaledSize("16:9", 0.05); snap.Width != w || snap.Height != h {
		t.Fatalf("size %dx%d", snap.Width, snap.Height)
	}
}

func TestLifecycleLatency(t *testing.T) {
	const latency = 200 * time.Millisecond
	s := startMock(t, Options{Latency: latency})
	start := time.Now()
	id := generate(t, s, map[string]any{"prompt": "a red fox"})
	d := recordInfoOf(t, s, id)
	if time.Since(start) < latency {
		if d.SuccessFlag != 0 || string(d.CompleteTime) != "null" || d.Response != nil || d.ErrorCode != nil || d.ErrorMessage != nil {
			t.Fatalf("running task: %+v complete=%s", d, d.CompleteTime)
		}
		if st := s.Stats(); st.InFlight != 1 {
			t.Fatalf("in flight %d", st.InFlight)
		}
	}
	d = waitDone(t, s, id)
	if elapsed := time.Since(start); elapsed < latency {
		t.Fatalf("finished after %v, before the latency", elapsed)
	}
	if d.SuccessFlag != 1 || d.Response == nil || d.ErrorCode != nil || string(d.CompleteTime) == "null" {
		t.Fatalf("finished task: %+v", d)
	}
	if !strings.HasPrefix(d.Response.ResultImageURL, s.URL()+"/files/"+id+".jpg") ||
		!strings.HasPrefix(d.Response.OriginImageURL, s.URL()+"/files/"+id+"-origin.jpg") {
		t.Fatalf("links %+v", d.Response)
	}
	if st := s.Stats(); st.InFlight != 0 || st.PeakInFlight != 1 {
		t.Fatalf("stats %+v", st)
	}
	snap, _ := s.Task(id)
	if got := snap.CompletedAt.Sub(snap.CreatedAt); got < latency || got > latency+time.Second {
		t.Fatalf("completed %v after creation", got)
	}
}

func TestZeroLatencyIsImmediate(t *testing.T) {
	s := startMock(t, Options{})
	id := generate(t, s, map[string]any{"prompt": "now"})
	if d := recordInfoOf(t, s, id); d.SuccessFlag != 1 {
		t.Fatalf("flag %d", d.SuccessFlag)
	}
}

func TestMaxModelLatencyAndMarkerLatency(t *testing.T) {
	s := startMock(t, Options{Latency: time.Millisecond, MaxLatency: time.Hour})
	pro := generate(t, s, map[string]any{"prompt": "p"})
	maxID := generate(t, s, map[string]any{"prompt": "m", "model": "flux-kontext-max"})
	fast := generate(t, s, map[string]any{"prompt": "m [mock:latency=0s]", "model": "flux-kontext-max"})
	if waitDone(t, s, pro).SuccessFlag != 1 || waitDone(t, s, fast).SuccessFlag != 1 {
		t.Fatal("pro or marker task did not finish")
	}
	if d := recordInfoOf(t, s, maxID); d.SuccessFlag != 0 {
		t.Fatalf("max task finished despite MaxLatency: %+v", d)
	}
}

func TestLatencyJitterDeterministicPerTask(t *testing.T) {
	a, b := jitterFor("fluxkontext_a", time.Second), jitterFor("fluxkontext_a", time.Second)
	if a != b || a < 0 || a > time.Second {
		t.Fatalf("jitter %v %v", a, b)
	}
	seen := map[time.Duration]bool{}
	for i := range 20 {
		seen[jitterFor(fmt.Sprint("id", i), time.Second)] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter barely varies: %v", seen)
	}
}

func TestTimeFormatsRotateAndPin(t *testing.T) {
	s := startMock(t, Options{})
	var raws []string
	for range 3 {
		id := generate(t, s, map[string]any{"prompt": "t"})
		d := recordInfoOf(t, s, id)
		raws = append(raws, string(d.CreateTime))
		for _, raw := range []json.RawMessage{d.CreateTime, d.CompleteTime} {
			if _, err := parseAnyTime(raw); err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
		}
	}
	if _, err := time.Parse(`"`+time.RFC3339+`"`, raws[0]); err != nil {
		t.Errorf("task 0 not RFC 3339: %s", raws[0])
	}
	if _, err := strconv.ParseInt(raws[1], 10, 64); err != nil {
		t.Errorf("task 1 not epoch ms: %s", raws[1])
	}
	if _, err := time.Parse(`"`+time.DateTime+`"`, raws[2]); err != nil {
		t.Errorf("task 2 not date-time: %s", raws[2])
	}

	pinned := startMock(t, Options{TimeFormat: TimeFormatEpochMillis})
	for range 3 {
		d := recordInfoOf(t, pinned, generate(t, pinned, map[string]any{"prompt": "t"}))
		ms, err := strconv.ParseInt(string(d.CreateTime), 10, 64)
		if err != nil || time.Since(time.UnixMilli(ms)) > time.Minute {
			t.Fatalf("pinned epoch-ms: %s", d.CreateTime)
		}
	}
}

func parseAnyTime(raw json.RawMessage) (time.Time, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		return time.UnixMilli(n), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, err
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateTime, s)
}

func TestRecordInfoErrors(t *testing.T) {
	s := startMock(t, Options{})
	if r := call(t, http.MethodGet, s.URL()+pathRecordInfo, testKey, nil); r.Code != 422 || !strings.Contains(r.Msg, "taskId") {
		t.Fatalf("missing taskId: %s", r.Raw)
	}
	if r := call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId=nope", testKey, nil); r.Code != 404 || r.Status != 404 {
		t.Fatalf("unknown taskId: %d %s", r.Status, r.Raw)
	}
	if st := s.Stats(); st.StatusQueries != 2 {
		t.Fatalf("status queries %d", st.StatusQueries)
	}
}

func TestErrorsAsHTTP200(t *testing.T) {
	s := startMock(t, Options{ErrorsAsHTTP200: true})
	for _, r := range []apiResp{
		call(t, http.MethodGet, s.URL()+pathCredit, "", nil),
		call(t, http.MethodPost, s.URL()+pathGenerate, testKey, `{}`),
		call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId=nope", testKey, nil),
	} {
		if r.Status != 200 || r.Code < 400 {
			t.Fatalf("HTTP %d body %s", r.Status, r.Raw)
		}
	}
}

func TestMarkers(t *testing.T) {
	s := startMock(t, Options{Latency: 10 * time.Millisecond})
	cases := []struct {
		marker string
		flag   int
		code   int
		msg    string
	}{
		{MarkerCreateFail, 2, 400, "create"},
		{MarkerGenerateFail, 3, 501, "generation failed"},
		{MarkerInternalError, 3, 500, "internal"},
	}
	for _, c := range cases {
		id := generate(t, s, map[string]any{"prompt": "x " + c.marker, "model": "flux-kontext-max"})
		d := waitDone(t, s, id)
		if d.SuccessFlag != c.flag || d.ErrorCode == nil || *d.ErrorCode != c.code ||
			d.ErrorMessage == nil || !strings.Contains(*d.ErrorMessage, c.msg) || d.Response != nil {
			t.Errorf("%s: %+v", c.marker, d)
		}
		resp, _ := get(t, s.URL()+"/files/"+id+".jpg")
		if resp.StatusCode != 404 {
			t.Errorf("%s: failed task serves a file: %d", c.marker, resp.StatusCode)
		}
	}
	if s.Credits() != DefaultCredits {
		t.Fatalf("failed tasks not refunded: %v", s.Credits())
	}
}

func TestCredits(t *testing.T) {
	s := startMock(t, Options{Credits: 100})
	credit := func() float64 {
		r := call(t, http.MethodGet, s.URL()+pathCredit, testKey, nil)
		var n float64
		if err := json.Unmarshal(r.Data, &n); err != nil || r.Code != 200 {
			t.Fatalf("credit: %s", r.Raw)
		}
		return n
	}
	if credit() != 100 {
		t.Fatal("initial balance")
	}
	generate(t, s, map[string]any{"prompt": "a"})
	generate(t, s, map[string]any{"prompt": "a", "model": "flux-kontext-max"})
	if c := credit(); c != 100-CostPro-CostMax {
		t.Fatalf("balance %v", c)
	}
	s.SetCredits(9)
	generate(t, s, map[string]any{"prompt": "a"})
	r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, map[string]any{"prompt": "a", "model": "flux-kontext-max"})
	if r.Code != 402 || r.Status != 402 {
		t.Fatalf("insufficient: %s", r.Raw)
	}
	if c := credit(); c != 4 {
		t.Fatalf("balance after 402: %v", c)
	}
	if st := s.Stats(); st.CreditQueries != 3 || st.TasksCreated != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRateLimit(t *testing.T) {
	const window = 1500 * time.Millisecond
	s := startMock(t, Options{CreateLimit: 2, CreateWindow: window})
	start := time.Now()
	generate(t, s, map[string]any{"prompt": "1"})
	generate(t, s, map[string]any{"prompt": "2"})
	r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, map[string]any{"prompt": "3"})
	if r.Status != 429 || r.Code != 429 {
		t.Fatalf("third request: %d %s", r.Status, r.Raw)
	}
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 2 {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	// Invalid requests are still validated first and do not use a slot.
	if r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, `{}`); r.Code != 422 {
		t.Fatalf("invalid while limited: %s", r.Raw)
	}
	st := s.Stats()
	if st.RateLimited != 1 || st.TasksCreated != 2 || st.GenerateRequests != 4 {
		t.Fatalf("stats %+v", st)
	}
	time.Sleep(time.Until(start.Add(window + 50*time.Millisecond)))
	generate(t, s, map[string]any{"prompt": "4"})
}

func TestHandlerOnlyUsesRequestHost(t *testing.T) {
	s := New(Options{APIKey: testKey, ImageScale: 0.05})
	defer s.Close()
	ts := httptest.NewServer(s)
	defer ts.Close()
	r := call(t, http.MethodPost, ts.URL+pathGenerate, testKey, map[string]any{"prompt": "handler", "outputFormat": "png"})
	var d struct{ TaskID string }
	_ = json.Unmarshal(r.Data, &d)
	ri := call(t, http.MethodGet, ts.URL+pathRecordInfo+"?taskId="+d.TaskID, testKey, nil)
	var info infoData
	_ = json.Unmarshal(ri.Data, &info)
	if info.Response == nil || !strings.HasPrefix(info.Response.ResultImageURL, ts.URL+"/files/") {
		t.Fatalf("links not based on request host: %s", ri.Raw)
	}
	resp, body := get(t, info.Response.ResultImageURL)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(body) == 0 {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header)
	}
	if s.URL() != "" {
		t.Fatalf("handler-only URL %q", s.URL())
	}
}

func TestLogNeverContainsKey(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	s := startMock(t, Options{Logf: func(f string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(f, a...))
	}})
	id := generate(t, s, map[string]any{"prompt": "log me"})
	call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+id, testKey, nil)
	call(t, http.MethodGet, s.URL()+pathCredit, "wrong-secret-key", nil)
	mu.Lock()
	defer mu.Unlock()
	all := strings.Join(lines, "\n")
	if len(lines) < 3 || !strings.Contains(all, pathGenerate) || !strings.Contains(all, "-> 401") {
		t.Fatalf("log lines missing:\n%s", all)
	}
	if strings.Contains(all, testKey) || strings.Contains(all, "wrong-secret-key") {
		t.Fatalf("key logged:\n%s", all)
	}
}

// TestMarkerEchoAuthFail: the task fails with a message quoting the generate request's Authorization
// header, as received, so that clients can prove they redact it.
func TestMarkerEchoAuthFail(t *testing.T) {
	s := startMock(t, Options{Latency: 10 * time.Millisecond})
	id := generate(t, s, map[string]any{"prompt": "x " + MarkerEchoAuthFail})
	d := waitDone(t, s, id)
	if d.SuccessFlag != 3 || d.ErrorCode == nil || *d.ErrorCode != 500 || d.ErrorMessage == nil || d.Response != nil {
		t.Fatalf("%+v", d)
	}
	if want := "Authorization: Bearer " + testKey; !strings.Contains(*d.ErrorMessage, want) {
		t.Errorf("errorMessage %q does not quote %q", *d.ErrorMessage, want)
	}
	if snap, _ := s.Task(id); !strings.Contains(snap.ErrorMessage, testKey) {
		t.Errorf("snapshot errorMessage %q", snap.ErrorMessage)
	}
	plain := generate(t, s, map[string]any{"prompt": "x " + MarkerGenerateFail})
	if d := waitDone(t, s, plain); d.ErrorMessage == nil || strings.Contains(*d.ErrorMessage, testKey) {
		t.Errorf("a task without the marker quotes the key: %+v", d)
	}
}
