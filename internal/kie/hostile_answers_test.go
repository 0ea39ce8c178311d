package kie

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A CDN or proxy may answer a download with status 200 and an error page, or nothing at all. That is not
// the image: it must be retried, never written to disk or reported as the image.
func TestDownloadRefusesAnswersThatAreNotImages(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		wantText string
	}{
		{"html error page", reply(200, "<html><body><h1>502 Bad Gateway</h1><p>upstream error</p></body></html>"),
			`looks like text/html; charset=utf-8, sent as "text/html"): "502 Bad Gateway upstream error"`},
		{"json error", reply(200, `{"code":404,"msg":"file not found"}`), "looks like text/plain"},
		{"empty body", reply(200, ""), "the answer is empty, not an image"},
		{"binary sent as text", reply(200, "\x00\x01\x02\x03binary", "Content-Type", "text/plain"), `sent as "text/plain"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cdn := newScriptServer(t, tt.handler)
			c := newTestClient("http://api.invalid")
			dir := t.TempDir()
			dest := filepath.Join(dir, "img.png")
			if err := os.WriteFile(dest, []byte("OLD"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := c.Download(context.Background(), cdn.URL+"/img.png", dest)
			if err == nil || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantText)
			}
			if n := cdn.Count(); n != fastRetry().MaxAttempts {
				t.Errorf("%d requests, want %d (retried like a transient fault)", n, fastRetry().MaxAttempts)
			}
			if got, _ := os.ReadFile(dest); string(got) != "OLD" {
				t.Errorf("destination overwritten with %q", got)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("folder holds %v", names)
			}
		})
	}
}

func TestDownloadAcceptsImagesGoCannotName(t *testing.T) {
	body := "\x00\x00\x00\x1cftypavif" + strings.Repeat("\x01", 600)
	for _, ct := range []string{"image/avif", "application/octet-stream", "binary/octet-stream"} {
		cdn := newScriptServer(t, reply(200, body, "Content-Type", ct))
		dest := filepath.Join(t.TempDir(), "img.avif")
		res, err := newTestClient("http://api.invalid").Download(context.Background(), cdn.URL+"/x", dest)
		if err != nil || res.Size != int64(len(body)) {
			t.Errorf("Content-Type %q: %v %+v", ct, err, res)
		}
	}
}

// A server that echoes the key inside a long message must not leak the part of the key that survives
// when the message is cut to its maximum length.
func TestEchoedKeyIsRedactedBeforeMessagesAreCut(t *testing.T) {
	for _, pad := range []int{maxMessageLen - 20, maxExcerptLen - 20} {
		filler := strings.Repeat("y", pad) + " "
		srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
			key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			switch r.URL.Path {
			case "/api/v1/chat/credit": // JSON: the message is cut at maxMessageLen
				reply(401, `{"code":401,"msg":"`+filler+key+` is not a valid key"}`)(w, r)
			default: // HTML: the excerpt is cut at maxExcerptLen
				reply(403, "<html><body>"+filler+key+" is blocked</body></html>")(w, r)
			}
		})
		c := newTestClient(srv.URL, WithRequestTimeout(time.Second))
		_, err1 := c.Credits(context.Background())
		_, err2 := c.Generate(context.Background(), GenerateRequest{Prompt: "p"})
		for _, err := range []error{err1, err2} {
			if err == nil {
				t.Fatal("expected an error")
			}
			if leaked := longestKeyPart(err.Error(), testKey); leaked >= 6 {
				t.Errorf("pad %d: %d characters of the key survive in %q", pad, leaked, err)
			}
		}
		var e *APIError
		if !errors.As(err1, &e) || e.Code != 401 {
			t.Errorf("err1 %v", err1)
		}
	}
}

// longestKeyPart is the length of the longest part of key (a substring) that occurs in s.
func longestKeyPart(s, key string) int {
	best := 0
	for i := range key {
		for j := len(key); j > i+best; j-- {
			if strings.Contains(s, key[i:j]) {
				best = j - i
				break
			}
		}
	}
	return best
}

// A generate request that stays refused (429 or 455) through every retry created nothing: callers can
// tell so, and tell it from an uncertain outcome.
func TestRefusedForNowAfterRetries(t *testing.T) {
	for _, code := range []int{429, 455} {
		srv := newScriptServer(t, env(code, "busy", "null"))
		p := fastRetry()
		p.RefusedFor = 20 * time.Millisecond
		_, err := newTestClient(srv.URL, WithRetryPolicy(p)).Generate(context.Background(), GenerateRequest{Prompt: "p"})
		var uncertain *UncertainCreateError
		var refused *RefusedError
		if !IsRefusedForNow(err) || errors.As(err, &uncertain) || !errors.As(err, &refused) || srv.Count() != refused.Refusals {
			t.Errorf("code %d: refused %v, %d requests: %v", code, IsRefusedForNow(err), srv.Count(), err)
		}
	}
	for _, err := range []error{&APIError{Code: 500}, &APIError{Code: 401}, &UncertainCreateError{Err: &APIError{Code: 502}}, errors.New("x")} {
		if IsRefusedForNow(err) {
			t.Errorf("%v counted as refused", err)
		}
	}
}

// FuzzEchoedKeyNeverSurvives puts the key anywhere in a JSON message or an HTML page of any length: no
// piece of it of 8 characters or more may reach the error, unless the fuzzer wrote that piece itself.
func FuzzEchoedKeyNeverSurvives(f *testing.F) {
	f.Add("bad key ", " rejected", 401)
	f.Add(strings.Repeat("y", maxMessageLen-10), "", 403)
	f.Add(strings.Repeat("<b>x</b>", 40), "</p>", 502)
	f.Add("", "", 200)
	c := New(testKey)
	cl := &call{op: "generate"}
	f.Fuzz(func(t *testing.T, before, after string, status int) {
		status = 200 + (status%400+400)%400 // 200..599
		msg, _ := json.Marshal(before + testKey + after)
		bodies := [][]byte{
			[]byte(`{"code":401,"msg":` + string(msg) + `}`),
			[]byte("<html><body>" + before + testKey + after + "</body></html>"),
		}
		for _, body := range bodies {
			_, _, e := c.judge(cl, status, http.Header{}, body)
			if e == nil {
				continue
			}
			text := e.Error()
			for n := len(testKey); n >= 8; n-- {
				for i := 0; i+n <= len(testKey); i++ {
					piece := testKey[i : i+n]
					if strings.Contains(text, piece) && !strings.Contains(before+after, piece) {
						t.Fatalf("%q of the key survives in %q", piece, text)
					}
				}
			}
		}
	})
}
