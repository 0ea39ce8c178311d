package kie

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestKeyNeverLeaks drives many error paths against a server that echoes the Authorization header
// back in every way it can, and checks that no error string and no log record holds the key.
func TestKeyNeverLeaks(t *testing.T) {
	echo := func(status int, asJSON bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			if asJSON {
				reply(status, fmt.Sprintf(`{"code":%d,"msg":%q,"data":null}`, status, "bad header "+auth))(w, r)
				return
			}
			reply(status, "<html><body>Your request: Authorization: "+auth+"</body></html>")(w, r)
		}
	}
	routes := map[string]http.HandlerFunc{
		"/api/v1/flux/kontext/generate":    echo(500, false),
		"/api/v1/flux/kontext/record-info": echo(401, true),
		"/api/v1/jobs/createTask":          echo(500, false),
		"/api/v1/jobs/recordInfo":          echo(401, true),
		"/api/v1/chat/credit":              echo(502, false),
		"/api/v1/common/download-url":      echo(422, true),
		"/api/file-stream-upload":          echo(400, true),
		"/img.png":                         echo(500, false),
	}
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/gen200/") {
			echo(200, false)(w, r) // an HTML page with status 200 answering a generate request
			return
		}
		if h, ok := routes[r.URL.Path]; ok {
			h(w, r)
			return
		}
		echo(404, true)(w, r)
	})
	logs := &logRecorder{}
	c := newTestClient(srv.URL, WithLogger(logs), WithRequestTimeout(300*time.Millisecond))
	ctx := context.Background()
	dir := t.TempDir()
	local := filepath.Join(dir, "in.png")
	if err := os.WriteFile(local, []byte("png"), 0o600); err != nil {
		t.Fatal(err)
	}

	var errs []error
	collect := func(_ any, err error) {
		if err == nil {
			t.Error("expected an error")
		}
		errs = append(errs, err)
	}
	collect(c.Generate(ctx, GenerateRequest{Prompt: "p"}))
	collect(c.GetTask(ctx, "t1"))
	collect(c.WaitTask(ctx, "t1"))
	collect(c.Credits(ctx))
	collect(c.FreshDownloadURL(ctx, srv.URL+"/img.png"))
	collect(c.UploadFile(ctx, local, "x"))
	collect(c.Download(ctx, srv.URL+"/img.png", filepath.Join(dir, "out.png")))
	collect(c.DownloadTaskImage(ctx, &Task{TaskID: "t1", ResultImageURL: srv.URL + "/img.png"}, filepath.Join(dir, "out.png")))
	collect(c.CreateMarketTask(ctx, MarketRequest{Model: "m", Input: []byte(`{"prompt":"p"}`)}))
	collect(c.GetMarketTask(ctx, "t1"))
	collect(c.WaitMarketTask(ctx, "t1"))
	collect(c.DownloadMarketResult(ctx, &MarketTask{TaskID: "t1", ResultURLs: []string{srv.URL + "/img.png"}}, 0, filepath.Join(dir, "out.png")))
	gen200 := newTestClient(srv.URL+"/gen200", WithLogger(logs))
	collect(gen200.Generate(ctx, GenerateRequest{Prompt: "p"}))
	collect(gen200.CreateMarketTask(ctx, MarketRequest{Model: "m"}))

	dead := newTestClient("http://"+closedAddr(t), WithLogger(logs))
	collect(dead.Generate(ctx, GenerateRequest{Prompt: "p"}))
	collect(dead.GetTask(ctx, "t1"))
	collect(dead.CreateMarketTask(ctx, MarketRequest{Model: "m"}))
	collect(dead.GetMarketTask(ctx, "t1"))
	short, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	collect(dead.WaitTask(short, "t1"))
	short2, cancel2 := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel2()
	collect(dead.WaitMarketTask(short2, "t1"))

	if len(errs) != 20 {
		t.Fatalf("%d errors", len(errs))
	}
	for _, err := range errs {
		if strings.Contains(err.Error(), testKey) || strings.Contains(fmt.Sprintf("%+v", err), testKey) {
			t.Errorf("error leaks the key: %v", err)
		}
	}
	all := logs.All()
	if all == "" {
		t.Fatal("nothing was logged")
	}
	if strings.Contains(all, testKey) {
		t.Errorf("log leaks the key:\n%s", all)
	}
	for _, w := range []string{"method:", "path:", "status:", "duration_ms:", "task_id:t1"} {
		if !strings.Contains(all, w) {
			t.Errorf("log lacks %q", w)
		}
	}
	if strings.Contains(all, "Authorization") && !strings.Contains(all, "[REDACTED]") {
		t.Errorf("log shows headers:\n%s", all)
	}
	for _, i := range []int{1, 9} { // GetTask, GetMarketTask: JSON answers echoing the header
		if !strings.Contains(errs[i].Error(), "[REDACTED]") {
			t.Errorf("echoed key was not visibly redacted: %v", errs[i])
		}
	}
}

// keyPieces reports whether text holds any 12-character piece of key: a key cut by a length limit counts.
func keyPieces(text, key string) bool {
	for i := 0; i+12 <= len(key); i++ {
		if strings.Contains(text, key[i:i+12]) {
			return true
		}
	}
	return false
}

// TestFailedTaskMessageNeverLeaksTheKey: a failed task whose errorMessage repeats the Authorization header
// (with the key where the message is cut to length, too) must not show the key in the task, the waiter's
// TaskFailedError or the log, also when the key was configured with a trailing newline (Terraform's file()).
func TestFailedTaskMessageNeverLeaksTheKey(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		pad       int // characters before the echoed header
	}{
		{"plain", testKey, 0},
		{"trailing-newline", testKey + "\n", 0},
		{"cut-inside-the-key", testKey, maxMessageLen - len("Authorization: Bearer ") - 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
				msg := strings.Repeat("x", tc.pad) + "Authorization: " + r.Header.Get("Authorization")
				env(200, "success", taskJSON("t1", 3, fmt.Sprintf(`"errorCode":500,"errorMessage":%q`, msg)))(w, r)
			})
			logs := &logRecorder{}
			c := New(tc.key, WithBaseURL(srv.URL), WithRetryPolicy(fastRetry()), WithFirstPollDelay(0),
				WithPollInterval(time.Millisecond, time.Millisecond), WithLogger(logs))
			ctx := context.Background()

			task, err := c.GetTask(ctx, "t1")
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Requests()[0].Header.Get("Authorization"); got != "Bearer "+testKey {
				t.Fatalf("the client sent %q, want the trimmed key", got)
			}
			_, werr := c.WaitTask(ctx, "t1")
			var failed *TaskFailedError
			if !errors.As(werr, &failed) {
				t.Fatalf("WaitTask: %v, want a TaskFailedError", werr)
			}
			for where, text := range map[string]string{
				"GetTask's ErrorMessage":          task.ErrorMessage,
				"TaskFailedError.ErrorMessage":    failed.ErrorMessage,
				"TaskFailedError.Error()":         werr.Error(),
				"TaskFailedError formatted (%+v)": fmt.Sprintf("%+v", werr),
				"log":                             logs.All(),
			} {
				if keyPieces(text, testKey) {
					t.Errorf("%s leaks the key: %q", where, text)
				}
			}
			if tc.pad == 0 && !strings.Contains(werr.Error(), "Authorization: Bearer [REDACTED]") {
				t.Errorf("the echoed key was not visibly redacted: %v", werr)
			}
			if n := len([]rune(task.ErrorMessage)); n > maxMessageLen {
				t.Errorf("the message has %d characters, more than %d", n, maxMessageLen)
			}
		})
	}
}

// TestFailedMarketTaskMessageNeverLeaksTheKey: the Market's failMsg gets the same care as Flux's errorMessage.
func TestFailedMarketTaskMessageNeverLeaksTheKey(t *testing.T) {
	for _, pad := range []int{0, maxMessageLen - len("Authorization: Bearer ") - 20} {
		srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
			msg := strings.Repeat("x", pad) + "Authorization: " + r.Header.Get("Authorization")
			env(200, "success", fmt.Sprintf(`{"taskId":"m1","state":"fail","failCode":"500","failMsg":%q}`, msg))(w, r)
		})
		logs := &logRecorder{}
		c := New(testKey+"\n", WithBaseURL(srv.URL), WithRetryPolicy(fastRetry()), WithFirstPollDelay(0),
			WithPollInterval(time.Millisecond, time.Millisecond), WithLogger(logs))
		task, err := c.GetMarketTask(context.Background(), "m1")
		if err != nil {
			t.Fatal(err)
		}
		_, werr := c.WaitMarketTask(context.Background(), "m1")
		var failed *TaskFailedError
		if !errors.As(werr, &failed) || failed.State != MarketFail {
			t.Fatalf("WaitMarketTask: %v, want a TaskFailedError", werr)
		}
		for where, text := range map[string]string{
			"GetMarketTask's FailMsg": task.FailMsg,
			"TaskFailedError.Error()": werr.Error(),
			"log":                     logs.All(),
		} {
			if keyPieces(text, testKey) {
				t.Errorf("pad %d: %s leaks the key: %q", pad, where, text)
			}
		}
		if pad == 0 && !strings.Contains(werr.Error(), "task m1 ended with status fail, fail code 500: Authorization: Bearer [REDACTED]") {
			t.Errorf("the echoed key was not visibly redacted: %v", werr)
		}
	}
}
