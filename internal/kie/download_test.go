package kie

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// pngBytes is the test image: a PNG signature and 55 kB of filler.
func pngBytes() []byte {
	return []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("pixel-data-", 5000))
}

func servePNG(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(pngBytes())
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// dirNames lists a folder, to prove no temporary file was left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestDownloadWritesAtomically(t *testing.T) {
	cdn := newScriptServer(t, servePNG)
	c := newTestClient("http://api.invalid")
	dest := filepath.Join(t.TempDir(), "a", "b", "img.png")
	res, err := c.Download(context.Background(), cdn.URL+"/img.png?sig=secret", dest)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dest)
	if err != nil || string(got) != string(pngBytes()) {
		t.Fatalf("file content differs: %v", err)
	}
	if res.Path != dest || res.SHA256 != sha(pngBytes()) || res.Size != int64(len(pngBytes())) || res.ContentType != "image/png" {
		t.Errorf("result %+v", res)
	}
	info, _ := os.Stat(dest)
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", info.Mode())
	}
	parent, _ := os.Stat(filepath.Dir(dest))
	if parent.Mode().Perm()&0o755 != 0o755 {
		t.Errorf("parent mode %v", parent.Mode())
	}
	if names := dirNames(t, filepath.Dir(dest)); !slices.Equal(names, []string{"img.png"}) {
		t.Errorf("folder holds %v", names)
	}
	if hash, size, err := localfile.Hash(dest); err != nil || hash != res.SHA256 || size != res.Size {
		t.Errorf("HashFile = %s %d %v", hash, size, err)
	}
	if _, _, err := localfile.Hash(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("HashFile of a missing file succeeded")
	}
}

// rawResponse answers with a hand-written head and body and then drops the connection.
func rawResponse(head, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString(head + "\r\n\r\n" + body)
		_ = buf.Flush()
	}
}

func TestDownloadFailuresLeaveNoTrace(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		maxBytes int64
		wantReqs int
		// fakeNet runs the case in a synctest bubble on the in-memory network, with a 150 ms request
		// timeout: there it passes only once client and server both wait, so never before the
		// headers are read, however loaded the machine. The other cases never want the timeout, so on
		// TCP it is a minute that a loaded machine cannot run out.
		fakeNet bool
		check   func(t *testing.T, err error)
	}{
		{
			name:     "truncated body",
			handler:  rawResponse("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100", strings.Repeat("x", 50)),
			wantReqs: 4,
		},
		{
			name: "fewer bytes than Content-Length",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", "1000")
				_, _ = w.Write([]byte("short"))
			},
			wantReqs: 4,
		},
		{
			name:     "reset mid-body",
			handler:  rawResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "5\r\nhello\r\n"),
			wantReqs: 4,
		},
		{
			name:     "over the size cap by Content-Length",
			handler:  servePNG,
			maxBytes: 1000,
			wantReqs: 1,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "1000-byte limit") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "over the size cap while streaming",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				for range 10 {
					_, _ = w.Write(pngBytes()[:500])
					w.(http.Flusher).Flush() // no Content-Length: chunked
				}
			},
			maxBytes: 1000,
			wantReqs: 1,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "1000-byte limit") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name:     "expired link",
			handler:  reply(404, "<Error>NoSuchKey</Error>"),
			wantReqs: 1,
			check: func(t *testing.T, err error) {
				var e *LinkExpiredError
				if !errors.As(err, &e) || e.HTTPStatus != 404 {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name:     "server errors until attempts run out",
			handler:  reply(500, "boom"),
			wantReqs: 4,
			check: func(t *testing.T, err error) {
				var e *APIError
				if !errors.As(err, &e) || e.Op != "download" || e.HTTPStatus != 500 {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name: "stalled body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				_, _ = w.Write([]byte("start"))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
			},
			wantReqs: 4,
			fakeNet:  true,
			check: func(t *testing.T, err error) {
				if !strings.Contains(err.Error(), "no progress within the request timeout") {
					t.Errorf("got %v", err)
				}
			},
		},
	}
	for _, tt := range tests {
		run := func(t *testing.T) {
			var cdn *scriptServer
			timeout := time.Minute
			if tt.fakeNet {
				cdn, timeout = newPipeScriptServer(t, tt.handler), 150*time.Millisecond
			} else {
				cdn = newScriptServer(t, tt.handler)
			}
			opts := []Option{cdn.Via(), WithRequestTimeout(timeout)}
			if tt.maxBytes > 0 {
				opts = append(opts, WithMaxDownloadBytes(tt.maxBytes))
			}
			c := newTestClient("http://api.invalid", opts...)
			dir := t.TempDir()
			dest := filepath.Join(dir, "img.png")
			if err := os.WriteFile(dest, []byte("OLD"), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := c.Download(context.Background(), cdn.URL+"/img.png?X-Amz-Signature=topsecret", dest)
			if err == nil {
				t.Fatal("download succeeded")
			}
			if strings.Contains(err.Error(), "topsecret") {
				t.Errorf("error leaks the query string: %v", err)
			}
			if got, _ := os.ReadFile(dest); string(got) != "OLD" {
				t.Errorf("destination changed to %q", got)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"img.png"}) {
				t.Errorf("folder holds %v", names)
			}
			if cdn.Count() != tt.wantReqs {
				t.Errorf("%d requests, want %d", cdn.Count(), tt.wantReqs)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		}
		t.Run(tt.name, func(t *testing.T) {
			if tt.fakeNet {
				synctest.Test(t, run)
			} else {
				run(t)
			}
		})
	}
}

func TestDownloadRetriesTransientFaults(t *testing.T) {
	for _, first := range []http.HandlerFunc{
		reply(503, "busy"),
		reply(429, "slow", "Retry-After", "0"),
		rawResponse("HTTP/1.1 200 OK\r\nContent-Length: 100", "cut"),
		resetConn,
	} {
		cdn := newScriptServer(t, first, servePNG)
		c := newTestClient("http://api.invalid")
		dest := filepath.Join(t.TempDir(), "img.png")
		res, err := c.Download(context.Background(), cdn.URL+"/img.png", dest)
		if err != nil || res.SHA256 != sha(pngBytes()) || cdn.Count() != 2 {
			t.Errorf("Download = %+v, %v after %d requests", res, err, cdn.Count())
		}
	}
}

func TestDownloadSendsKeyOnlyToAPIHost(t *testing.T) {
	cdn := newScriptServer(t, servePNG)
	api := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, cdn.URL+"/img.png", http.StatusFound)
			return
		}
		servePNG(w, r)
	})
	c := newTestClient(api.URL)
	dir := t.TempDir()
	for _, u := range []string{cdn.URL + "/img.png", api.URL + "/img.png", api.URL + "/redirect"} {
		if _, err := c.Download(context.Background(), u, filepath.Join(dir, "x.png")); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range cdn.Requests() {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("CDN received Authorization %q", h)
		}
		if r.Header.Get("User-Agent") == "" {
			t.Error("CDN request without User-Agent")
		}
	}
	if len(cdn.Requests()) != 2 {
		t.Errorf("CDN saw %d requests", len(cdn.Requests()))
	}
	for _, r := range api.Requests() {
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("API host request %s without the key", r.Path)
		}
	}
}

func TestDownloadRejectsBadInput(t *testing.T) {
	c := newTestClient("http://api.invalid")
	dest := filepath.Join(t.TempDir(), "x.png")
	for _, u := range []string{"", "ftp://h/x", "file:///etc/passwd", "://bad", "https:///nohost"} {
		if _, err := c.Download(context.Background(), u, dest); err == nil {
			t.Errorf("Download(%q) accepted", u)
		}
	}
	if _, err := c.Download(context.Background(), "http://127.0.0.1:1/x", " "); err == nil {
		t.Error("empty destination accepted")
	}
}

// imageHosts is an API (download-url, record-info) and a CDN whose links can be made to expire.
type imageHosts struct {
	api, cdn   *scriptServer
	live       map[string]bool // CDN paths that still serve
	freshPath  string          // what download-url hands out ("" answers 422)
	freshCode  int             // download-url body code when not 200
	recordPath string          // result path that record-info reports
}

func newImageHosts(t *testing.T, h *imageHosts) *imageHosts {
	h.cdn = newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		if h.live[r.URL.Path] {
			servePNG(w, r)
			return
		}
		w.WriteHeader(http.StatusForbidden)
	})
	h.api = newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/common/download-url":
			switch {
			case h.freshCode != 0:
				env(h.freshCode, "refresh failed", "null")(w, r)
			case h.freshPath == "":
				env(422, "url is not a KIE result", "null")(w, r)
			default:
				env(200, "success", `"`+h.cdn.URL+h.freshPath+`"`)(w, r)
			}
		case "/api/v1/flux/kontext/record-info":
			env(200, "success", taskJSON("t1", 1, `"response":{"resultImageUrl":"`+h.cdn.URL+h.recordPath+`"}`))(w, r)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	return h
}

func TestDownloadTaskImageRecovery(t *testing.T) {
	tests := []struct {
		name     string
		hosts    imageHosts
		wantOK   bool
		wantGone bool
	}{
		{name: "link still valid", hosts: imageHosts{live: map[string]bool{"/old.png": true}}, wantOK: true},
		{name: "fresh link", hosts: imageHosts{live: map[string]bool{"/fresh.png": true}, freshPath: "/fresh.png"}, wantOK: true},
		{name: "fresh link expired too, task has a new one", hosts: imageHosts{live: map[string]bool{"/new.png": true}, freshPath: "/fresh.png", recordPath: "/new.png"}, wantOK: true},
		{name: "refresh refused, task has a new one", hosts: imageHosts{live: map[string]bool{"/new.png": true}, recordPath: "/new.png"}, wantOK: true},
		{name: "everything expired", hosts: imageHosts{freshPath: "/fresh.png", recordPath: "/old.png"}, wantGone: true},
		{name: "refresh refused and task link expired", hosts: imageHosts{recordPath: "/other.png"}, wantGone: true},
		{name: "refresh failing transiently is not gone", hosts: imageHosts{freshCode: 500, recordPath: "/old.png"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newImageHosts(t, &tt.hosts)
			c := newTestClient(h.api.URL)
			dir := t.TempDir()
			dest := filepath.Join(dir, "img.png")
			task := &Task{TaskID: "t1", SuccessFlag: FlagSuccess, ResultImageURL: h.cdn.URL + "/old.png"}
			res, err := c.DownloadTaskImage(context.Background(), task, dest)
			if tt.wantOK {
				if err != nil || res.SHA256 != sha(pngBytes()) {
					t.Fatalf("DownloadTaskImage = %+v, %v", res, err)
				}
				return
			}
			if err == nil {
				t.Fatal("DownloadTaskImage succeeded")
			}
			if got := errors.Is(err, ErrResultImageGone); got != tt.wantGone {
				t.Errorf("gone = %v, want %v: %v", got, tt.wantGone, err)
			}
			if tt.wantGone && (!strings.Contains(err.Error(), "terraform apply -replace") || !strings.Contains(err.Error(), "t1")) {
				t.Errorf("message lacks the way out: %v", err)
			}
			if !tt.wantGone && !strings.Contains(err.Error(), "try again later") {
				t.Errorf("message: %v", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("folder holds %v", names)
			}
		})
	}
}

func TestDownloadTaskImageAsksForFreshLinkOfTheOldURL(t *testing.T) {
	h := newImageHosts(t, &imageHosts{live: map[string]bool{"/fresh.png": true}, freshPath: "/fresh.png"})
	c := newTestClient(h.api.URL)
	old := h.cdn.URL + "/old.png?sig=abc"
	if _, err := c.DownloadTaskImage(context.Background(), &Task{TaskID: "t1", ResultImageURL: old}, filepath.Join(t.TempDir(), "i.png")); err != nil {
		t.Fatal(err)
	}
	reqs := h.api.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodPost || !strings.Contains(reqs[0].Body, `"url":"`+old+`"`) {
		t.Errorf("API requests %+v", reqs)
	}
	if _, err := c.DownloadTaskImage(context.Background(), nil, "x"); err == nil {
		t.Error("nil task accepted")
	}
}
