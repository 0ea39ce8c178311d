package kie

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestDecodeEnvelope(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantOK   bool
		wantCode int
		hasCode  bool
		wantMsg  string
		wantData string
	}{
		{"plain", `{"code":200,"msg":"success","data":{"taskId":"t1"}}`, true, 200, true, "success", `{"taskId":"t1"}`},
		{"code as string", `{"code":"402","msg":"credits"}`, true, 402, true, "credits", ""},
		{"code as float", `{"code":200.0,"data":1}`, true, 200, true, "", "1"},
		{"code null", `{"code":null,"msg":"x"}`, true, 0, false, "x", ""},
		{"code not numeric", `{"code":"oops"}`, true, 0, false, "", ""},
		{"no code", `{"msg":"hello","data":[1]}`, true, 0, false, "hello", "[1]"},
		{"data null", `{"code":200,"msg":"ok","data":null}`, true, 200, true, "ok", ""},
		{"msg not a string", `{"code":500,"msg":{"a":1}}`, true, 500, true, `{"a":1}`, ""},
		{"message key", `{"code":400,"message":"bad"}`, true, 400, true, "bad", ""},
		{"leading whitespace", "  \n{\"code\":200}", true, 200, true, "", ""},
		{"array", `[1,2]`, false, 0, false, "", ""},
		{"html", `<html><body>Error 1010</body></html>`, false, 0, false, "", ""},
		{"empty", ``, false, 0, false, "", ""},
		{"truncated", `{"code":200,"msg":"succ`, false, 0, false, "", ""},
		{"string", `"ok"`, false, 0, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := decodeEnvelope([]byte(tt.body))
			if ok != tt.wantOK || e.Code != tt.wantCode || e.HasCode != tt.hasCode || e.Msg != tt.wantMsg || string(e.Data) != tt.wantData {
				t.Fatalf("decodeEnvelope(%q) = ok %v code %d has %v msg %q data %q", tt.body, ok, e.Code, e.HasCode, e.Msg, e.Data)
			}
		})
	}
}

func TestEnvelopeRuleThroughClient(t *testing.T) {
	huge := `{"code":200,"msg":"` + strings.Repeat("x", 2<<20) + `","data":1}`
	longHTML := "<html><head><style>body{color:red}</style><script>var k=1;</script><title>Error 1010</title></head><body>" +
		strings.Repeat("Access denied\x01\x02 ", 100) + "</body></html>"
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantCredit float64
		check      func(t *testing.T, e *APIError)
	}{
		{name: "body code wins over HTTP 200", handler: env(402, "insufficient credits", "null"), check: func(t *testing.T, e *APIError) {
			if !IsInsufficientCredits(e) || e.HTTPStatus != 200 || !strings.Contains(e.Error(), "top up your KIE account") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "body code wins over HTTP 500", handler: reply(500, `{"code":200,"msg":"ok","data":7}`), wantCredit: 7},
		{name: "numeric string data", handler: env(200, "ok", `"12.5"`), wantCredit: 12.5},
		{name: "string code", handler: reply(200, `{"code":"200","msg":"ok","data":3}`), wantCredit: 3},
		{name: "html 403", handler: reply(403, longHTML), check: func(t *testing.T, e *APIError) {
			if e.HTTPStatus != 403 || e.Code != 403 || !strings.Contains(e.Excerpt, "Error 1010") {
				t.Errorf("got %+v", e)
			}
			if strings.ContainsAny(e.Excerpt, "<>\x01\x02") || strings.Contains(e.Excerpt, "color:red") || strings.Contains(e.Excerpt, "var k") {
				t.Errorf("excerpt not sanitized: %q", e.Excerpt)
			}
			if n := utf8.RuneCountInString(e.Excerpt); n > maxExcerptLen+1 {
				t.Errorf("excerpt has %d runes", n)
			}
			if !strings.Contains(e.Error(), "HTTP") && !strings.Contains(e.Error(), "403") {
				t.Errorf("error lacks status: %v", e)
			}
		}},
		{name: "html 502", handler: reply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"), check: func(t *testing.T, e *APIError) {
			if e.HTTPStatus != 502 || !strings.Contains(e.Error(), "502 Bad Gateway") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "empty 504", handler: reply(504, ""), check: func(t *testing.T, e *APIError) {
			if e.HTTPStatus != 504 || !strings.Contains(e.Error(), "no usable body") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "empty 200", handler: reply(200, ""), check: func(t *testing.T, e *APIError) {
			if !e.malformed || !strings.Contains(e.Error(), "empty") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "truncated json", handler: reply(200, `{"code":200,"msg":"succ`), check: func(t *testing.T, e *APIError) {
			if !e.malformed || !strings.Contains(e.Error(), "not a JSON object") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "oversized", handler: reply(200, huge), check: func(t *testing.T, e *APIError) {
			if !e.malformed || !strings.Contains(e.Error(), "larger than 1 MiB") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "null data", handler: env(200, "ok", "null"), check: func(t *testing.T, e *APIError) {
			if !e.malformed {
				t.Errorf("got %v", e)
			}
		}},
		{name: "validation", handler: reply(422, `{"code":422,"msg":"  prompt is required  "}`), check: func(t *testing.T, e *APIError) {
			if !IsValidation(e) || !strings.Contains(e.Error(), "validation error: prompt is required") {
				t.Errorf("got %v", e)
			}
		}},
		{name: "unauthorized", handler: reply(401, `{"code":401,"msg":"You do not have access permissions"}`), check: func(t *testing.T, e *APIError) {
			if !IsUnauthorized(e) || !strings.Contains(e.Error(), "invalid or missing API key") {
				t.Errorf("got %v", e)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.handler)
			// One attempt, so a request timeout would replace the answer under test: no case wants
			// one, and newTestClient's 2 s is within reach of a loaded machine (the oversized case
			// sends 2 MiB under the race detector). A minute is not.
			c := newTestClient(srv.URL, WithRetryPolicy(RetryPolicy{MaxAttempts: 1}), WithRequestTimeout(time.Minute))
			got, err := c.Credits(context.Background())
			if tt.check == nil {
				if err != nil || got != tt.wantCredit {
					t.Fatalf("Credits = %v, %v; want %v", got, err, tt.wantCredit)
				}
				return
			}
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("want *APIError, got %T %v", err, err)
			}
			tt.check(t, e)
		})
	}
}

func TestSafeExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"<p>a</p><p>b</p>", "a b"},
		{"<SCRIPT>evil()</SCRIPT>ok", "ok"},
		{"line1\r\nline2\ttab\x00nul", "line1 line2 tab nul"},
		{"<unterminated", ""},
		{"bad utf8 \xff\xfe end", "bad utf8 end"},
	}
	for _, tt := range tests {
		if got := safeExcerpt([]byte(tt.in)); got != tt.want {
			t.Errorf("safeExcerpt(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	long := safeExcerpt([]byte(strings.Repeat("é", 1000)))
	if utf8.RuneCountInString(long) != maxExcerptLen+1 || !strings.HasSuffix(long, "…") {
		t.Errorf("long excerpt not capped: %d runes", utf8.RuneCountInString(long))
	}
}

func TestLenientScalars(t *testing.T) {
	if n, ok := rawInt([]byte(`"42"`)); !ok || n != 42 {
		t.Errorf("rawInt string: %d %v", n, ok)
	}
	if _, ok := rawInt([]byte(`4.5`)); ok {
		t.Error("rawInt accepted 4.5")
	}
	if _, ok := rawInt([]byte(`null`)); ok {
		t.Error("rawInt accepted null")
	}
	for in, want := range map[string]bool{`true`: true, `"false"`: false, `"1"`: true, `0`: false, `"yes"`: true} {
		if got, ok := rawBool([]byte(in)); !ok || got != want {
			t.Errorf("rawBool(%s) = %v %v", in, got, ok)
		}
	}
	if _, ok := rawBool([]byte(`"maybe"`)); ok {
		t.Error("rawBool accepted maybe")
	}
	if got := rawString([]byte(`12`)); got != "12" {
		t.Errorf("rawString number = %q", got)
	}
}
