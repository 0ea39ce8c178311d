package kie

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-SECRET-0123456789abcdef"

// fakeClock advances its time by every delay asked of it and fires at once, recording the delays.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.sleeps = append(f.sleeps, d)
	ch := make(chan time.Time, 1)
	ch <- f.now
	return ch
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// logRecorder keeps every log record as text.
type logRecorder struct {
	mu      sync.Mutex
	entries []string
}

func (l *logRecorder) Debug(_ context.Context, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("%s %v", msg, fields))
}

func (l *logRecorder) Info(_ context.Context, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("INFO %s %v", msg, fields))
}

func (l *logRecorder) Warn(_ context.Context, msg string, fields map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, fmt.Sprintf("WARN %s %v", msg, fields))
}

func (l *logRecorder) All() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.entries, "\n")
}

// fastRetry keeps retries quick in tests.
func fastRetry() RetryPolicy {
	return RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxAttempts: 4, RefusedFor: 2 * time.Minute}
}

func newTestClient(baseURL string, opts ...Option) *Client {
	base := []Option{
		WithBaseURL(baseURL),
		WithUploadBaseURL(baseURL),
		WithRetryPolicy(fastRetry()),
		WithRequestTimeout(2 * time.Second),
		WithPollInterval(time.Millisecond, 5*time.Millisecond),
		WithFirstPollDelay(0),
		WithQueryRate(10000),
		WithCreateLimit(10000, time.Second),
	}
	return New(testKey, append(base, opts...)...)
}

// recorded is one request a test server received.
type recorded struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// scriptServer answers the n-th request with steps[n]; the last step repeats.
type scriptServer struct {
	*httptest.Server
	mu    sync.Mutex
	steps []http.HandlerFunc
	reqs  []recorded
	hc    *http.Client // the client that reaches an in-memory server, nil on TCP
}

func newScriptServer(t *testing.T, steps ...http.HandlerFunc) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// newPipeScriptServer is a scriptServer on the in-memory network of a synctest bubble (see
// pipeListener). Clients reach it only through the option Via returns.
func newPipeScriptServer(t *testing.T, steps ...http.HandlerFunc) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps}
	s.Server, s.hc = newPipeServer(t, http.HandlerFunc(s.serve))
	return s
}

// newPipeServer serves h on the in-memory network of a synctest bubble (see pipeListener) and returns
// the server and the only client that reaches it.
func newPipeServer(t *testing.T, h http.Handler) (*httptest.Server, *http.Client) {
	t.Helper()
	l := newPipeListener()
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	tr := &http.Transport{DialContext: l.dial}
	t.Cleanup(srv.Close)
	t.Cleanup(tr.CloseIdleConnections) // before srv.Close; the bubble ends only when no connection is left
	return srv, &http.Client{Transport: tr}
}

// Via is the option that makes a client reach s: none on TCP, the in-memory dialer otherwise.
func (s *scriptServer) Via() Option {
	if s.hc == nil {
		return nil
	}
	return WithHTTPClient(s.hc)
}

func (s *scriptServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.reqs)
	s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	r.Body = io.NopCloser(bytes.NewReader(body))
	step := s.steps[min(n, len(s.steps)-1)]
	s.mu.Unlock()
	step(w, r)
}

// pipeListener is an in-memory network for a test that runs in a synctest bubble, where time is fake
// and moves only when every goroutine of the bubble is durably blocked. Its connections are net.Pipe
// pairs, on which a waiting reader or writer is durably blocked (on a TCP socket it is not, so a
// bubble cannot use one). The bubble's clock thus stands still while a request or an answer is on
// its way, and a request timeout or a context deadline passes only once client and server both
// wait: never before the server has a request the client sent, nor before the client has an answer
// the server wrote, however starved the process is. Create it (and the servers on it) inside the bubble.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
		_, _ = client.Close(), server.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: net.ErrClosed}
	case <-ctx.Done():
		_, _ = client.Close(), server.Close()
		return nil, &net.OpError{Op: "dial", Net: "pipe", Err: ctx.Err()}
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "kie.pipe.test" }

func (s *scriptServer) Requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *scriptServer) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// reply writes a status and a raw body.
func reply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if strings.HasPrefix(strings.TrimSpace(body), "{") {
			w.Header().Set("Content-Type", "application/json")
		} else if body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "text/html")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// env writes an HTTP 200 envelope.
func env(code int, msg, data string) http.HandlerFunc {
	return reply(http.StatusOK, fmt.Sprintf(`{"code":%d,"msg":%q,"data":%s}`, code, msg, data))
}

// resetConn drops the connection without an answer (after the request was read).
func resetConn(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // send RST rather than FIN
	}
	_ = conn.Close()
}

// stall answers only after d or when the client gives up, whichever is first.
func stall(d time.Duration, then http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
		then(w, r)
	}
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func taskJSON(id string, flag int, extra string) string {
	s := fmt.Sprintf(`{"taskId":%q,"successFlag":%d`, id, flag)
	if extra != "" {
		s += "," + extra
	}
	return s + "}"
}
