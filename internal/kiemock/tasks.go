package kiemock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"image"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prompt markers that steer a task's outcome (see the package comment).
const (
	MarkerCreateFail    = "[mock:create-fail]"
	MarkerGenerateFail  = "[mock:generate-fail]"
	MarkerInternalError = "[mock:internal-error]"
	MarkerFlagged       = "[mock:flagged]"
	MarkerDupCallback   = "[mock:callback-twice]"
	MarkerEchoAuthFail  = "[mock:echo-auth-fail]"
	markerLatencyPrefix = "[mock:latency="
)

// Costs in credits of one accepted task.
const (
	CostPro = 5
	CostMax = 10
)

const (
	modelPro         = "flux-kontext-pro"
	modelMax         = "flux-kontext-max"
	maxGenerateBody  = 1 << 20
	maxInputBytes    = 50 << 20
	maxMarkerLatency = time.Hour
	settleInputWait  = 2 * time.Second
)

// TaskSnapshot is a copy of a task's state.
type TaskSnapshot struct {
	ID              string         `json:"taskId"`
	Prompt          string         `json:"prompt"`
	Params          map[string]any `json:"params"` // the JSON body received
	Model           string         `json:"model"`
	AspectRatio     string         `json:"aspectRatio"`
	OutputFormat    string         `json:"outputFormat"`
	SafetyTolerance int            `json:"safetyTolerance"`
	InputImage      string         `json:"inputImage,omitempty"`
	CallBackURL     string         `json:"callBackUrl,omitempty"`
	Width           int            `json:"width"` // pixel size of the result image
	Height          int            `json:"height"`
	Cost            float64        `json:"cost"` // credits charged (refunded again if the task failed)
	SuccessFlag     int            `json:"successFlag"`
	ErrorCode       int            `json:"errorCode,omitempty"`
	ErrorMessage    string         `json:"errorMessage,omitempty"`
	ResultURL       string         `json:"resultImageUrl,omitempty"`
	OriginURL       string         `json:"originImageUrl,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	CompletedAt     time.Time      `json:"completedAt,omitzero"`
	Downloads       int            `json:"downloads"`     // GETs of this task's result and origin files
	CallbackPosts   int            `json:"callbackPosts"` // callback POST attempts for this task
}

type task struct {
	// Immutable after creation.
	id          string
	seq         int
	prompt      string
	paramJSON   []byte // compacted request body
	model       string
	aspect      string
	format      string
	safety      int
	inputURL    string
	callbackURL string
	base        string // scheme://host for links
	width       int
	height      int
	cost        float64
	createdAt   time.Time
	doneAt      time.Time
	marks       markers
	inputDone   chan struct{} // closed once the input image was fetched (or there is none)
	authEcho    string        // the generate request's Authorization header, kept only for MarkerEchoAuthFail

	// Guarded by Server.mu.
	inputThumb    *image.RGBA
	inputErr      error
	inputAt       time.Time
	finished      bool
	flag          int
	errCode       int
	errMsg        string
	completedAt   time.Time
	resultURL     string
	originURL     string
	downloads     int
	callbackPosts int
}

func (t *task) ext() string {
	if t.format == "png" {
		return "png"
	}
	return "jpg"
}

func (t *task) resultPath() string { return filesPrefix + t.id + "." + t.ext() }
func (t *task) originPath() string { return filesPrefix + t.id + "-origin." + t.ext() }

type markers struct {
	createFail, generateFail, internalError, flagged, dupCallback, echoAuthFail bool
	latency                                                                     time.Duration
	hasLatency                                                                  bool
	tag                                                                         string
}

func parseMarkers(prompt string) markers {
	m := markers{
		createFail:    strings.Contains(prompt, MarkerCreateFail),
		generateFail:  strings.Contains(prompt, MarkerGenerateFail),
		internalError: strings.Contains(prompt, MarkerInternalError),
		flagged:       strings.Contains(prompt, MarkerFlagged),
		dupCallback:   strings.Contains(prompt, MarkerDupCallback),
		echoAuthFail:  strings.Contains(prompt, MarkerEchoAuthFail),
	}
	m.tag = parseTag(prompt)
	if _, rest, ok := strings.Cut(prompt, markerLatencyPrefix); ok {
		if v, _, ok := strings.Cut(rest, "]"); ok {
			if d, err := time.ParseDuration(v); err == nil && d >= 0 {
				m.latency, m.hasLatency = min(d, maxMarkerLatency), true
			}
		}
	}
	return m
}

type genSpec struct {
	prompt, model, aspect, format, input, callback string
	safety                                         int
}

func fieldString(p map[string]any, key string) (string, *apiError) {
	v, ok := p[key]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", apiErr(422, key+" must be a string")
	}
	return s, nil
}

func isHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// ratioSize is the documented output size for an aspect ratio.
func ratioSize(ratio string) (w, h int, ok bool) {
	switch ratio {
	case "21:9":
		return 1568, 672, true
	case "16:9":
		return 1392, 752, true
	case "4:3":
		return 1184, 880, true
	case "1:1":
		return 1024, 1024, true
	case "3:4":
		return 880, 1184, true
	case "9:16":
		return 752, 1392, true
	case "16:21":
		return 896, 1176, true
	}
	return 0, 0, false
}

// ScaledSize is the pixel size the mock renders for ratio at scale.
func ScaledSize(ratio string, scale float64) (w, h int, ok bool) {
	w, h, ok = ratioSize(ratio)
	if !ok {
		return 0, 0, false
	}
	if scale <= 0 {
		scale = 1
	}
	return max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale))), true
}

// parseGenerate validates a generate body the way KIE does: 422 naming the
// field, except an out-of-range safetyTolerance, which KIE answers with 500.
func parseGenerate(p map[string]any) (genSpec, *apiError) {
	var g genSpec
	var e *apiError
	if g.prompt, e = fieldString(p, "prompt"); e != nil {
		return g, e
	}
	if strings.TrimSpace(g.prompt) == "" {
		return g, apiErr(422, "prompt is required")
	}
	if g.model, e = fieldString(p, "model"); e != nil {
		return g, e
	}
	switch g.model {
	case "":
		g.model = modelPro
	case modelPro, modelMax:
	default:
		return g, apiErr(422, "model must be flux-kontext-pro or flux-kontext-max")
	}
	if g.aspect, e = fieldString(p, "aspectRatio"); e != nil {
		return g, e
	}
	if g.aspect == "" {
		g.aspect = "16:9"
	}
	if _, _, ok := ratioSize(g.aspect); !ok {
		return g, apiErr(422, "aspectRatio must be one of 21:9, 16:9, 4:3, 1:1, 3:4, 9:16, 16:21")
	}
	if g.format, e = fieldString(p, "outputFormat"); e != nil {
		return g, e
	}
	switch g.format {
	case "":
		g.format = "jpeg"
	case "jpeg", "png":
	default:
		return g, apiErr(422, "outputFormat must be jpeg or png")
	}
	if g.input, e = fieldString(p, "inputImage"); e != nil {
		return g, e
	}
	if g.input != "" && !isHTTPURL(g.input) {
		return g, apiErr(422, "inputImage must be an http(s) URL")
	}
	if g.callback, e = fieldString(p, "callBackUrl"); e != nil {
		return g, e
	}
	if g.callback != "" && !isHTTPURL(g.callback) {
		return g, apiErr(422, "callBackUrl must be an http(s) URL")
	}
	if _, e = fieldString(p, "watermark"); e != nil {
		return g, e
	}
	for _, key := range []string{"enableTranslation", "promptUpsampling", "uploadCn"} {
		if v, ok := p[key]; ok && v != nil {
			if _, ok := v.(bool); !ok {
				return g, apiErr(422, key+" must be a boolean")
			}
		}
	}
	g.safety = 2
	if v, ok := p["safetyTolerance"]; ok && v != nil {
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) {
			return g, apiErr(422, "safetyTolerance must be an integer")
		}
		limit := 6.0
		if g.input != "" {
			limit = 2
		}
		if n < 0 || n > limit {
			return g, apiErr(500, fmt.Sprintf("safetyTolerance must be between 0 and %d (0-6 for generation, 0-2 for editing)", int(limit)))
		}
		g.safety = int(n)
	}
	return g, nil
}

func newTaskID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "fluxkontext_" + hex.EncodeToString(b)
}

// jitterFor is a deterministic per-task share of the jitter.
func jitterFor(id string, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(jitter+1))
}

func methodNotAllowed(s *Server, w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	s.writeError(w, apiErr(http.StatusMethodNotAllowed, "method not allowed; use "+allow))
}

func (s *Server) handleGenerate(w http.ResponseWriter, r *http.Request, dropAfter bool) {
	if dropAfter {
		// Whatever happens below, the client never hears about it.
		defer dropConnection(w)
		w = newRecorder()
	}
	if r.Method != http.MethodPost {
		methodNotAllowed(s, w, http.MethodPost)
		return
	}
	if !s.requireAuth(w, r) {
		return
	}
	body, err := readBody(r, maxGenerateBody)
	if err != nil {
		s.writeError(w, apiErr(400, "request body: "+err.Error()))
		return
	}
	var params map[string]any
	if err := json.Unmarshal(body, &params); err != nil {
		s.writeError(w, apiErr(400, "request body must be a JSON object: "+err.Error()))
		return
	}
	spec, e := parseGenerate(params)
	if e != nil {
		s.writeError(w, e)
		return
	}
	marks := parseMarkers(spec.prompt)
	s.countTag(marks.tag, func(ts *TagStats) { ts.GenerateRequests++ })
	if marks.flagged {
		s.writeError(w, apiErr(400, "Your prompt was flagged by the content moderation system"))
		return
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil {
		s.writeError(w, apiErr(400, "request body: "+err.Error()))
		return
	}
	width, height, _ := ScaledSize(spec.aspect, s.opts.ImageScale)
	cost := float64(CostPro)
	latency := s.opts.Latency
	if spec.model == modelMax {
		cost = CostMax
		if s.opts.MaxLatency > 0 {
			latency = s.opts.MaxLatency
		}
	}
	id := newTaskID()
	if marks.hasLatency {
		latency = marks.latency
	} else {
		latency += jitterFor(id, s.opts.LatencyJitter)
	}
	now := time.Now()
	t := &task{
		id: id, prompt: spec.prompt, paramJSON: compact.Bytes(), model: spec.model, aspect: spec.aspect,
		format: spec.format, safety: spec.safety, inputURL: spec.input, callbackURL: spec.callback,
		base: s.baseFor(r), width: width, height: height, cost: cost, createdAt: now,
		doneAt: now.Add(latency), marks: marks, inputDone: make(chan struct{}),
	}
	if t.inputURL == "" {
		close(t.inputDone)
	}
	if marks.echoAuthFail {
		t.authEcho = r.Header.Get("Authorization")
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.writeError(w, apiErr(503, "server closed"))
		return
	}
	if e := s.rateLimitLocked(now); e != nil {
		s.stats.RateLimited++
		s.tagLocked(marks.tag, func(ts *TagStats) { ts.RateLimited++ })
		s.mu.Unlock()
		s.writeError(w, e)
		return
	}
	if s.credits < cost {
		s.mu.Unlock()
		s.writeError(w, apiErr(402, "The current credits are insufficient. Please top up."))
		return
	}
	for s.tasks[t.id] != nil { // 96 random bits never collide in practice; stay correct anyway
		t.id = newTaskID()
	}
	s.credits -= cost
	t.seq = len(s.order)
	s.tasks[t.id] = t
	s.order = append(s.order, t)
	s.window = append(s.window, now)
	s.stats.TasksCreated++
	s.tagLocked(marks.tag, func(ts *TagStats) { ts.TasksCreated++ })
	s.stats.InFlight++
	s.stats.PeakInFlight = max(s.stats.PeakInFlight, s.stats.InFlight)
	s.workers.Add(1)
	s.mu.Unlock()
	go s.runTask(t)

	writeOK(w, map[string]string{"taskId": t.id})
}

// rateLimitLocked enforces CreateLimit accepted generate POSTs per sliding
// CreateWindow. The 429 carries the seconds until the oldest slot frees.
func (s *Server) rateLimitLocked(now time.Time) *apiError {
	if s.opts.CreateLimit <= 0 {
		return nil
	}
	cut := 0
	for cut < len(s.window) && now.Sub(s.window[cut]) >= s.opts.CreateWindow {
		cut++
	}
	s.window = append(s.window[:0], s.window[cut:]...)
	if len(s.window) < s.opts.CreateLimit {
		return nil
	}
	wait := s.window[0].Add(s.opts.CreateWindow).Sub(now)
	unit := s.opts.RetryAfterUnit
	units := max(1, int64(math.Ceil(float64(wait)/float64(unit))))
	secs := strconv.FormatFloat((time.Duration(units) * unit).Seconds(), 'f', -1, 64)
	return &apiError{
		code:       429,
		msg:        fmt.Sprintf("Too many requests: at most %d generate requests per %s; retry after %ss", s.opts.CreateLimit, s.opts.CreateWindow, secs),
		retryAfter: secs,
	}
}

// runTask is the per-task worker: it fetches the input image as the task
// starts, waits out the latency, finishes the task and sends the callback.
func (s *Server) runTask(t *task) {
	defer s.workers.Done()
	if t.inputURL != "" {
		s.loadInput(t)
	}
	timer := time.NewTimer(time.Until(t.doneAt))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-s.ctx.Done():
		return
	}
	s.finish(t)
	if t.callbackURL != "" {
		s.sendCallbacks(t)
	}
}

func (s *Server) loadInput(t *task) {
	defer close(t.inputDone)
	s.count(func(st *Stats) { st.InputFetches++ })
	data, _, err := s.fetch(s.ctx, t.base, t.inputURL, maxInputBytes)
	var thumb *image.RGBA
	if err == nil {
		thumb, err = decodeThumbnail(data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.inputThumb, t.inputErr, t.inputAt = thumb, err, time.Now()
}

// settle finishes a task whose latency has elapsed, so an answer never
// depends on whether the worker's timer fired first. An edit whose input
// fetch is still under way is waited for briefly (loopback fetches are
// quick), then reported as still generating rather than blocking the poll.
func (s *Server) settle(ctx context.Context, t *task) {
	s.mu.Lock()
	done := t.finished
	s.mu.Unlock()
	if done || time.Now().Before(t.doneAt) {
		return
	}
	wait := time.NewTimer(settleInputWait)
	defer wait.Stop()
	select {
	case <-t.inputDone:
		s.finish(t)
	case <-wait.C:
	case <-ctx.Done():
	}
}

// finish decides a task's outcome once; failed tasks are refunded.
func (s *Server) finish(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.finished {
		return
	}
	now := time.Now()
	completed := t.doneAt
	if t.inputAt.After(completed) {
		completed = t.inputAt
	}
	if completed.After(now) {
		completed = now
	}
	switch {
	case t.marks.createFail:
		t.flag, t.errCode, t.errMsg = 2, 400, "create task failed (requested by "+MarkerCreateFail+")"
	case t.inputURL != "" && t.inputErr != nil:
		t.flag, t.errCode, t.errMsg = 2, 400, "input image could not be processed: "+t.inputErr.Error()
	case t.marks.generateFail:
		t.flag, t.errCode, t.errMsg = 3, 501, "generation failed"
	case t.marks.internalError:
		t.flag, t.errCode, t.errMsg = 3, 500, "internal error"
	case t.marks.echoAuthFail:
		// Some upstreams quote the request they refused; a client must not show this text as it is.
		t.flag, t.errCode, t.errMsg = 3, 500, "upstream refused the request with headers Authorization: "+t.authEcho
	default:
		t.flag = 1
		t.resultURL = s.linkLocked(t.base, t.resultPath(), completed)
		t.originURL = s.linkLocked(t.base, t.originPath(), completed)
	}
	if t.flag != 1 {
		s.credits += t.cost
		t.inputThumb = nil // never rendered; free it now
	}
	t.finished = true
	t.completedAt = completed
	s.stats.InFlight--
}

// formatTime renders a timestamp in the task's time format.
func (s *Server) formatTime(t *task, ts time.Time) any {
	f := s.opts.TimeFormat
	if f == TimeFormatRotate {
		f = [...]string{TimeFormatRFC3339, TimeFormatEpochMillis, TimeFormatDateTime}[t.seq%3]
	}
	switch f {
	case TimeFormatEpochMillis:
		return ts.UnixMilli()
	case TimeFormatDateTime:
		return ts.UTC().Format(time.DateTime)
	default:
		return ts.UTC().Format(time.RFC3339)
	}
}

type recordInfo struct {
	TaskID       string       `json:"taskId"`
	ParamJSON    string       `json:"paramJson"`
	CreateTime   any          `json:"createTime"`
	CompleteTime any          `json:"completeTime"`
	SuccessFlag  int          `json:"successFlag"`
	Response     *resultLinks `json:"response"`
	ErrorCode    *int         `json:"errorCode"`
	ErrorMessage *string      `json:"errorMessage"`
}

type resultLinks struct {
	ResultImageURL string `json:"resultImageUrl"`
	OriginImageURL string `json:"originImageUrl"`
}

func (s *Server) handleRecordInfo(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(s, w, http.MethodGet)
		return
	}
	if !s.requireAuth(w, r) {
		return
	}
	id := r.URL.Query().Get("taskId")
	if id == "" {
		s.writeError(w, apiErr(422, "taskId is required"))
		return
	}
	s.mu.Lock()
	t := s.tasks[id]
	if t != nil {
		s.tagLocked(t.marks.tag, func(ts *TagStats) { ts.StatusQueries++ })
	}
	s.mu.Unlock()
	if t == nil {
		s.writeError(w, apiErr(404, "task not found: "+id))
		return
	}
	s.settle(r.Context(), t)

	s.mu.Lock()
	info := recordInfo{
		TaskID:      t.id,
		ParamJSON:   string(t.paramJSON),
		CreateTime:  s.formatTime(t, t.createdAt),
		SuccessFlag: t.flag,
	}
	if t.finished {
		info.CompleteTime = s.formatTime(t, t.completedAt)
		if t.flag == 1 {
			info.Response = &resultLinks{ResultImageURL: t.resultURL, OriginImageURL: t.originURL}
		} else {
			code, msg := t.errCode, t.errMsg
			info.ErrorCode, info.ErrorMessage = &code, &msg
		}
	}
	s.mu.Unlock()
	writeOK(w, info)
}

func (s *Server) handleCredit(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(s, w, http.MethodGet)
		return
	}
	if !s.requireAuth(w, r) {
		return
	}
	writeOK(w, s.Credits())
}

// Task returns a snapshot of one task, finishing it first if its latency
// has elapsed.
func (s *Server) Task(id string) (TaskSnapshot, bool) {
	s.mu.Lock()
	t := s.tasks[id]
	s.mu.Unlock()
	if t == nil {
		return TaskSnapshot{}, false
	}
	s.settle(s.ctx, t)
	s.mu.Lock()
	defer s.mu.Unlock()
	return t.snapshotLocked(), true
}

// Tasks returns snapshots of every task in creation order.
func (s *Server) Tasks() []TaskSnapshot {
	s.mu.Lock()
	order := append([]*task(nil), s.order...)
	s.mu.Unlock()
	for _, t := range order {
		s.settle(s.ctx, t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TaskSnapshot, 0, len(order))
	for _, t := range order {
		out = append(out, t.snapshotLocked())
	}
	return out
}

func (t *task) snapshotLocked() TaskSnapshot {
	var params map[string]any
	_ = json.Unmarshal(t.paramJSON, &params) // was valid JSON when accepted
	return TaskSnapshot{
		ID: t.id, Prompt: t.prompt, Params: params, Model: t.model, AspectRatio: t.aspect,
		OutputFormat: t.format, SafetyTolerance: t.safety, InputImage: t.inputURL, CallBackURL: t.callbackURL,
		Width: t.width, Height: t.height, Cost: t.cost, SuccessFlag: t.flag, ErrorCode: t.errCode,
		ErrorMessage: t.errMsg, ResultURL: t.resultURL, OriginURL: t.originURL, CreatedAt: t.createdAt,
		CompletedAt: t.completedAt, Downloads: t.downloads, CallbackPosts: t.callbackPosts,
	}
}
