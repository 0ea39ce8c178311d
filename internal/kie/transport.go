package kie

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Causes of a cancelled attempt, to tell a timeout from the caller giving up.
var (
	errAttemptTimeout = errors.New("no answer within the request timeout")
	errHeaderTimeout  = errors.New("no response headers within the request timeout")
	errIdleTimeout    = errors.New("no progress within the request timeout")
)

// call describes one API request; send performs one attempt of it.
type call struct {
	op     string
	method string
	base   string
	path   string
	query  url.Values
	taskID string
	body   []byte // JSON body, nil for none
	// nullIsUnknown reads 422 "recordInfo is null" as an unknown task (the Market's status query).
	nullIsUnknown bool
	// stream, when set, builds a fresh streamed body per attempt; done is called once the
	// attempt is over and must release everything the body holds.
	stream func() (body io.Reader, contentType string, done func(), err error)
	// answerGrace, when set, lets a request already sent finish for that long after ctx ends.
	answerGrace time.Duration
}

// answer is a decoded success envelope.
type answer struct {
	status int
	env    envelope
}

// traceState records how far a request got, to prove whether it was ever sent.
type traceState struct {
	getConn, gotConn, wrote atomic.Bool
}

func (t *traceState) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:      func(string) { t.getConn.Store(true) },
		GotConn:      func(httptrace.GotConnInfo) { t.gotConn.Store(true) },
		WroteHeaders: func() { t.wrote.Store(true) },
	}
}

// notSent is true only with positive evidence that no byte of the request left this process:
// a dial error, or a trace that asked for a connection and never got one.
func (t *traceState) notSent(err error) bool {
	if t.gotConn.Load() || t.wrote.Load() {
		return false
	}
	return isDialError(err) || t.getConn.Load()
}

func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}

// send performs one attempt of cl. On failure it says what the failure proves and passes on the
// server's Retry-After.
func (c *Client) send(ctx context.Context, cl *call, attempt int) (*answer, failClass, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, failCanceled, 0, fmt.Errorf("%s: %w", c.what(cl), err)
	}
	u, err := buildURL(cl.base, cl.path, cl.query)
	if err != nil {
		return nil, failPermanent, 0, fmt.Errorf("%s: %w", c.what(cl), err)
	}

	var body io.Reader
	contentType := ""
	if cl.body != nil {
		body, contentType = bytes.NewReader(cl.body), "application/json"
	}
	// A streamed body may take longer than the request timeout to send, so there the timeout
	// bounds each stretch without progress instead of the whole attempt.
	reqCtx := ctx
	if cl.answerGrace > 0 {
		var release func()
		reqCtx, release = withGrace(ctx, cl.answerGrace)
		defer release()
	}
	actx, cancel := context.WithCancelCause(reqCtx)
	defer cancel(nil)
	cause := errAttemptTimeout
	if cl.stream != nil {
		cause = errIdleTimeout
	}
	timer := time.AfterFunc(c.requestTimeout, func() { cancel(cause) })
	defer timer.Stop()
	if cl.stream != nil {
		var done func()
		body, contentType, done, err = cl.stream()
		if err != nil {
			return nil, failPermanent, 0, fmt.Errorf("%s: preparing the request body: %w", c.what(cl), err)
		}
		defer done()
		body = &idleReader{r: body, timer: timer, d: c.requestTimeout}
	}
	ts := &traceState{}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(actx, ts.trace()), cl.method, u.String(), body)
	if err != nil {
		return nil, failPermanent, 0, fmt.Errorf("%s: %w", c.what(cl), c.sanitize(err))
	}
	c.setHeaders(req, true)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}

	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		err = withTimeoutCause(actx, c.sanitize(err))
		if cl.answerGrace > 0 && reqCtx.Err() != nil { // the grace ran out after ctx ended
			err = fmt.Errorf("%w (no answer within %s of it): %w", context.Cause(ctx), cl.answerGrace, err)
		}
		cls := failTransient
		if ts.notSent(err) {
			cls = failNotSent
			if ctx.Err() != nil {
				cls = failCanceled
			}
		}
		c.logAttempt(ctx, cl, u, attempt, 0, 0, start, err)
		return nil, cls, 0, fmt.Errorf("%s: %w", c.what(cl), err)
	}
	raw, readErr := io.ReadAll(io.LimitReader(resp.Body, maxJSONAnswer+1))
	_ = resp.Body.Close()
	if readErr != nil {
		readErr = withTimeoutCause(actx, c.sanitize(readErr))
		c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, 0, start, readErr)
		return nil, failTransient, 0, fmt.Errorf("%s: reading the answer (HTTP %d): %w", c.what(cl), resp.StatusCode, readErr)
	}
	ans, cls, apiErr := c.judge(cl, resp.StatusCode, resp.Header, raw)
	var logErr error
	var code int
	if apiErr != nil {
		logErr, code = apiErr, apiErr.Code
	} else {
		code = ans.env.Code
	}
	c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, code, start, logErr)
	if apiErr != nil {
		return nil, cls, apiErr.RetryAfter, apiErr
	}
	return ans, failNone, 0, nil
}

// judge applies the envelope rule: a JSON body's numeric code decides, else the HTTP status.
func (c *Client) judge(cl *call, status int, hdr http.Header, raw []byte) (*answer, failClass, *APIError) {
	oversize := len(raw) > maxJSONAnswer
	var env envelope
	isJSON := false
	if !oversize {
		env, isJSON = decodeEnvelope(raw)
	}
	code := status
	if isJSON && env.HasCode {
		code = env.Code
	}
	if code >= 200 && code < 300 {
		if isJSON {
			if !env.HasCode {
				env.Code = code
			}
			return &answer{status: status, env: env}, failNone, nil
		}
		why := "the body is not a JSON object"
		if oversize {
			why = "the body is larger than 1 MiB"
		} else if len(bytes.TrimSpace(raw)) == 0 {
			why = "the body is empty"
		}
		return nil, failTransient, c.malformed(cl, status, raw, why)
	}
	e := &APIError{
		Op:         cl.op,
		TaskID:     cl.taskID,
		HTTPStatus: status,
		Code:       code,
		Message:    c.message(env),
	}
	if ra, ok := parseRetryAfter(hdr.Get("Retry-After"), c.clock.Now(), c.retry.MaxRetryAfter); ok {
		e.RetryAfter = ra
	}
	// KIE answers an unknown (or not yet visible) Market task with 422 "recordInfo is null".
	e.unknownTask = cl.nullIsUnknown && code == 422 && strings.Contains(strings.ToLower(e.Message), "recordinfo is null")
	if !isJSON {
		e.Excerpt = c.excerpt(raw)
		if oversize {
			e.Message = "answer larger than 1 MiB"
		}
	}
	return nil, classifyCode(code), e
}

// classifyCode says what a non-success code proves about a request. 501 (generation failed) and 505
// (feature disabled) are definite answers, not server faults: repeating the request changes nothing.
func classifyCode(code int) failClass {
	switch {
	case code == 429 || code == 455:
		return failRefused
	case code == 501 || code == 505:
		return failPermanent
	case code >= 500 || code == http.StatusRequestTimeout:
		return failTransient
	default:
		return failPermanent
	}
}

// malformed is a success status whose body cannot be used.
func (c *Client) malformed(cl *call, status int, raw []byte, why string) *APIError {
	return &APIError{
		Op:         cl.op,
		TaskID:     cl.taskID,
		HTTPStatus: status,
		Code:       status,
		Message:    why,
		Excerpt:    c.excerpt(raw),
		malformed:  true,
	}
}

// decodeData unmarshals an envelope's data into v; a failure is an unusable answer.
func (c *Client) decodeData(cl *call, ans *answer, v any) *APIError {
	if ans.env.Data == nil {
		return c.malformed(cl, ans.status, nil, "the answer has no data")
	}
	if err := json.Unmarshal(ans.env.Data, v); err != nil {
		return c.malformed(cl, ans.status, ans.env.Data, "the answer's data has an unexpected shape")
	}
	return nil
}

func (c *Client) what(cl *call) string {
	if cl.taskID != "" {
		return fmt.Sprintf("kie %s (task %s)", cl.op, cl.taskID)
	}
	return "kie " + cl.op
}

func (c *Client) setHeaders(req *http.Request, auth bool) {
	req.Header.Set("User-Agent", c.userAgent)
	if auth && c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
}

func buildURL(base, path string, q url.Values) (*url.URL, error) {
	u, err := url.Parse(base + path)
	if err != nil {
		return nil, fmt.Errorf("invalid base URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("invalid base URL %q: want http(s)://host", redactURL(base))
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u, nil
}

// withGrace is ctx with its end postponed by grace: values pass through, and when ctx ends the
// returned context ends grace later (with ctx's cause), unless release is called first.
func withGrace(ctx context.Context, grace time.Duration) (context.Context, func()) {
	gctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-timer.C:
			cancel(context.Cause(ctx))
		case <-gctx.Done():
		}
	})
	return gctx, func() {
		stop()
		cancel(nil)
	}
}

// withTimeoutCause names the timeout that cancelled an attempt, if one did.
func withTimeoutCause(actx context.Context, err error) error {
	cause := context.Cause(actx)
	for _, t := range []error{errAttemptTimeout, errHeaderTimeout, errIdleTimeout} {
		if errors.Is(cause, t) {
			return fmt.Errorf("%w: %w", cause, err)
		}
	}
	return err
}

// sanitize strips the query string (which may carry a signature) from a transport error's URL.
func (c *Client) sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		cp := *ue
		cp.URL = redactURL(ue.URL)
		return &cp
	}
	return err
}

// redactURL keeps scheme, host and path only.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<unparseable URL>"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

func (c *Client) logAttempt(ctx context.Context, cl *call, u *url.URL, attempt, status, code int, start time.Time, err error) {
	fields := map[string]any{
		"op":          cl.op,
		"method":      cl.method,
		"path":        u.Path,
		"attempt":     attempt,
		"status":      status,
		"duration_ms": time.Since(start).Milliseconds(),
	}
	if code != 0 && code != status {
		fields["code"] = code
	}
	if cl.taskID != "" {
		fields["task_id"] = cl.taskID
	}
	if err != nil {
		fields["error"] = c.redact(err.Error())
	}
	c.logger.Debug(ctx, "kie HTTP request", fields)
}
