package kiemock

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMarketAuthAndMethods(t *testing.T) {
	s := startMock(t, Options{})
	for _, ep := range []struct{ method, path string }{
		{http.MethodPost, pathCreateTask},
		{http.MethodGet, pathMarketRecordInfo + "?taskId=x"},
	} {
		for _, key := range []string{"", "wrong-key"} {
			r := call(t, ep.method, s.URL()+ep.path, key, `{"model":"google/nano-banana","input":{"prompt":"x"}}`)
			if r.Status != 401 || r.Code != 401 || !strings.Contains(r.Msg, "access permissions") {
				t.Errorf("%s %s key %q: HTTP %d %s", ep.method, ep.path, key, r.Status, r.Raw)
			}
		}
	}
	if r := call(t, http.MethodGet, s.URL()+pathCreateTask, testKey, nil); r.Status != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET createTask: %d %s", r.Status, r.Raw)
	}
	if r := call(t, http.MethodPost, s.URL()+pathMarketRecordInfo+"?taskId=x", testKey, nil); r.Status != 405 {
		t.Errorf("POST recordInfo: %d %s", r.Status, r.Raw)
	}
	for _, bad := range []string{`not json`, `[1]`} {
		if r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, bad); r.Code != 400 {
			t.Errorf("%s: %s", bad, r.Raw)
		}
	}
	st := s.Stats()
	if st.AuthFailures != 4 || st.TasksCreated != 0 || st.MarketCreateRequests != 5 || st.MarketStatusQueries != 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestMarketCreateAndRecordInfo(t *testing.T) {
	s := startMock(t, Options{})
	before := time.Now()
	body := `{"model": "google/nano-banana", "callBackUrl": "", "input": {"prompt": "a red fox", "output_format": "png"}}`
	r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body)
	var created struct {
		TaskID string `json:"taskId"`
	}
	if r.Status != 200 || r.Code != 200 || r.Msg != "success" || json.Unmarshal(r.Data, &created) != nil {
		t.Fatalf("createTask: %d %s", r.Status, r.Raw)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(created.TaskID) {
		t.Fatalf("taskId %q", created.TaskID)
	}
	d := waitMarket(t, s, created.TaskID)
	var compact bytes.Buffer
	_ = json.Compact(&compact, []byte(body))
	if d.TaskID != created.TaskID || d.Model != "google/nano-banana" || d.State != StateSuccess ||
		d.Param != compact.String() || d.FailCode != "" || d.FailMsg != "" || d.CreditsConsumed != 4 {
		t.Fatalf("record %+v", d)
	}
	if d.CompleteTime == nil || d.CreateTime < before.UnixMilli() || *d.CompleteTime < d.CreateTime ||
		d.UpdateTime != *d.CompleteTime || d.CreateTime > time.Now().UnixMilli() {
		t.Fatalf("times %+v", d)
	}
	urls := d.resultURLs(t)
	if len(urls) != 1 || !strings.HasSuffix(urls[0], "/files/"+d.TaskID+"-1.png") {
		t.Fatalf("resultUrls %v", urls)
	}
	img, format := decodeImage(t, download(t, urls[0]))
	if format != "png" || img.Bounds().Dx() != 51 || img.Bounds().Dy() != 51 {
		t.Fatalf("image %s %v", format, img.Bounds())
	}
	// data.param and data.resultJson are JSON strings, not objects.
	raw := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId="+d.TaskID, testKey, nil).Raw
	if !bytes.Contains(raw, []byte(`"param":"{\"model\"`)) || !bytes.Contains(raw, []byte(`"resultJson":"{\"resultUrls\":[`)) {
		t.Fatalf("raw %s", raw)
	}
	if s.Credits() != DefaultCredits-4 {
		t.Fatalf("credits %v", s.Credits())
	}
	snap, ok := s.MarketTask(d.TaskID)
	if !ok || snap.Input["aspect_ratio"] != "1:1" || snap.Input["output_format"] != "png" || snap.StatusQueries < 2 ||
		snap.Downloads != 1 || snap.State != StateSuccess {
		t.Fatalf("snapshot %+v", snap)
	}
}

func TestMarketStateProgression(t *testing.T) {
	created := time.Unix(1000, 0)
	done := created.Add(10 * time.Second)
	for _, c := range []struct {
		at    time.Duration
		state string
		since time.Duration
	}{
		{0, StateWaiting, 0}, {1999 * time.Millisecond, StateWaiting, 0},
		{2 * time.Second, StateQueuing, 2 * time.Second}, {3 * time.Second, StateQueuing, 2 * time.Second},
		{4 * time.Second, StateGenerating, 4 * time.Second}, {9 * time.Second, StateGenerating, 4 * time.Second},
	} {
		state, since := progressState(created, done, created.Add(c.at))
		if state != c.state || since != created.Add(c.since) {
			t.Errorf("at %v: %s since %v", c.at, state, since.Sub(created))
		}
	}

	s := startMock(t, Options{Latency: time.Second})
	id := createMarket(t, s, "google/imagen4-fast", map[string]any{"prompt": "slow"})
	var seen []string
	var updates []int64
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		d := marketInfo(t, s, id)
		if len(seen) == 0 || seen[len(seen)-1] != d.State {
			seen = append(seen, d.State)
			updates = append(updates, d.UpdateTime)
			if d.State != StateSuccess && (d.CompleteTime != nil || d.ResultJSON != "" || d.CreditsConsumed != 0) {
				t.Fatalf("unfinished task reports results: %+v", d)
			}
		}
		if d.State == StateSuccess {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if strings.Join(seen, ",") != "waiting,queuing,generating,success" {
		t.Fatalf("states %v", seen)
	}
	for i := 1; i < len(updates); i++ {
		if updates[i] <= updates[i-1] {
			t.Fatalf("updateTime not increasing: %v", updates)
		}
	}
}

func TestMarketRecordInfoErrors(t *testing.T) {
	s := startMock(t, Options{})
	r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId=nope", testKey, nil)
	if r.Status != 422 || string(r.Raw) != `{"code":422,"msg":"recordInfo is null","data":null}` {
		t.Fatalf("unknown id: %d %s", r.Status, r.Raw)
	}
	if r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo, testKey, nil); r.Status != 400 || !strings.Contains(r.Msg, "taskId") {
		t.Fatalf("no taskId: %d %s", r.Status, r.Raw)
	}
	// A Flux task id is unknown to the Market API, and the other way round.
	fluxID := generate(t, s, map[string]any{"prompt": "flux"})
	if r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId="+fluxID, testKey, nil); r.Code != 422 {
		t.Fatalf("flux id on recordInfo: %s", r.Raw)
	}
	marketID := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "m"})
	if r := call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+marketID, testKey, nil); r.Code != 404 {
		t.Fatalf("market id on record-info: %s", r.Raw)
	}

	h := startMock(t, Options{ErrorsAsHTTP200: true})
	for _, r := range []apiResp{
		call(t, http.MethodGet, h.URL()+pathMarketRecordInfo+"?taskId=nope", testKey, nil),
		call(t, http.MethodPost, h.URL()+pathCreateTask, testKey, `{"model":"nope"}`),
		call(t, http.MethodPost, h.URL()+pathCreateTask, "", `{}`),
	} {
		if r.Status != 200 || r.Code < 400 {
			t.Fatalf("HTTP %d body %s", r.Status, r.Raw)
		}
	}
}

func TestMarketRecordInfoNullWindow(t *testing.T) {
	s := startMock(t, Options{RecordInfoNullQueries: 2})
	id := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "fresh"})
	for i := range 2 {
		r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId="+id, testKey, nil)
		if r.Status != 422 || r.Code != 422 || r.Msg != recordInfoNull || string(r.Data) != "null" {
			t.Fatalf("query %d: %d %s", i+1, r.Status, r.Raw)
		}
	}
	if d := marketInfo(t, s, id); d.State != StateSuccess {
		t.Fatalf("third query: %+v", d)
	}
	// Each new task gets its own window.
	id2 := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "fresh 2"})
	if r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId="+id2, testKey, nil); r.Code != 422 {
		t.Fatalf("second task: %s", r.Raw)
	}
	if snap, _ := s.MarketTask(id2); snap.NullQueriesLeft != 1 || snap.StatusQueries != 1 {
		t.Fatalf("snapshot %+v", snap)
	}

	// The same as a fault aimed at one task, through the control endpoint.
	f := startMock(t, Options{})
	id3 := createMarket(t, f, "google/nano-banana", map[string]any{"prompt": "fault"})
	other := createMarket(t, f, "google/nano-banana", map[string]any{"prompt": "other"})
	rf := call(t, http.MethodPost, f.URL()+"/_mock/faults", "", fmt.Sprintf(
		`{"endpoint":"market-record-info","kind":"record-info-null","taskId":%q,"times":3}`, id3))
	if rf.Status != 200 {
		t.Fatalf("fault: %s", rf.Raw)
	}
	if d := marketInfo(t, f, other); d.State != StateSuccess {
		t.Fatalf("other task hit by the fault: %+v", d)
	}
	for range 3 {
		if r := call(t, http.MethodGet, f.URL()+pathMarketRecordInfo+"?taskId="+id3, testKey, nil); r.Code != 422 || r.Msg != recordInfoNull {
			t.Fatalf("fault answer %s", r.Raw)
		}
	}
	if d := marketInfo(t, f, id3); d.State != StateSuccess {
		t.Fatalf("after the fault: %+v", d)
	}
	if st := f.Stats(); st.FaultsInjected != 3 || st.MarketStatusQueries != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMarketMessageKey(t *testing.T) {
	body := map[string]any{"model": "google/nano-banana", "input": map[string]any{"prompt": "m"}}
	s := startMock(t, Options{MessageKey: MessageKeyMessage})
	for _, r := range []apiResp{
		call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body),
		call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId=nope", testKey, nil),
	} {
		var m map[string]any
		_ = json.Unmarshal(r.Raw, &m)
		if _, has := m["msg"]; has || m["message"] == nil {
			t.Fatalf("want message: %s", r.Raw)
		}
	}
	// Flux answers keep "msg".
	if r := call(t, http.MethodGet, s.URL()+pathCredit, testKey, nil); r.Msg != "success" {
		t.Fatalf("flux: %s", r.Raw)
	}

	rot := startMock(t, Options{MessageKey: MessageKeyRotate})
	var keys []string
	for range 4 {
		r := call(t, http.MethodPost, rot.URL()+pathCreateTask, testKey, body)
		var m map[string]any
		_ = json.Unmarshal(r.Raw, &m)
		switch {
		case m["msg"] == "success" && m["message"] == nil:
			keys = append(keys, "msg")
		case m["message"] == "success" && m["msg"] == nil:
			keys = append(keys, "message")
		default:
			t.Fatalf("envelope %s", r.Raw)
		}
	}
	if strings.Join(keys, ",") != "msg,message,msg,message" {
		t.Fatalf("keys %v", keys)
	}
}

func TestMarketSeveralResults(t *testing.T) {
	s := startMock(t, Options{})
	id := createMarket(t, s, "bytedance/seedream-v4-text-to-image",
		map[string]any{"prompt": "three cats", "max_images": 3, "image_size": "landscape_16_9"})
	d := waitMarket(t, s, id)
	urls := d.resultURLs(t)
	if len(urls) != 3 || d.CreditsConsumed != 15 {
		t.Fatalf("record %+v", d)
	}
	seen := map[string]bool{}
	for i, u := range urls {
		if !strings.HasSuffix(u, fmt.Sprintf("/files/%s-%d.jpg", id, i+1)) {
			t.Fatalf("url %s", u)
		}
		b := download(t, u)
		img, format := decodeImage(t, b)
		if format != "jpeg" || img.Bounds().Dx() <= img.Bounds().Dy() {
			t.Fatalf("result %d: %s %v", i, format, img.Bounds())
		}
		seen[string(b)] = true
	}
	if len(seen) != 3 {
		t.Fatal("results of one task are identical")
	}
	// One past the count is not a result.
	if resp, _ := get(t, strings.Replace(urls[2], "-3.jpg", "-4.jpg", 1)); resp.StatusCode != 404 {
		t.Fatalf("result 4: %d", resp.StatusCode)
	}
	// Without max_images there is one; with more than six, none.
	if d := waitMarket(t, s, createMarket(t, s, "bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "one"})); len(d.resultURLs(t)) != 1 {
		t.Fatalf("default max_images: %s", d.ResultJSON)
	}
	body := map[string]any{"model": "bytedance/seedream-v4-text-to-image", "input": map[string]any{"prompt": "x", "max_images": 7}}
	if r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body); r.Code != 422 || !strings.Contains(r.Msg, "input.max_images") {
		t.Fatalf("max_images 7: %s", r.Raw)
	}

	// num_images as a string, on an edit model.
	src, _ := imageServer(t, map[string][]byte{"/in.png": solidPNG(t, 20, 20, color.RGBA{0, 0, 255, 255})})
	qid := createMarket(t, s, "qwen/image-edit", map[string]any{"prompt": "four", "image_url": src.URL + "/in.png", "num_images": "4"})
	if d := waitMarket(t, s, qid); len(d.resultURLs(t)) != 4 || d.CreditsConsumed != 20 {
		t.Fatalf("num_images 4: %+v", d)
	}
}

func TestMarketMarkers(t *testing.T) {
	s := startMock(t, Options{Latency: 10 * time.Millisecond, Credits: 100})
	for _, c := range []struct {
		marker, code, msg string
	}{
		{MarkerGenerateFail, "500", "generation failed"},
		{MarkerInternalError, "500", "internal"},
		{MarkerFlagged, "422", "prohibited"},
	} {
		id := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "x " + c.marker})
		d := waitMarket(t, s, id)
		if d.State != StateFail || d.FailCode != c.code || !strings.Contains(d.FailMsg, c.msg) || d.ResultJSON != "" ||
			d.CreditsConsumed != 0 || d.CompleteTime == nil {
			t.Errorf("%s: %+v", c.marker, d)
		}
		if resp, _ := get(t, s.URL()+"/files/"+id+"-1.png"); resp.StatusCode != 404 {
			t.Errorf("%s: failed task serves a file: %d", c.marker, resp.StatusCode)
		}
	}
	if s.Credits() != 100 {
		t.Fatalf("failed tasks not refunded: %v", s.Credits())
	}
	for marker, code := range map[string]int{
		MarkerCreateFail: 501, MarkerSubKeyLimit: 433, MarkerMaintenance: 455, MarkerFeatureDisabled: 505,
	} {
		body := map[string]any{"model": "google/nano-banana", "input": map[string]any{"prompt": "x " + marker}}
		r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body)
		if r.Status != code || r.Code != code || r.Msg == "" || string(r.Data) != "null" {
			t.Errorf("%s: %d %s", marker, r.Status, r.Raw)
		}
	}
	st := s.Stats()
	if st.MarketTasksCreated != 3 || st.MarketCreateRequests != 7 || s.Credits() != 100 {
		t.Fatalf("refusals created or charged: %+v, credits %v", st, s.Credits())
	}
}

func TestMarketCredits(t *testing.T) {
	s := startMock(t, Options{Credits: 30})
	createMarket(t, s, "nano-banana-pro", map[string]any{"prompt": "pro"}) // 18
	if c := s.Credits(); c != 12 {
		t.Fatalf("after pro: %v", c)
	}
	generate(t, s, map[string]any{"prompt": "flux"}) // 5, same balance
	if c := s.Credits(); c != 7 {
		t.Fatalf("after flux: %v", c)
	}
	body := map[string]any{"model": "seedream/4.5-text-to-image", "input": map[string]any{"prompt": "s", "aspect_ratio": "1:1", "quality": "basic"}}
	s.SetCredits(6)
	if r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body); r.Status != 402 || r.Code != 402 {
		t.Fatalf("insufficient: %s", r.Raw)
	}
	createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "cheap"}) // 4
	if c := s.Credits(); c != 2 {
		t.Fatalf("after 402 and banana: %v", c)
	}
	// The cost follows the options KIE prices higher.
	s.SetCredits(100)
	createMarket(t, s, "nano-banana-pro", map[string]any{"prompt": "4k", "resolution": "4K"})
	if c := s.Credits(); c != 76 {
		t.Fatalf("4K pro: %v", c)
	}
	if st := s.Stats(); st.TasksCreated != 4 || st.MarketTasksCreated != 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSharedCreateWindow(t *testing.T) {
	const window = 2 * time.Second
	s := startMock(t, Options{CreateLimit: 20, CreateWindow: window, Latency: time.Hour})
	start := time.Now()
	for i := range 20 {
		if i%2 == 0 {
			generate(t, s, map[string]any{"prompt": fmt.Sprint("flux ", i)})
		} else {
			createMarket(t, s, "google/nano-banana", map[string]any{"prompt": fmt.Sprint("market ", i)})
		}
	}
	body := map[string]any{"model": "google/nano-banana", "input": map[string]any{"prompt": "21st"}}
	r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body)
	if r.Status != 429 || r.Code != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("21st (market): %d %s %v", r.Status, r.Raw, r.Header)
	}
	if r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, map[string]any{"prompt": "22nd"}); r.Code != 429 {
		t.Fatalf("22nd (flux): %s", r.Raw)
	}
	// Validation still comes first and uses no slot.
	if r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, `{"model":"google/nano-banana","input":{}}`); r.Code != 422 {
		t.Fatalf("invalid while limited: %s", r.Raw)
	}
	st := s.Stats()
	if st.TasksCreated != 20 || st.MarketTasksCreated != 10 || st.RateLimited != 2 || st.MarketRateLimited != 1 ||
		st.GenerateRequests != 11 || st.MarketCreateRequests != 12 || st.InFlight != 20 {
		t.Fatalf("stats %+v", st)
	}
	if n := len(s.Tasks()) + len(s.MarketTasks()); n != 20 {
		t.Fatalf("%d tasks", n)
	}
	time.Sleep(time.Until(start.Add(window + 100*time.Millisecond)))
	createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "after the window"})
}

func TestMarketStatsAndTags(t *testing.T) {
	s := startMock(t, Options{})
	fid := generate(t, s, map[string]any{"prompt": "flux [mock:tag=a]"})
	mid := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "market [mock:tag=a]"})
	recordInfoOf(t, s, fid)
	marketInfo(t, s, mid)
	marketInfo(t, s, mid)
	st := s.Stats()
	if st.GenerateRequests != 1 || st.MarketCreateRequests != 1 || st.TasksCreated != 2 || st.MarketTasksCreated != 1 ||
		st.StatusQueries != 3 || st.MarketStatusQueries != 2 {
		t.Fatalf("stats %+v", st)
	}
	if ts := s.TagStats()["a"]; ts.TasksCreated != 2 || ts.GenerateRequests != 2 || ts.StatusQueries != 3 {
		t.Fatalf("tag stats %+v", ts)
	}
	// The control endpoints report the same.
	r := call(t, http.MethodGet, s.URL()+"/_mock/stats", "", nil)
	var wire map[string]int
	if err := json.Unmarshal(r.Raw, &wire); err != nil || wire["marketTasksCreated"] != 1 || wire["tasksCreated"] != 2 ||
		wire["marketCreateRequests"] != 1 || wire["marketStatusQueries"] != 2 {
		t.Fatalf("/_mock/stats %s", r.Raw)
	}
	var list []MarketTaskSnapshot
	if r := call(t, http.MethodGet, s.URL()+"/_mock/market-tasks", "", nil); json.Unmarshal(r.Raw, &list) != nil ||
		len(list) != 1 || list[0].ID != mid || list[0].Model != "google/nano-banana" {
		t.Fatalf("/_mock/market-tasks %s", r.Raw)
	}
	var one MarketTaskSnapshot
	if r := call(t, http.MethodGet, s.URL()+"/_mock/market-tasks/"+mid, "", nil); json.Unmarshal(r.Raw, &one) != nil ||
		one.State != StateSuccess || one.Results != 1 || one.Cost != 4 || len(one.ResultURLs) != 1 {
		t.Fatalf("/_mock/market-tasks/id %s", r.Raw)
	}
	if r := call(t, http.MethodGet, s.URL()+"/_mock/market-tasks/nope", "", nil); r.Status != 404 {
		t.Fatalf("unknown: %d", r.Status)
	}
	s.ResetStats()
	if st := s.Stats(); st.MarketTasksCreated != 0 || st.MarketStatusQueries != 0 {
		t.Fatalf("reset %+v", st)
	}
}

func TestMarketDropAfterCreate(t *testing.T) {
	s := startMock(t, Options{})
	s.InjectFault(Fault{Endpoint: EndpointCreateTask, Kind: FaultDropAfterCreate})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+pathCreateTask,
		strings.NewReader(`{"model":"google/nano-banana","input":{"prompt":"lost answer"}}`))
	req.Header.Set("Authorization", "Bearer "+testKey)
	if resp, err := freshClient().Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("answered: %d", resp.StatusCode)
	}
	if st := s.Stats(); st.MarketTasksCreated != 1 || s.Credits() != DefaultCredits-4 {
		t.Fatalf("the task must exist and be paid: %+v", st)
	}
}
