package kie

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ErrResultImageGone is wrapped by DownloadTaskImage when every way to fetch the image failed for good.
var ErrResultImageGone = errors.New("the generated image can no longer be fetched: its link expired and could " +
	"not be refreshed; regenerating it (terraform apply -replace=<resource address>) is the way to get a new " +
	"one, and that costs a new paid generation")

// APIError is an answer of the API (or a download host) that is not a success.
type APIError struct {
	Op         string // "generate", "record-info", "createTask", "recordInfo", "credit", "download-url", "upload", "download"
	TaskID     string
	HTTPStatus int
	Code       int    // body code when a JSON envelope was present, else the HTTP status
	Message    string // the API's msg, trimmed and capped
	Excerpt    string // short safe text of a non-JSON body
	RetryAfter time.Duration

	malformed   bool // a success status whose body could not be used
	unknownTask bool // KIE has no record of the task (Market's 422 "recordInfo is null")
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("kie ")
	b.WriteString(e.Op)
	if e.TaskID != "" {
		fmt.Fprintf(&b, " (task %s)", e.TaskID)
	}
	b.WriteString(": ")
	switch {
	case e.malformed:
		b.WriteString("unusable answer")
	case e.unknownTask:
		b.WriteString("not found: KIE has no record of this task")
	default:
		b.WriteString(codeMeaning(e.Code))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	fmt.Fprintf(&b, " (code %d", e.Code)
	if e.HTTPStatus != 0 && e.HTTPStatus != e.Code {
		fmt.Fprintf(&b, ", HTTP %d", e.HTTPStatus)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, ", retry after %s", e.RetryAfter)
	}
	b.WriteString(")")
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; non-JSON answer: %q", e.Excerpt)
	} else if e.Message == "" && (e.malformed || e.HTTPStatus >= 300) {
		b.WriteString("; the answer had no usable body")
	}
	return b.String()
}

func codeMeaning(code int) string {
	switch code {
	case 400:
		return "bad request (or content flagged)"
	case 401:
		return "invalid or missing API key"
	case 402:
		return "insufficient credits: top up your KIE account"
	case 403:
		return "forbidden (blocked by the API's CDN or not allowed)"
	case 404:
		return "not found"
	case 422:
		return "validation error"
	case 429:
		return "rate limited"
	case 433:
		return "the API key is over its usage limit (a sub-key's hourly, daily or total cap): raise the key's limit in the KIE settings or use another key"
	case 455:
		return "service under maintenance: KIE accepts no new work for now; try again later"
	case 500:
		return "server error"
	case 501:
		return "generation failed: KIE could not produce a result; only a new task can"
	case 505:
		return "feature disabled: KIE has switched this model or feature off"
	}
	if t := http.StatusText(code); t != "" {
		return strings.ToLower(t)
	}
	return "unexpected answer"
}

func apiErrorCode(err error) (int, bool) {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// IsUnauthorized reports a rejected or missing API key.
func IsUnauthorized(err error) bool {
	if errors.Is(err, ErrMissingAPIKey) {
		return true
	}
	c, ok := apiErrorCode(err)
	return ok && c == 401
}

// IsInsufficientCredits reports an account without enough credits.
func IsInsufficientCredits(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && c == 402
}

// IsNotFound reports an unknown task or resource: a 404, or the Market's 422 "recordInfo is null".
func IsNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == 404 || e.unknownTask)
}

// IsRateLimited reports a 429 answer.
func IsRateLimited(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && c == 429
}

// IsRefusedForNow reports a request the API turned away before accepting it — rate limited (429) or under
// maintenance (455) — even after the client's retries: nothing was created or charged, and the same
// request may succeed later.
func IsRefusedForNow(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && classifyCode(c) == failRefused
}

// IsValidation reports a refused request (400 or 422), not an unknown task.
func IsValidation(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == 400 || e.Code == 422) && !e.unknownTask
}

// IsUsageLimited reports an API key over its own usage cap (433): the account may have credits, the key
// may not spend them.
func IsUsageLimited(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && c == 433
}

// IsFeatureDisabled reports a model or feature that KIE has switched off (505).
func IsFeatureDisabled(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && c == 505
}

// RefusedError is a generation request that KIE refused for now (429 rate limited, 455 maintenance)
// every time it was sent, until the caller's time ran out. Nothing was created or charged.
type RefusedError struct {
	Op       string        // "generate" or "createTask"; empty reads as "generate"
	Refusals int           // how many times KIE refused the request
	Waited   time.Duration // from the first attempt until giving up
	Last     error         // the last refusal, an *APIError
	Cause    error         // the context's error when it ended a wait, else nil (no time for another attempt)
}

func (e *RefusedError) Error() string {
	times := "once"
	if e.Refusals != 1 {
		times = fmt.Sprintf("%d times", e.Refusals)
	}
	why := "no time was left for another attempt"
	if e.Cause != nil {
		why = fmt.Sprintf("the wait for another attempt ended: %v", e.Cause)
	}
	return fmt.Sprintf("kie %s: KIE refused the request %s over %s and %s; no task was created; last answer: %v",
		createOp(e.Op), times, roundDuration(e.Waited), why, e.Last)
}

func (e *RefusedError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Last, e.Cause} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// UncertainCreateError means a create request (Flux generate or Market createTask) may or may not have
// created a paid task.
type UncertainCreateError struct {
	Op  string // "generate" or "createTask"; empty reads as "generate"
	Err error
}

func (e *UncertainCreateError) Error() string {
	return fmt.Sprintf("the outcome of the %s request is unknown: a paid task may have been created; "+
		"the request was not retried to avoid paying twice (check the task list in your KIE account before "+
		"trying again): %v", createOp(e.Op), e.Err)
}

func createOp(op string) string {
	if op == "" {
		return "generate"
	}
	return op
}

func (e *UncertainCreateError) Unwrap() error { return e.Err }

// TaskFailedError is a task that failed: a Flux task with CREATE_TASK_FAILED or GENERATE_FAILED (Flag,
// ErrorCode), or a Market task in state fail (State, FailCode, Model). ErrorMessage is KIE's message
// (errorMessage or failMsg), redacted.
type TaskFailedError struct {
	TaskID       string
	Flag         SuccessFlag
	ErrorCode    int
	ErrorMessage string

	State    MarketState // set for a Market task only
	FailCode string
	Model    string
}

func (e *TaskFailedError) Error() string {
	var msg string
	if e.State != "" {
		msg = fmt.Sprintf("task %s", e.TaskID)
		if e.Model != "" {
			msg += fmt.Sprintf(" (model %s)", e.Model)
		}
		msg += fmt.Sprintf(" ended with status %s", e.State)
		if e.FailCode != "" {
			msg += fmt.Sprintf(", fail code %s", e.FailCode)
		}
	} else {
		msg = fmt.Sprintf("task %s ended with status %s", e.TaskID, e.Flag)
		if e.ErrorCode != 0 {
			msg += fmt.Sprintf(", error code %d", e.ErrorCode)
		}
	}
	if e.ErrorMessage != "" {
		msg += ": " + e.ErrorMessage
	} else {
		msg += " (no error message)"
	}
	return msg
}

// LinkExpiredError is a result link that answered 403, 404 or 410.
type LinkExpiredError struct {
	HTTPStatus int
}

func (e *LinkExpiredError) Error() string {
	return fmt.Sprintf("the image link has expired or is no longer available (HTTP %d)", e.HTTPStatus)
}

// IsForbidden reports a key that is valid but may not read or do what was asked (403).
func IsForbidden(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && c == 403
}
