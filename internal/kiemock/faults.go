package kiemock

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Endpoint names a group of requests a Fault can target.
type Endpoint string

// Endpoints a Fault can target.
const (
	EndpointGenerate    Endpoint = "generate"
	EndpointRecordInfo  Endpoint = "record-info"
	EndpointCredit      Endpoint = "credit"
	EndpointDownloadURL Endpoint = "download-url"
	EndpointFile        Endpoint = "file"   // result, origin and uploaded file downloads
	EndpointUpload      Endpoint = "upload" // all three upload endpoints
)

// FaultKind is what an injected fault does to a matching request.
type FaultKind string

// Fault kinds. Unless noted, a fault replaces normal handling entirely
// (nothing is created, auth is not checked: it models a proxy or CDN
// failing in front of the API).
const (
	FaultStatus          FaultKind = "status"            // HTTP Status (default 500) with envelope {code: BodyCode or Status, msg: Message}
	FaultBodyCode        FaultKind = "body-code"         // HTTP 200, envelope code BodyCode (default 500)
	FaultHTML            FaultKind = "html"              // HTTP Status (default 502) with an HTML page
	FaultEmpty           FaultKind = "empty"             // HTTP Status (default 502), empty body
	FaultMalformedJSON   FaultKind = "malformed-json"    // HTTP 200, body {"code":200,"msg":"succ
	FaultSlow            FaultKind = "slow"              // wait Delay, then handle normally
	FaultDropAfterCreate FaultKind = "drop-after-create" // generate: handle normally (the task is created and paid), then close the connection unanswered
	FaultDrop            FaultKind = "drop"              // close the connection unanswered
	FaultOversized       FaultKind = "oversized"         // HTTP 200 JSON body larger than 10 MiB
	FaultExpiredLink     FaultKind = "expired-link"      // 404 as an expired link answers
	FaultTruncatedImage  FaultKind = "truncated-image"   // normal answer, Content-Length full, half the body, connection closed
	FaultWrongLength     FaultKind = "wrong-length"      // normal answer, Content-Length larger than the body, connection closed
)

// OversizedBodyBytes is the size of a FaultOversized body.
const OversizedBodyBytes = 10<<20 + 4096

// Fault describes a failure to inject. Zero fields take the defaults noted
// on the kinds.
type Fault struct {
	Endpoint   Endpoint
	Kind       FaultKind
	Status     int
	BodyCode   int
	Message    string
	RetryAfter string        // Retry-After header value, if non-empty
	Delay      time.Duration // FaultSlow
	TaskID     string        // only requests about this task (record-info taskId, file of this task)
	Times      int           // matching requests it applies to; 0 = 1; -1 = until ClearFaults
}

// faultWire is Fault on the control endpoint: delay is a Go duration string
// ("2s") or a number of milliseconds.
type faultWire struct {
	Endpoint   Endpoint        `json:"endpoint"`
	Kind       FaultKind       `json:"kind"`
	Status     int             `json:"status,omitempty"`
	BodyCode   int             `json:"bodyCode,omitempty"`
	Message    string          `json:"message,omitempty"`
	RetryAfter string          `json:"retryAfter,omitempty"`
	Delay      json.RawMessage `json:"delay,omitempty"`
	TaskID     string          `json:"taskId,omitempty"`
	Times      int             `json:"times,omitempty"`
}

// MarshalJSON encodes Delay as a Go duration string.
func (f Fault) MarshalJSON() ([]byte, error) {
	w := faultWire{Endpoint: f.Endpoint, Kind: f.Kind, Status: f.Status, BodyCode: f.BodyCode,
		Message: f.Message, RetryAfter: f.RetryAfter, TaskID: f.TaskID, Times: f.Times}
	if f.Delay != 0 {
		w.Delay, _ = json.Marshal(f.Delay.String())
	}
	return json.Marshal(w)
}

// UnmarshalJSON accepts delay as a duration string or milliseconds.
func (f *Fault) UnmarshalJSON(b []byte) error {
	var w faultWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = Fault{Endpoint: w.Endpoint, Kind: w.Kind, Status: w.Status, BodyCode: w.BodyCode,
		Message: w.Message, RetryAfter: w.RetryAfter, TaskID: w.TaskID, Times: w.Times}
	if len(w.Delay) == 0 || string(w.Delay) == "null" {
		return nil
	}
	var str string
	if err := json.Unmarshal(w.Delay, &str); err == nil {
		d, err := time.ParseDuration(str)
		if err != nil {
			return fmt.Errorf("delay: %w", err)
		}
		f.Delay = d
		return nil
	}
	var ms float64
	if err := json.Unmarshal(w.Delay, &ms); err != nil {
		return fmt.Errorf("delay: want a duration string or milliseconds")
	}
	f.Delay = time.Duration(ms * float64(time.Millisecond))
	return nil
}

// Validate reports whether the fault names a known endpoint and kind.
func (f Fault) Validate() error {
	switch f.Endpoint {
	case EndpointGenerate, EndpointRecordInfo, EndpointCredit, EndpointDownloadURL, EndpointFile, EndpointUpload,
		EndpointCreateTask, EndpointMarketRecordInfo:
	default:
		return fmt.Errorf("unknown endpoint %q", f.Endpoint)
	}
	switch f.Kind {
	case FaultStatus, FaultBodyCode, FaultHTML, FaultEmpty, FaultMalformedJSON, FaultSlow, FaultDropAfterCreate,
		FaultDrop, FaultOversized, FaultExpiredLink, FaultTruncatedImage, FaultWrongLength, FaultRecordInfoNull:
	default:
		return fmt.Errorf("unknown fault kind %q", f.Kind)
	}
	if f.Times < -1 {
		return fmt.Errorf("times must be -1 (forever), 0 (once) or positive")
	}
	return nil
}

type queuedFault struct {
	Fault
	left int // -1 = forever
}

// InjectFault queues a fault; the first queued fault matching a request is
// applied to it. Invalid faults are ignored (and logged via Options.Logf).
func (s *Server) InjectFault(f Fault) {
	if err := f.Validate(); err != nil {
		if s.opts.Logf != nil {
			s.opts.Logf("kie-mock: fault ignored: %v", err)
		}
		return
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &queuedFault{Fault: f, left: left})
}

// ClearFaults removes every queued fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// Faults returns the queued faults with Times set to the remaining count.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, q := range s.faults {
		f := q.Fault
		f.Times = q.left
		out = append(out, f)
	}
	return out
}

// takeFault pops one use of the first fault matching the request.
func (s *Server) takeFault(ep Endpoint, taskID string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, q := range s.faults {
		if q.Endpoint != ep || (q.TaskID != "" && q.TaskID != taskID) {
			continue
		}
		if q.left > 0 {
			q.left--
			if q.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.stats.FaultsInjected++
		f := q.Fault
		return &f
	}
	return nil
}

// handlerFunc handles an endpoint normally; dropAfter asks generate to close
// the connection instead of answering once the task exists.
type handlerFunc func(w http.ResponseWriter, r *http.Request, dropAfter bool)

// serveAPI applies a matching fault or else the normal handler.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, ep Endpoint, taskID string, h handlerFunc) {
	f := s.takeFault(ep, taskID)
	if f == nil {
		h(w, r, false)
		return
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	switch f.Kind {
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			h(w, r, false)
		case <-r.Context().Done():
		case <-s.ctx.Done():
			http.Error(w, "kie-mock: server closed", http.StatusServiceUnavailable)
		}
	case FaultDropAfterCreate:
		if ep == EndpointGenerate || ep == EndpointCreateTask {
			h(w, r, true)
			return
		}
		dropConnection(w)
	case FaultDrop:
		dropConnection(w)
	case FaultStatus:
		status := orDefault(f.Status, http.StatusInternalServerError)
		writeJSON(w, status, envelope{Code: orDefault(f.BodyCode, status), Msg: orText(f.Message, status)})
	case FaultBodyCode:
		code := orDefault(f.BodyCode, http.StatusInternalServerError)
		writeJSON(w, http.StatusOK, envelope{Code: code, Msg: orText(f.Message, code)})
	case FaultHTML:
		status := orDefault(f.Status, http.StatusBadGateway)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(htmlErrorPage(status, f.Message)))
	case FaultEmpty:
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(orDefault(f.Status, http.StatusBadGateway))
	case FaultMalformedJSON:
		body := `{"code":200,"msg":"succ`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(body))
	case FaultRecordInfoNull:
		s.marketError(w, apiErr(422, recordInfoNull))
	case FaultOversized:
		writeOversized(w)
	case FaultExpiredLink:
		writeExpired(w)
	case FaultTruncatedImage, FaultWrongLength:
		rec := newRecorder()
		h(rec, r, false)
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		body := rec.body.Bytes()
		declared := len(body)
		if f.Kind == FaultTruncatedImage {
			body = body[:len(body)/2]
		} else {
			declared = len(body) + 1024
		}
		// Sending fewer bytes than Content-Length makes net/http close the
		// connection after the handler returns, so the client sees an
		// unexpected EOF rather than a hang.
		w.Header().Set("Content-Length", strconv.Itoa(declared))
		w.WriteHeader(orDefault(rec.status, http.StatusOK))
		_, _ = w.Write(body)
		_ = http.NewResponseController(w).Flush()
	}
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func orText(msg string, code int) string {
	if msg != "" {
		return msg
	}
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "error " + strconv.Itoa(code)
}

// dropConnection closes the connection without an answer. Without a
// hijackable connection (HTTP/2, recorders) it aborts the handler, which
// net/http turns into a reset stream or closed connection.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func htmlErrorPage(status int, msg string) string {
	if status == http.StatusForbidden {
		// What Cloudflare answers when it takes the client for a bot.
		return "<!DOCTYPE html>\n<html><head><title>Access denied | api.kie.ai used Cloudflare to restrict access</title></head>" +
			"<body><h1>Error 1010</h1><p>Access denied</p><p>The owner of this website has banned your access based on your browser's signature.</p>" +
			htmlMsg(msg) + "</body></html>\n"
	}
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	return "<html>\n<head><title>" + text + "</title></head>\n<body>\n<center><h1>" + text + "</h1></center>\n" +
		htmlMsg(msg) + "<hr><center>nginx</center>\n</body>\n</html>\n"
}

func htmlMsg(msg string) string {
	if msg == "" {
		return ""
	}
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	return "<p>" + r.Replace(msg) + "</p>"
}

// writeOversized streams a syntactically valid JSON body larger than 10 MiB
// without holding it in memory.
func writeOversized(w http.ResponseWriter) {
	head, tail := `{"code":200,"msg":"`, `","data":null}`
	pad := OversizedBodyBytes - len(head) - len(tail)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(OversizedBodyBytes))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(head)); err != nil {
		return
	}
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	for pad > 0 {
		n := min(pad, len(chunk))
		if _, err := w.Write(chunk[:n]); err != nil {
			return // client gave up; that is the expected outcome
		}
		pad -= n
	}
	_, _ = w.Write([]byte(tail))
}

// writeExpired answers like the storage CDN does for an expired link.
func writeExpired(w http.ResponseWriter) {
	body := "404 Not Found: this link has expired; request a fresh one via /api/v1/common/download-url\n"
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(body))
}

// recorder captures a normal answer so a fault can mangle it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: make(http.Header)} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
