package kiemock

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// API paths, as KIE documents them.
const (
	pathGenerate     = "/api/v1/flux/kontext/generate"
	pathRecordInfo   = "/api/v1/flux/kontext/record-info"
	pathCredit       = "/api/v1/chat/credit"
	pathDownloadURL  = "/api/v1/common/download-url"
	pathStreamUpload = "/api/file-stream-upload"
	pathBase64Upload = "/api/file-base64-upload"
	pathURLUpload    = "/api/file-url-upload"
	filesPrefix      = "/files/"
	uploadsPrefix    = "/files/uploads/"
	controlPrefix    = "/_mock/"
)

// Stats counts what the mock has seen since it started or since ResetStats.
// Request counters count every request received, whatever its outcome.
type Stats struct {
	GenerateRequests    int `json:"generateRequests"`    // every POST /generate received
	TasksCreated        int `json:"tasksCreated"`        // taskIds issued by both APIs (including dropped answers)
	StatusQueries       int `json:"statusQueries"`       // record-info requests of both APIs
	Downloads           int `json:"downloads"`           // GETs of result or origin image files
	UploadDownloads     int `json:"uploadDownloads"`     // GETs of uploaded files
	CreditQueries       int `json:"creditQueries"`       // credit requests
	DownloadURLRequests int `json:"downloadUrlRequests"` // download-url requests
	Uploads             int `json:"uploads"`             // upload requests (all three kinds)
	CallbacksSent       int `json:"callbacksSent"`       // callback POSTs answered 2xx
	CallbacksFailed     int `json:"callbacksFailed"`     // callback attempts refused, failed or answered non-2xx
	RateLimited         int `json:"rateLimited"`         // 429s sent by both APIs
	FaultsInjected      int `json:"faultsInjected"`      // injected faults applied
	AuthFailures        int `json:"authFailures"`        // 401s sent
	InputFetches        int `json:"inputFetches"`        // edit-mode input images fetched (any outcome)
	InFlight            int `json:"inFlight"`            // tasks currently generating
	PeakInFlight        int `json:"peakInFlight"`        // highest InFlight seen
	// FileRequestsWithAuth counts file (CDN) requests that carried an
	// Authorization header: a client should never send its key there.
	FileRequestsWithAuth int `json:"fileRequestsWithAuth"`

	// The Market API's share of the counters above (Flux's is the difference),
	// and its createTask requests.
	MarketCreateRequests int `json:"marketCreateRequests"` // every POST /jobs/createTask received
	MarketTasksCreated   int `json:"marketTasksCreated"`   // Market taskIds issued
	MarketStatusQueries  int `json:"marketStatusQueries"`  // /jobs/recordInfo requests
	MarketRateLimited    int `json:"marketRateLimited"`    // 429s sent by createTask
}

// Server is a stateful in-memory emulation of the KIE Flux Kontext API. It
// implements http.Handler; Start and StartAt also run a listener.
type Server struct {
	opts    Options
	linkKey []byte // signs result links; random per server

	ctx    context.Context // cancelled by Close: stops workers, slow faults, callbacks
	cancel context.CancelFunc
	client *http.Client  // input fetches, URL uploads and callbacks (loopback only)
	sem    chan struct{} // bounds concurrent outbound requests

	handlers sync.WaitGroup // Add only under mu while !closed
	workers  sync.WaitGroup // Add only under mu while !closed

	// Set by StartAt before the server is shared, read-only afterwards.
	url       string
	httpSrv   *http.Server
	serveDone chan struct{}

	closeOnce sync.Once

	mu          sync.Mutex
	closed      bool
	tasks       map[string]*task
	order       []*task
	stats       Stats
	faults      []*queuedFault
	credits     float64
	window      []time.Time          // acceptance times of recent generate POSTs
	tags        map[string]*TagStats // counters per [mock:tag=NAME]
	epoch       int                  // ExpireLinks generation; links issued before the current one are dead
	uploads     map[string]*upload
	uploadBytes int64
	cache       imageCache
	market      marketState
}

// New returns a handler-only server: mount it on any listener (for example
// httptest.NewServer). Links it hands out are based on the request's Host
// unless Options.PublicURL is set. Call Close when done.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
	s := &Server{
		opts:    opts,
		linkKey: key,
		ctx:     ctx,
		cancel:  cancel,
		sem:     make(chan struct{}, 64),
		tasks:   make(map[string]*task),
		uploads: make(map[string]*upload),
		credits: opts.Credits,
	}
	s.cache.init(opts.ImageCacheBytes)
	s.client = newLoopbackClient()
	return s
}

// Start runs a server on a random loopback port.
func Start(opts Options) (*Server, error) {
	return StartAt("127.0.0.1:0", opts)
}

// StartAt runs a server listening on addr (host:port; port 0 picks one).
// It does not restrict the address: callers decide what may be exposed.
func StartAt(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kiemock: listen %s: %w", addr, err)
	}
	s := New(opts)
	s.url = baseURLFor(ln.Addr())
	s.httpSrv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0), // dropped connections are deliberate
	}
	s.serveDone = make(chan struct{})
	go func() {
		defer close(s.serveDone)
		_ = s.httpSrv.Serve(ln) // returns ErrServerClosed after Close
	}()
	return s, nil
}

func baseURLFor(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return "http://" + a.String()
	}
	ip := tcp.IP
	// A wildcard bind is reachable via loopback; the wildcard itself is not a usable host.
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.IsUnspecified():
		ip = net.IPv6loopback
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// URL is the base URL (no trailing slash) of a server made by Start or
// StartAt, or Options.PublicURL; empty for a handler-only server without one.
func (s *Server) URL() string {
	if s.url != "" {
		return s.url
	}
	return strings.TrimRight(s.opts.PublicURL, "/")
}

// Close stops the listener (if any), cancels timers, slow faults, input
// fetches and callbacks, and waits for in-flight handlers and goroutines.
// Requests arriving afterwards get 503. Safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		if s.httpSrv != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.httpSrv.Shutdown(ctx); err != nil {
				_ = s.httpSrv.Close() // a client that stopped reading must not hang Close
			}
			cancel()
			<-s.serveDone
		}
		s.handlers.Wait()
		s.workers.Wait()
		if t, ok := s.client.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
	return nil
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters; the InFlight gauge is kept.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{InFlight: s.stats.InFlight, PeakInFlight: s.stats.InFlight}
	s.tags = nil
}

// SetCredits sets the account balance.
func (s *Server) SetCredits(n float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.credits = n
}

// Credits returns the account balance.
func (s *Server) Credits() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.credits
}

// ExpireLinks makes every result and origin link issued so far answer 404.
// record-info keeps returning the old (now dead) links, as KIE does after
// expiry; download-url issues fresh working ones.
func (s *Server) ExpireLinks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epoch++
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		w.Header().Set("Connection", "close")
		http.Error(w, "kie-mock: server closed", http.StatusServiceUnavailable)
		return
	}
	s.handlers.Add(1)
	s.mu.Unlock()
	defer s.handlers.Done()

	sw := &statusWriter{ResponseWriter: w}
	if s.opts.Logf != nil {
		start := time.Now()
		defer func() {
			status := strconv.Itoa(sw.status)
			if sw.status == 0 {
				status = "dropped"
			}
			// Only method, path and query: headers (the key) are never logged.
			target := r.URL.Path
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			s.opts.Logf("kie-mock: %s %s -> %s (%s)", r.Method, target, status, time.Since(start).Round(time.Microsecond))
		}()
	}
	s.route(sw, r)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == pathGenerate:
		s.count(func(st *Stats) { st.GenerateRequests++ })
		s.serveAPI(w, r, EndpointGenerate, "", s.handleGenerate)
	case p == pathRecordInfo:
		s.count(func(st *Stats) { st.StatusQueries++ })
		s.serveAPI(w, r, EndpointRecordInfo, r.URL.Query().Get("taskId"), s.handleRecordInfo)
	case p == pathCreateTask:
		s.count(func(st *Stats) { st.MarketCreateRequests++ })
		s.serveAPI(w, r, EndpointCreateTask, "", s.handleCreateTask)
	case p == pathMarketRecordInfo:
		s.count(func(st *Stats) { st.StatusQueries++; st.MarketStatusQueries++ })
		s.serveAPI(w, r, EndpointMarketRecordInfo, r.URL.Query().Get("taskId"), s.handleMarketRecordInfo)
	case p == pathCredit:
		s.count(func(st *Stats) { st.CreditQueries++ })
		s.serveAPI(w, r, EndpointCredit, "", s.handleCredit)
	case p == pathDownloadURL:
		s.count(func(st *Stats) { st.DownloadURLRequests++ })
		s.serveAPI(w, r, EndpointDownloadURL, "", s.handleDownloadURL)
	case p == pathStreamUpload || p == pathBase64Upload || p == pathURLUpload:
		s.count(func(st *Stats) { st.Uploads++ })
		s.serveAPI(w, r, EndpointUpload, "", s.handleUpload)
	case strings.HasPrefix(p, filesPrefix):
		taskID := s.countFileRequest(r)
		s.serveAPI(w, r, EndpointFile, taskID, s.handleFile)
	case strings.HasPrefix(p, controlPrefix):
		s.handleControl(w, r)
	default:
		s.writeError(w, apiErr(http.StatusNotFound, "not found: "+p))
	}
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// authorized checks the bearer key in constant time.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return constantTimeEqual(strings.TrimSpace(key), s.opts.APIKey)
}

// requireAuth answers 401 and reports false when the key is missing or wrong.
func (s *Server) requireAuth(w http.ResponseWriter, r *http.Request) bool {
	if s.authorized(r) {
		return true
	}
	s.count(func(st *Stats) { st.AuthFailures++ })
	s.writeError(w, apiErr(http.StatusUnauthorized, "You do not have access permissions"))
	return false
}

// apiError is an error answer in KIE's envelope.
type apiError struct {
	code       int    // body code
	msg        string // names the offending field for validation errors
	retryAfter string
}

func apiErr(code int, msg string) *apiError { return &apiError{code: code, msg: msg} }

type envelope struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
	Data any    `json:"data"`
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	status := e.code
	if s.opts.ErrorsAsHTTP200 || status < 100 || status > 999 {
		status = http.StatusOK
	}
	if e.retryAfter != "" {
		w.Header().Set("Retry-After", e.retryAfter)
	}
	writeJSON(w, status, envelope{Code: e.code, Msg: e.msg})
}

func writeOK(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusOK, envelope{Code: 200, Msg: "success", Data: data})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":500,"msg":"kie-mock: encoding failed","data":null}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// baseFor is the scheme://host prefix for links handed out in answer to r.
func (s *Server) baseFor(r *http.Request) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if r.Host != "" {
		return scheme + "://" + r.Host
	}
	return s.url
}

// statusWriter records the status for the request log. Unwrap lets
// http.ResponseController reach Flush and Hijack underneath.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readBody reads at most limit bytes and reports whether the body was larger.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooLarge
	}
	return b, nil
}

var errTooLarge = errors.New("request body too large")
