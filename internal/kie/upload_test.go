package kie

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// uploadForm is what the upload server parsed out of one request.
type uploadForm struct {
	auth, ua, contentType   string
	uploadPath, fileName    string
	partName, partType, got string
}

func uploadServer(t *testing.T, failFirst int) (*scriptServer, func() []uploadForm) {
	var mu sync.Mutex
	var forms []uploadForm
	handler := func(w http.ResponseWriter, r *http.Request) {
		f := uploadForm{auth: r.Header.Get("Authorization"), ua: r.Header.Get("User-Agent"), contentType: r.Header.Get("Content-Type")}
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			b, _ := io.ReadAll(p)
			switch p.FormName() {
			case "uploadPath":
				f.uploadPath = string(b)
			case "fileName":
				f.fileName = string(b)
			case "file":
				f.partName, f.partType, f.got = p.FileName(), p.Header.Get("Content-Type"), string(b)
			}
		}
		mu.Lock()
		forms = append(forms, f)
		n := len(forms)
		mu.Unlock()
		if n <= failFirst {
			reply(500, `{"success":false,"code":500,"msg":"storage hiccup"}`)(w, r)
			return
		}
		reply(200, `{"success":true,"code":200,"msg":"File uploaded successfully","data":{"fileName":"`+f.fileName+
			`","filePath":"`+f.uploadPath+"/"+f.fileName+`","downloadUrl":"https://tempfile.example/`+f.fileName+
			`","fileSize":"`+strconv.Itoa(len(f.got))+`","mimeType":"image/png","uploadedAt":"2025-01-01T00:00:00Z"}}`)(w, r)
	}
	srv := newScriptServer(t, handler)
	return srv, func() []uploadForm {
		mu.Lock()
		defer mu.Unlock()
		return append([]uploadForm(nil), forms...)
	}
}

func TestUploadFileMultipart(t *testing.T) {
	srv, forms := uploadServer(t, 1)
	c := newTestClient("http://api.invalid", WithUploadBaseURL(srv.URL+"/"))
	content := pngBytes()
	local := filepath.Join(t.TempDir(), "Input.PNG")
	if err := os.WriteFile(local, content, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := c.UploadFile(context.Background(), local, "/images/terraform/")
	if err != nil {
		t.Fatal(err)
	}
	wantName := sha(content) + ".png"
	if res.FileName != wantName || res.DownloadURL != "https://tempfile.example/"+wantName || res.Size != int64(len(content)) ||
		res.MimeType != "image/png" || res.FilePath != "images/terraform/"+wantName {
		t.Errorf("result %+v", res)
	}
	got := forms()
	if len(got) != 2 {
		t.Fatalf("%d upload attempts, want 2 (one 500, then success)", len(got))
	}
	for _, f := range got {
		if f.auth != "Bearer "+testKey || f.ua != "terraform-provider-kie/dev" || !strings.HasPrefix(f.contentType, "multipart/form-data; boundary=") {
			t.Errorf("headers %q %q %q", f.auth, f.ua, f.contentType)
		}
		if f.uploadPath != "images/terraform" || f.fileName != wantName || f.partName != wantName || f.partType != "image/png" || f.got != string(content) {
			t.Errorf("form path %q name %q part %q type %q, %d bytes", f.uploadPath, f.fileName, f.partName, f.partType, len(f.got))
		}
	}
	r := srv.Requests()[0]
	if r.Method != http.MethodPost || r.Path != "/api/file-stream-upload" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
}

func TestUploadFileErrors(t *testing.T) {
	srv := newScriptServer(t, reply(401, `{"success":false,"code":401,"msg":"Unauthorized"}`))
	c := newTestClient("http://api.invalid", WithUploadBaseURL(srv.URL))
	local := filepath.Join(t.TempDir(), "in.jpg")
	if err := os.WriteFile(local, []byte("jpeg"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UploadFile(context.Background(), local, ""); !IsUnauthorized(err) || srv.Count() != 1 {
		t.Errorf("401: %v after %d requests", err, srv.Count())
	}
	if _, err := c.UploadFile(context.Background(), filepath.Join(t.TempDir(), "missing.png"), ""); err == nil {
		t.Error("missing file accepted")
	}
	if _, err := c.UploadFile(context.Background(), t.TempDir(), ""); err == nil {
		t.Error("folder accepted")
	}
	if _, err := New("").UploadFile(context.Background(), local, ""); !errors.Is(err, ErrMissingAPIKey) {
		t.Errorf("missing key: %v", err)
	}

	notOK := newScriptServer(t, reply(200, `{"success":false,"code":200,"msg":"quota"}`))
	c = newTestClient("http://api.invalid", WithUploadBaseURL(notOK.URL))
	if _, err := c.UploadFile(context.Background(), local, ""); err == nil || !strings.Contains(err.Error(), "success=false") {
		t.Errorf("success=false: %v", err)
	}
}

func TestUploadFileServerHangsUpEarly(t *testing.T) {
	// The server answers without reading the body; the writer goroutine must still end.
	// It hangs up only once the client has moved on (to its next attempt, or out of UploadFile): a
	// starved client could otherwise meet the broken connection (its body write failing) before the
	// 503 it was sent, and net/http reports whichever it sees first. In a bubble, on the in-memory
	// network, no request timeout passes while the client is busy, however loaded the machine.
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		count := 0
		var hangUp chan struct{}        // the latest handler's: closed when the next request arrives
		finished := make(chan struct{}) // closed when UploadFile has returned
		defer close(finished)
		srv, hc := newPipeServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mine := make(chan struct{})
			mu.Lock()
			count++
			if hangUp != nil {
				close(hangUp) // the client is done with the previous answer
			}
			hangUp = mine
			mu.Unlock()
			w.Header().Set("Connection", "close")
			w.Header().Set("Content-Length", "4")
			reply(503, "busy")(w, r)
			w.(http.Flusher).Flush() // the whole answer, while the connection stays up
			select {
			case <-mine:
			case <-finished:
			}
		}))
		c := newTestClient("http://api.invalid", WithHTTPClient(hc), WithUploadBaseURL(srv.URL),
			WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: 1}))
		local := filepath.Join(t.TempDir(), "big.png")
		if err := os.WriteFile(local, []byte(strings.Repeat("z", 4<<20)), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.UploadFile(context.Background(), local, "")
		var e *APIError
		if !errors.As(err, &e) || e.HTTPStatus != 503 {
			t.Fatalf("got %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if count != 2 {
			t.Errorf("%d attempts, want 2", count)
		}
	})
}

func TestUploadFileStalledServerTimesOut(t *testing.T) {
	srv := newScriptServer(t, stall(5*time.Second, reply(200, "{}")))
	c := newTestClient("http://api.invalid", WithUploadBaseURL(srv.URL), WithRequestTimeout(150*time.Millisecond),
		WithRetryPolicy(RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond}))
	local := filepath.Join(t.TempDir(), "in.png")
	if err := os.WriteFile(local, []byte("png"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The error is the proof that the request timeout ended each attempt: without it, each would wait out
	// the 5 s stall and get the server's answer. No wall-time bound, and the server's count is only an
	// upper bound: on a loaded machine an attempt can time out before its request reaches the handler.
	_, err := c.UploadFile(context.Background(), local, "")
	if err == nil || !strings.Contains(err.Error(), "no progress within the request timeout") ||
		!strings.Contains(err.Error(), "giving up after 2 attempts") || srv.Count() > 2 {
		t.Fatalf("err %v, %d requests received", err, srv.Count())
	}
}

func TestMultipartStreamDoneStopsWriter(t *testing.T) {
	local := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(local, []byte(strings.Repeat("q", 1<<20)), 0o600); err != nil {
		t.Fatal(err)
	}
	body, ctype, done, err := multipartStream(local, "p", "n.bin", "application/octet-stream")
	if err != nil || !strings.HasPrefix(ctype, "multipart/form-data") {
		t.Fatalf("%q %v", ctype, err)
	}
	if _, err := io.ReadFull(body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	finished := make(chan struct{})
	go func() {
		done() // the reader gave up half way: the writer must stop and release the file
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(5 * time.Second):
		t.Fatal("done did not stop the writer")
	}
}
