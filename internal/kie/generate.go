package kie

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// GenerateRequest is the body of a generate request, with the API's camelCase field names.
type GenerateRequest struct {
	Prompt            string `json:"prompt"`
	EnableTranslation *bool  `json:"enableTranslation,omitempty"`
	UploadCn          *bool  `json:"uploadCn,omitempty"`
	InputImage        string `json:"inputImage,omitempty"`
	AspectRatio       string `json:"aspectRatio,omitempty"`
	OutputFormat      string `json:"outputFormat,omitempty"`
	PromptUpsampling  *bool  `json:"promptUpsampling,omitempty"`
	Model             string `json:"model,omitempty"`
	SafetyTolerance   *int   `json:"safetyTolerance,omitempty"`
	CallBackURL       string `json:"callBackUrl,omitempty"`
	Watermark         string `json:"watermark,omitempty"`
}

// Generate starts a paid generation and returns its task id.
//
// The API has no idempotency key, so a request is repeated only when it provably was not accepted:
// the connection was never made, or the API answered 429 or 455. Any other failure after the request
// may have reached the API returns an *UncertainCreateError and is not repeated. A refused request
// costs nothing, so it is repeated until ctx's deadline (RetryPolicy.RefusedFor without one), after
// the server's Retry-After when it sends one; when time runs out the error is a *RefusedError.
func (c *Client) Generate(ctx context.Context, req GenerateRequest) (string, error) {
	if c.apiKey == "" {
		return "", ErrMissingAPIKey
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return "", errors.New("kie generate: the prompt is required")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // send the prompt exactly as written
	if err := enc.Encode(req); err != nil {
		return "", fmt.Errorf("kie generate: encoding the request: %w", err)
	}
	cl := &call{op: "generate", method: http.MethodPost, base: c.baseURL, path: "/api/v1/flux/kontext/generate",
		body: bytes.TrimSpace(buf.Bytes())}
	return c.createTask(ctx, cl)
}

// createTask sends a paid create request (Flux generate or Market createTask) through the account's one
// create window and returns the new task id. Both APIs draw on the same account limit, so the rules
// for refusals, back-off and uncertain outcomes live here only.
func (c *Client) createTask(ctx context.Context, cl *call) (string, error) {
	// A create cut off on the wire leaves a task that may exist and that nobody knows of; KIE answers
	// in well under a second, so an attempt already sent gets a grace to answer when ctx ends.
	cl.answerGrace = c.answerGrace
	start := c.clock.Now()
	budget := c.retry.RefusedFor
	if dl, ok := ctx.Deadline(); ok {
		budget = time.Until(dl)
	}
	refused := &RefusedError{Op: cl.op}
	giveUp := func(cause error) error {
		refused.Waited, refused.Cause = c.clock.Now().Sub(start), cause
		return refused
	}
	notSent := 0
	for n := 1; ; n++ {
		tk, err := c.create.admit(ctx, c.clock)
		if err != nil {
			if refused.Refusals > 0 {
				return "", giveUp(err)
			}
			return "", fmt.Errorf("%s: waiting for the create rate limit: %w", c.what(cl), err)
		}
		ans, cls, retryAfter, err := c.send(ctx, cl, n)
		// The API counted the request by the time its answer (or the failure) arrived.
		tk.settle(c.clock.Now())
		switch {
		case err == nil:
			c.create.accepted(c.clock.Now())
			return c.taskIDOf(cl, ans)
		case cls == failTransient:
			return "", &UncertainCreateError{Op: cl.op, Err: err}
		case cls == failNotSent:
			err = fmt.Errorf("%w (the request never reached the API: no task was created)", err)
			if notSent++; notSent >= c.retry.MaxAttempts {
				return "", fmt.Errorf("giving up after %d attempts: %w", notSent, err)
			}
			if serr := sleep(ctx, c.clock, c.retry.backoff(notSent, 0)); serr != nil {
				return "", fmt.Errorf("%s: %w while waiting to retry; last error: %w", c.what(cl), serr, err)
			}
		case cls == failRefused:
			refused.Refusals++
			refused.Last = err
			now := c.clock.Now()
			code, _ := apiErrorCode(err)
			cut := c.create.refused(now, tk, code == 429, cmp.Or(retryAfter, c.retry.BaseDelay))
			delay := c.refusedDelay(refused.Refusals, retryAfter)
			waited := now.Sub(start)
			if waited+delay >= budget {
				return "", giveUp(nil)
			}
			fields := map[string]any{
				"op":          cl.op,
				"reason":      codeMeaning(code),
				"code":        code,
				"refusals":    refused.Refusals,
				"waited":      roundDuration(waited).String(),
				"retry_in":    roundDuration(delay).String(),
				"create_rate": fmt.Sprintf("%.1f per %s", c.create.rate(), c.createPer),
			}
			if cut {
				fields["create_rate_lowered"] = true
			}
			c.logger.Info(ctx, "KIE refused the generation request for now (nothing was created); retrying", fields)
			if serr := sleep(ctx, c.clock, delay); serr != nil {
				return "", giveUp(serr)
			}
		case cls == failCanceled && refused.Refusals > 0:
			return "", giveUp(err)
		default:
			return "", err
		}
	}
}

// taskIDOf reads the task id of an accepted generate request; an answer without one is uncertain.
func (c *Client) taskIDOf(cl *call, ans *answer) (string, error) {
	var data struct {
		TaskID json.RawMessage `json:"taskId"`
	}
	if derr := c.decodeData(cl, ans, &data); derr != nil {
		return "", &UncertainCreateError{Op: cl.op, Err: derr}
	}
	taskID := strings.TrimSpace(rawString(data.TaskID))
	if taskID == "" {
		return "", &UncertainCreateError{Op: cl.op, Err: c.malformed(cl, ans.status, ans.env.Data, "the answer has no task id")}
	}
	return taskID, nil
}

// refusedDelay is how long a refused generation waits before its next attempt: the server's
// Retry-After plus up to a twentieth more, so that the callers it turned away together do not return
// together, yet little enough that the room KIE frees at that moment is not left unused for long
// (every late return delays the whole account, not only this run); without one, the exponential
// backoff, but never more than one create window, by which time every request that filled KIE's
// window has left it.
func (c *Client) refusedDelay(refusals int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		ra := min(retryAfter, c.retry.MaxRetryAfter)
		return ra + rand.N(ra/20+1)
	}
	return min(c.retry.backoff(refusals, 0), c.createPer)
}

// roundDuration keeps durations in logs and errors readable.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}
