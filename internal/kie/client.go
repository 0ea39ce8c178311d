// Package kie is a client for KIE's image APIs: Flux Kontext and the Market (createTask/recordInfo).
//
// Generation is paid and the API has no idempotency key, so the client retries a
// create request only when it provably was not accepted, keeps every task id it
// learns, and never sends or reports the API key anywhere but the API itself.
package kie

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrMissingAPIKey is returned by every API call of a client built without a key.
var ErrMissingAPIKey = errors.New("kie: no API key configured")

// The client's defaults are KIE's documented values and limits. They are exported so that the provider
// documents and falls back to the same values instead of keeping copies.
const (
	DefaultBaseURL         = "https://api.kie.ai"
	DefaultUploadBaseURL   = "https://kieai.redpandaai.co"
	DefaultRequestTimeout  = 60 * time.Second
	DefaultPollMin         = 3 * time.Second
	DefaultFirstPoll       = 8 * time.Second
	DefaultPollMax         = 30 * time.Second
	DefaultCreateLimit     = 20
	DefaultCreateWindow    = 10 * time.Second
	DefaultQueryRate       = 10.0
	DefaultMaxDownloadMiB  = 100
	DefaultCallbackPolling = time.Minute

	defaultUserAgent = "terraform-provider-kie/dev"
	maxJSONAnswer    = 1 << 20

	// createAnswerGrace is how long a paid create already sent may still answer after the caller's
	// context ends (a create timeout, Ctrl-C): its answer tells whether a task exists.
	createAnswerGrace = 5 * time.Second
)

// Logger receives the client's records. Fields never hold headers or the key. Info is for what a user
// should see without debug logging (why a generation waits), Warn for a refused callback.
type Logger interface {
	Debug(ctx context.Context, msg string, fields map[string]any)
	Info(ctx context.Context, msg string, fields map[string]any)
	Warn(ctx context.Context, msg string, fields map[string]any)
}

// Clock is the time source of the waiter, the backoff and the rate limiters.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// RetryPolicy bounds the retries of calls that are safe to repeat. Zero fields take defaults.
type RetryPolicy struct {
	BaseDelay     time.Duration // first backoff step, default 1s
	MaxDelay      time.Duration // backoff cap, default 30s
	MaxAttempts   int           // attempts per call including the first, default 5
	MaxRetryAfter time.Duration // cap on a server's Retry-After, default 60s
	// RefusedFor is how long a generation that KIE refuses for now (429, 455) is retried when the
	// context has no deadline, default 15m. With a deadline, it is retried until the deadline.
	RefusedFor time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 60 * time.Second
	}
	if p.RefusedFor <= 0 {
		p.RefusedFor = 15 * time.Minute
	}
	return p
}

// Client talks to the KIE API. It is safe for concurrent use.
type Client struct {
	apiKey         string
	baseURL        string
	uploadBaseURL  string
	hc             *http.Client
	userAgent      string
	requestTimeout time.Duration
	answerGrace    time.Duration // see createAnswerGrace
	pollMin        time.Duration
	pollMax        time.Duration
	createN        int
	createPer      time.Duration
	queryRate      float64
	maxDownload    int64
	logger         Logger
	clock          Clock
	retry          RetryPolicy

	create *slidingWindow
	query  *queryGate

	firstPoll    time.Duration // wait before a task's first status query
	callbackPoll time.Duration // with a callback receiver: the safety-net poll interval

	waitMu  sync.Mutex
	waiters map[string][]chan struct{}
	early   map[string]struct{} // callbacks that arrived before anyone waited
}

// Option configures a Client.
type Option func(*Client)

// New builds a client. It never fails: an empty key makes every API call return ErrMissingAPIKey,
// and an unusable base URL surfaces as an error of the first call.
func New(apiKey string, opts ...Option) *Client {
	c := &Client{
		apiKey:         strings.TrimSpace(apiKey),
		baseURL:        DefaultBaseURL,
		uploadBaseURL:  DefaultUploadBaseURL,
		userAgent:      defaultUserAgent,
		requestTimeout: DefaultRequestTimeout,
		answerGrace:    createAnswerGrace,
		pollMin:        DefaultPollMin,
		pollMax:        DefaultPollMax,
		createN:        DefaultCreateLimit,
		createPer:      DefaultCreateWindow,
		queryRate:      DefaultQueryRate,
		maxDownload:    (DefaultMaxDownloadMiB << 20),
		logger:         nopLogger{},
		clock:          realClock{},
		waiters:        map[string][]chan struct{}{},
		early:          map[string]struct{}{},
		firstPoll:      DefaultFirstPoll,
	}
	for _, o := range opts {
		if o != nil {
			o(c)
		}
	}
	c.retry = c.retry.withDefaults()
	if c.hc == nil {
		c.hc = &http.Client{Transport: defaultTransport()}
	}
	c.hc = c.guardRedirects(c.hc)
	c.create = newCreateWindow(c.createN, c.createPer)
	c.query = newQueryGate(c.queryRate)
	return c
}

// WithBaseURL sets the API base URL (default https://api.kie.ai); a trailing slash is tolerated.
func WithBaseURL(u string) Option {
	return func(c *Client) {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			c.baseURL = u
		}
	}
}

// WithUploadBaseURL sets the file-upload base URL (default https://kieai.redpandaai.co).
func WithUploadBaseURL(u string) Option {
	return func(c *Client) {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			c.uploadBaseURL = u
		}
	}
}

// WithHTTPClient sets the HTTP client. Its redirect policy is wrapped so the key never follows a
// redirect to a foreign host.
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) {
		if h != nil {
			c.hc = h
		}
	}
}

// WithUserAgent sets the User-Agent; an empty value keeps the default, since KIE's CDN blocks
// requests that look like bots.
func WithUserAgent(ua string) Option {
	return func(c *Client) {
		if ua = strings.TrimSpace(ua); ua != "" {
			c.userAgent = ua
		}
	}
}

// WithRequestTimeout bounds each HTTP attempt (default 60s). For downloads it bounds the time to
// the response headers and each idle gap in the body, not the whole transfer.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.requestTimeout = d
		}
	}
}

// WithPollInterval sets the bounds of the waiter's polling schedule (default 3s..30s).
func WithPollInterval(minInterval, maxInterval time.Duration) Option {
	return func(c *Client) {
		if minInterval <= 0 {
			return
		}
		c.pollMin, c.pollMax = minInterval, max(maxInterval, minInterval)
	}
}

// WithFirstPollDelay sets how long WaitTask waits before a task's first status query (default 8s):
// generations take 10-30 s, so querying sooner only spends the query budget.
func WithFirstPollDelay(d time.Duration) Option {
	return func(c *Client) {
		if d >= 0 {
			c.firstPoll = d
		}
	}
}

// WithCallbackPolling tells the waiter that a callback receiver calls Notify when tasks end: it then
// queries a task only after a callback, or every interval as a safety net for lost callbacks.
func WithCallbackPolling(interval time.Duration) Option {
	return func(c *Client) {
		if interval > 0 {
			c.callbackPoll = interval
		}
	}
}

// WithCreateLimit allows n create requests per period (default 20 per 10s), shared by all
// Generate and CreateMarketTask calls of the client (KIE counts both against one account limit). It is a ceiling: after a rate limit the client creates less and wins
// its rate back as KIE accepts requests again.
func WithCreateLimit(n int, per time.Duration) Option {
	return func(c *Client) {
		if n > 0 && per > 0 {
			c.createN, c.createPer = n, per
		}
	}
}

// WithQueryRate sets the status queries per second (default 10), shared by all queries of the client.
// It is a ceiling, like WithCreateLimit's.
func WithQueryRate(perSecond float64) Option {
	return func(c *Client) {
		if perSecond > 0 {
			c.queryRate = perSecond
		}
	}
}

// WithMaxDownloadBytes caps the size of a downloaded image (default 100 MiB).
func WithMaxDownloadBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxDownload = n
		}
	}
}

// WithLogger sets the logger (default: none).
func WithLogger(l Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithClock sets the clock of the waiter, backoff and limiters (default: real time).
func WithClock(cl Clock) Option {
	return func(c *Client) {
		if cl != nil {
			c.clock = cl
		}
	}
}

// WithRetryPolicy sets backoff bounds and attempts for retryable calls; zero fields keep defaults.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(c *Client) { c.retry = p }
}

type nopLogger struct{}

func (nopLogger) Debug(context.Context, string, map[string]any) {}
func (nopLogger) Info(context.Context, string, map[string]any)  {}
func (nopLogger) Warn(context.Context, string, map[string]any)  {}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

func defaultTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return http.DefaultTransport
}

// guardRedirects returns a copy of h whose redirects drop the Authorization header on the way to
// any host but the API's own, whatever the caller's redirect policy.
func (c *Client) guardRedirects(h *http.Client) *http.Client {
	cp := *h
	next := h.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if next != nil {
			if err := next(req, via); err != nil {
				return err
			}
		} else if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if !sameOrigin(c.baseURL, req.URL) && !sameOrigin(c.uploadBaseURL, req.URL) {
			req.Header.Del("Authorization")
		}
		return nil
	}
	return &cp
}

// sameOrigin reports whether u has the scheme and host (with port) of base.
func sameOrigin(base string, u *url.URL) bool {
	b, err := url.Parse(base)
	return err == nil && u != nil && b.Host != "" &&
		strings.EqualFold(b.Scheme, u.Scheme) && strings.EqualFold(b.Host, u.Host)
}

// redact removes the key from text that came from elsewhere (a server may echo headers back).
func (c *Client) redact(s string) string {
	if len(c.apiKey) < 8 {
		return s
	}
	return strings.ReplaceAll(s, c.apiKey, "[REDACTED]")
}

// message is an envelope's msg (or message) with the key removed before the text is cut to its maximum
// length: cutting first could leave the start of an echoed key in place.
func (c *Client) message(env envelope) string {
	msg := c.redact(rawString(env.Fields["msg"]))
	if strings.TrimSpace(msg) == "" {
		msg = c.redact(rawString(env.Fields["message"]))
	}
	return capText(msg, maxMessageLen)
}

// excerpt is safeExcerpt of a body with the key removed first, for the same reason.
func (c *Client) excerpt(body []byte) string {
	if len(c.apiKey) < 8 {
		return safeExcerpt(body)
	}
	return safeExcerpt([]byte(c.redact(string(body))))
}
