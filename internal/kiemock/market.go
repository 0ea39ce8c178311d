package kiemock

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"image"
	"net/http"
	"strings"
	"time"
)

// Market API paths, as KIE documents them.
const (
	pathCreateTask       = "/api/v1/jobs/createTask"
	pathMarketRecordInfo = "/api/v1/jobs/recordInfo"
)

// Endpoints of the Market API a Fault can target.
const (
	EndpointCreateTask       Endpoint = "create-task"
	EndpointMarketRecordInfo Endpoint = "market-record-info"
)

// FaultRecordInfoNull answers KIE's {"code":422,"msg":"recordInfo is null","data":null},
// which integrators report for a task queried right after its creation.
const FaultRecordInfoNull FaultKind = "record-info-null"

// Values of Options.MessageKey: KIE's Market pages disagree on the name of
// the envelope's text field, so a client must accept both.
const (
	MessageKeyMsg     = ""        // "msg", as the rest of the API
	MessageKeyMessage = "message" // every Market answer uses "message"
	MessageKeyRotate  = "rotate"  // Market answers alternate between "msg" and "message"
)

// Prompt markers only the Market API knows; createTask refuses the request
// with the matching code and creates nothing.
const (
	MarkerSubKeyLimit     = "[mock:sub-key-limit]"    // 433
	MarkerMaintenance     = "[mock:maintenance]"      // 455
	MarkerFeatureDisabled = "[mock:feature-disabled]" // 505
)

// Market task states, in the order a task passes through them.
const (
	StateWaiting    = "waiting"
	StateQueuing    = "queuing"
	StateGenerating = "generating"
	StateSuccess    = "success"
	StateFail       = "fail"
)

const recordInfoNull = "recordInfo is null"

// marketState is the Server's Market task store, guarded by Server.mu.
type marketState struct {
	tasks map[string]*marketTask
	order []*marketTask
	turn  int // answers sent, for MessageKeyRotate
}

type marketTask struct {
	// Immutable after creation.
	id          string
	seq         int
	model       *marketModel
	prompt      string
	param       []byte         // compacted create body
	input       map[string]any // effective input: the body's plus defaults
	inputURLs   []string
	callbackURL string
	base        string
	label       string // size label drawn on the pictures
	width       int
	height      int
	format      string // png or jpeg
	count       int    // result images
	cost        float64
	createdAt   time.Time
	doneAt      time.Time
	marks       markers
	authEcho    string
	inputDone   chan struct{}
	post        *task // carries id and callBackUrl through the shared callback sender

	// Guarded by Server.mu.
	nullLeft    int
	thumb       *image.RGBA
	inputErr    error
	inputAt     time.Time
	finished    bool
	failCode    string
	failMsg     string
	completedAt time.Time
	resultURLs  []string
	queries     int
	downloads   int
}

func (t *marketTask) ext() string {
	if t.format == "png" {
		return "png"
	}
	return "jpg"
}

func (t *marketTask) succeeded() bool { return t.finished && t.failCode == "" }

func newMarketTaskID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// marketEnvelope is KIE's envelope with the text under "msg" or "message".
type marketEnvelope struct {
	Code    int     `json:"code"`
	Msg     *string `json:"msg,omitempty"`
	Message *string `json:"message,omitempty"`
	Data    any     `json:"data"`
}

// writeMarket answers a Market request with the conventions of the other
// endpoints (HTTP status = code unless ErrorsAsHTTP200) and the configured
// name of the text field.
func (s *Server) writeMarket(w http.ResponseWriter, code int, msg, retryAfter string, data any) {
	env := marketEnvelope{Code: code, Data: data}
	useMessage := s.opts.MessageKey == MessageKeyMessage
	if s.opts.MessageKey == MessageKeyRotate {
		s.mu.Lock()
		useMessage = s.market.turn%2 == 1
		s.market.turn++
		s.mu.Unlock()
	}
	if useMessage {
		env.Message = &msg
	} else {
		env.Msg = &msg
	}
	status := code
	if code != 200 && (s.opts.ErrorsAsHTTP200 || status < 100 || status > 999) {
		status = http.StatusOK
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	writeJSON(w, status, env)
}

func (s *Server) marketError(w http.ResponseWriter, e *apiError) {
	s.writeMarket(w, e.code, e.msg, e.retryAfter, nil)
}

// marketMarkerError is the refusal a Market-only marker asks for.
func marketMarkerError(prompt string, m markers) *apiError {
	switch {
	case strings.Contains(prompt, MarkerSubKeyLimit):
		return apiErr(433, "The usage of this sub-key exceeds its limit")
	case strings.Contains(prompt, MarkerMaintenance):
		return apiErr(455, "Service unavailable: the system is under maintenance, please try again later")
	case strings.Contains(prompt, MarkerFeatureDisabled):
		return apiErr(505, "This feature is currently disabled")
	case m.createFail:
		return apiErr(501, "Create task failed (requested by "+MarkerCreateFail+")")
	}
	return nil
}

// parseCreateTask validates a createTask body: model, callBackUrl, then the
// model's input fields.
func parseCreateTask(body map[string]any) (*marketModel, string, map[string]any, *apiError) {
	id, ok := body["model"].(string)
	if body["model"] != nil && !ok {
		return nil, "", nil, apiErr(422, "model must be a string")
	}
	if id == "" {
		return nil, "", nil, apiErr(422, "model is required")
	}
	m := marketModels[id]
	if m == nil {
		return nil, "", nil, apiErr(422, "model "+id+" is not supported")
	}
	cb, e := fieldString(body, "callBackUrl")
	if e != nil {
		return nil, "", nil, e
	}
	if cb != "" && !isHTTPURL(cb) {
		return nil, "", nil, apiErr(422, "callBackUrl must be an http(s) URL")
	}
	raw, ok := body["input"].(map[string]any)
	if body["input"] == nil {
		return nil, "", nil, apiErr(422, "input is required")
	}
	if !ok {
		return nil, "", nil, apiErr(422, "input must be an object")
	}
	in, e := m.validateInput(raw)
	if e != nil {
		return nil, "", nil, e
	}
	return m, cb, in, nil
}

func (s *Server) handleCreateTask(w http.ResponseWriter, r *http.Request, dropAfter bool) {
	if dropAfter {
		defer dropConnection(w)
		w = newRecorder()
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.marketError(w, apiErr(http.StatusMethodNotAllowed, "method not allowed; use POST"))
		return
	}
	if !s.authorized(r) {
		s.count(func(st *Stats) { st.AuthFailures++ })
		s.marketError(w, apiErr(http.StatusUnauthorized, "You do not have access permissions"))
		return
	}
	raw, err := readBody(r, maxGenerateBody)
	if err != nil {
		s.marketError(w, apiErr(400, "request body: "+err.Error()))
		return
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		s.marketError(w, apiErr(400, "request body must be a JSON object: "+err.Error()))
		return
	}
	model, callback, in, e := parseCreateTask(body)
	if e != nil {
		s.marketError(w, e)
		return
	}
	prompt := str(in, "prompt")
	marks := parseMarkers(prompt)
	s.countTag(marks.tag, func(ts *TagStats) { ts.GenerateRequests++ })
	if e := marketMarkerError(prompt, marks); e != nil {
		s.marketError(w, e)
		return
	}
	var compact bytes.Buffer
	_ = json.Compact(&compact, raw) // raw parsed as JSON above

	id := newMarketTaskID()
	label, w0, h0 := model.size(in)
	latency := s.opts.Latency
	if marks.hasLatency {
		latency = marks.latency
	} else {
		latency += jitterFor(id, s.opts.LatencyJitter)
	}
	now := time.Now()
	t := &marketTask{
		id: id, model: model, prompt: prompt, param: compact.Bytes(), input: in, inputURLs: model.inputURLs(in),
		callbackURL: callback, base: s.baseFor(r), label: label, format: model.outputFormat(in),
		count: model.results(in), cost: model.cost(in), createdAt: now, doneAt: now.Add(latency),
		marks: marks, inputDone: make(chan struct{}), nullLeft: s.opts.RecordInfoNullQueries,
	}
	t.width, t.height = scaleSize(w0, s.opts.ImageScale), scaleSize(h0, s.opts.ImageScale)
	t.post = &task{id: id, callbackURL: callback}
	if len(t.inputURLs) == 0 {
		close(t.inputDone)
	}
	if marks.echoAuthFail {
		t.authEcho = r.Header.Get("Authorization")
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.marketError(w, apiErr(503, "server closed"))
		return
	}
	// One window for Flux generate and Market createTask: KIE's limit is per account.
	if e := s.rateLimitLocked(now); e != nil {
		s.stats.RateLimited++
		s.stats.MarketRateLimited++
		s.tagLocked(marks.tag, func(ts *TagStats) { ts.RateLimited++ })
		s.mu.Unlock()
		s.marketError(w, e)
		return
	}
	if s.credits < t.cost {
		s.mu.Unlock()
		s.marketError(w, apiErr(402, "The current credits are insufficient. Please top up."))
		return
	}
	if s.market.tasks == nil {
		s.market.tasks = make(map[string]*marketTask)
	}
	for s.market.tasks[t.id] != nil {
		t.id = newMarketTaskID()
		t.post.id = t.id
	}
	s.credits -= t.cost
	t.seq = len(s.market.order)
	s.market.tasks[t.id] = t
	s.market.order = append(s.market.order, t)
	s.window = append(s.window, now)
	s.stats.TasksCreated++
	s.stats.MarketTasksCreated++
	s.tagLocked(marks.tag, func(ts *TagStats) { ts.TasksCreated++ })
	s.stats.InFlight++
	s.stats.PeakInFlight = max(s.stats.PeakInFlight, s.stats.InFlight)
	s.workers.Add(1)
	s.mu.Unlock()
	go s.runMarketTask(t)

	s.writeMarket(w, 200, "success", "", map[string]string{"taskId": t.id})
}

// marketRecord is recordInfo's data, with KIE's field forms: param and
// resultJson are JSON strings, times Unix milliseconds, costTime milliseconds.
type marketRecord struct {
	TaskID          string  `json:"taskId"`
	Model           string  `json:"model"`
	State           string  `json:"state"`
	Param           string  `json:"param"`
	ResultJSON      string  `json:"resultJson"`
	FailCode        string  `json:"failCode"`
	FailMsg         string  `json:"failMsg"`
	CostTime        int64   `json:"costTime"`
	CompleteTime    *int64  `json:"completeTime"`
	CreateTime      int64   `json:"createTime"`
	UpdateTime      int64   `json:"updateTime"`
	CreditsConsumed float64 `json:"creditsConsumed"`
}

func (s *Server) handleMarketRecordInfo(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", http.MethodGet)
		s.marketError(w, apiErr(http.StatusMethodNotAllowed, "method not allowed; use GET"))
		return
	}
	if !s.authorized(r) {
		s.count(func(st *Stats) { st.AuthFailures++ })
		s.marketError(w, apiErr(http.StatusUnauthorized, "You do not have access permissions"))
		return
	}
	id := r.URL.Query().Get("taskId")
	if id == "" {
		s.marketError(w, apiErr(400, "taskId parameter is required"))
		return
	}
	s.mu.Lock()
	t := s.market.tasks[id]
	hidden := false
	if t != nil {
		t.queries++
		s.tagLocked(t.marks.tag, func(ts *TagStats) { ts.StatusQueries++ })
		if t.nullLeft > 0 {
			t.nullLeft--
			hidden = true
		}
	}
	s.mu.Unlock()
	if t == nil || hidden {
		s.marketError(w, apiErr(422, recordInfoNull))
		return
	}
	s.settleMarket(r.Context(), t)
	s.writeMarket(w, 200, "success", "", s.marketRecordOf(t, time.Now()))
}

func (s *Server) marketRecordOf(t *marketTask, now time.Time) marketRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := marketRecord{
		TaskID: t.id, Model: t.model.id, Param: string(t.param), CreateTime: t.createdAt.UnixMilli(),
	}
	if !t.finished {
		var since time.Time
		rec.State, since = progressState(t.createdAt, t.doneAt, now)
		rec.UpdateTime = since.UnixMilli()
		return rec
	}
	done := t.completedAt.UnixMilli()
	rec.CompleteTime, rec.UpdateTime = &done, done
	rec.CostTime = t.completedAt.Sub(t.createdAt).Milliseconds()
	if t.failCode != "" {
		rec.State, rec.FailCode, rec.FailMsg = StateFail, t.failCode, t.failMsg
		return rec
	}
	rec.State, rec.ResultJSON, rec.CreditsConsumed = StateSuccess, resultJSON(t.resultURLs), t.cost
	return rec
}

// resultJSON is the resultJson string: {"resultUrls":[...]}.
func resultJSON(urls []string) string {
	b, _ := json.Marshal(struct {
		ResultURLs []string `json:"resultUrls"`
	}{urls})
	return string(b)
}

// progressState is the state of an unfinished task at now and when it
// entered it: waiting for the first fifth of its latency, queuing for the
// second, then generating.
func progressState(created, done, now time.Time) (string, time.Time) {
	total := done.Sub(created)
	q, g := created.Add(total/5), created.Add(2*total/5)
	switch {
	case now.Before(q):
		return StateWaiting, created
	case now.Before(g):
		return StateQueuing, q
	default:
		return StateGenerating, g
	}
}
