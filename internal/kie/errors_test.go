package kie

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAPIErrorMessages(t *testing.T) {
	tests := []struct {
		err  *APIError
		want []string
	}{
		{&APIError{Op: "generate", HTTPStatus: 401, Code: 401}, []string{"kie generate", "invalid or missing API key", "code 401"}},
		{&APIError{Op: "generate", HTTPStatus: 200, Code: 402, Message: "credits low"}, []string{"insufficient credits: top up your KIE account", "credits low", "HTTP 200"}},
		{&APIError{Op: "record-info", TaskID: "t-9", HTTPStatus: 429, Code: 429, RetryAfter: 3 * time.Second}, []string{"task t-9", "rate limited", "retry after 3s"}},
		{&APIError{Op: "generate", HTTPStatus: 200, Code: 455}, []string{"service under maintenance"}},
		{&APIError{Op: "generate", HTTPStatus: 422, Code: 422, Message: "aspectRatio is invalid"}, []string{"validation error: aspectRatio is invalid"}},
		{&APIError{Op: "record-info", TaskID: "x", HTTPStatus: 200, Code: 404}, []string{"not found"}},
		{&APIError{Op: "credit", HTTPStatus: 502, Code: 502, Excerpt: "Bad Gateway"}, []string{"code 502", `non-JSON answer: "Bad Gateway"`}},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q lacks %q", msg, w)
			}
		}
	}
}

func TestErrorPredicates(t *testing.T) {
	wrap := func(code int) error {
		return fmt.Errorf("outer: %w", &UncertainCreateError{Err: &APIError{Op: "generate", Code: code}})
	}
	checks := []struct {
		name string
		fn   func(error) bool
		yes  []int
	}{
		{"IsUnauthorized", IsUnauthorized, []int{401}},
		{"IsInsufficientCredits", IsInsufficientCredits, []int{402}},
		{"IsNotFound", IsNotFound, []int{404}},
		{"IsRateLimited", IsRateLimited, []int{429}},
		{"IsValidation", IsValidation, []int{400, 422}},
	}
	for _, ch := range checks {
		for _, code := range []int{400, 401, 402, 404, 422, 429, 455, 500} {
			want := false
			for _, y := range ch.yes {
				want = want || y == code
			}
			if got := ch.fn(wrap(code)); got != want {
				t.Errorf("%s(code %d) = %v, want %v", ch.name, code, got, want)
			}
		}
		if ch.fn(errors.New("plain")) || ch.fn(nil) {
			t.Errorf("%s true for a non-API error", ch.name)
		}
	}
	if !IsUnauthorized(fmt.Errorf("x: %w", ErrMissingAPIKey)) {
		t.Error("a missing key should count as unauthorized")
	}
}

func TestUncertainCreateError(t *testing.T) {
	inner := &APIError{Op: "generate", HTTPStatus: 500, Code: 500}
	e := &UncertainCreateError{Err: inner}
	msg := e.Error()
	for _, w := range []string{"paid task may have been created", "not retried", "paying twice", "server error"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
	var got *APIError
	if !errors.As(e, &got) || got != inner {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestTaskFailedAndLinkExpiredErrors(t *testing.T) {
	e := &TaskFailedError{TaskID: "task-7", Flag: FlagGenerateFailed, ErrorCode: 400, ErrorMessage: "content flagged"}
	for _, w := range []string{"task-7", "GENERATE_FAILED", "400", "content flagged"} {
		if !strings.Contains(e.Error(), w) {
			t.Errorf("%q lacks %q", e.Error(), w)
		}
	}
	l := &LinkExpiredError{HTTPStatus: 410}
	if !strings.Contains(l.Error(), "410") || strings.Contains(l.Error(), "?") {
		t.Errorf("LinkExpiredError = %q", l.Error())
	}
}

func TestSuccessFlag(t *testing.T) {
	tests := []struct {
		f        SuccessFlag
		s        string
		terminal bool
	}{
		{FlagGenerating, "GENERATING", false},
		{FlagSuccess, "SUCCESS", true},
		{FlagCreateFailed, "CREATE_TASK_FAILED", true},
		{FlagGenerateFailed, "GENERATE_FAILED", true},
		{SuccessFlag(9), "UNKNOWN(9)", false},
		{SuccessFlag(-1), "UNKNOWN(-1)", false},
	}
	for _, tt := range tests {
		if tt.f.String() != tt.s || tt.f.Terminal() != tt.terminal {
			t.Errorf("flag %d: %q %v", int(tt.f), tt.f.String(), tt.f.Terminal())
		}
	}
}
