//go:build unix

package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCIRecipe runs the built binary the way the testing guide tells a CI job
// to: a free loopback port, the URL from -url-file, /_mock/health as the
// readiness check, SIGTERM to stop.
func TestCIRecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build kie-mock with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "kie-mock")
	if out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	urlFile := filepath.Join(dir, "kie-mock.url")
	log := &syncBuffer{}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-url-file", urlFile, "-latency", "1s")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	var base, body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(urlFile)
		if err != nil || len(b) == 0 {
			continue
		}
		resp, err := http.Get(string(b) + "/_mock/health")
		if err != nil {
			continue
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			base, body = string(b), string(raw)
			break
		}
	}
	if base == "" {
		t.Fatalf("kie-mock never became ready; output:\n%s", log.String())
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.TrimSpace(body) != `{"ok":true}` {
		t.Fatalf("base %q, health %q", base, body)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit after SIGTERM: %v; output:\n%s", waitErr, log.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kie-mock did not exit within 10 s of SIGTERM")
	}
	if _, err := os.Stat(urlFile); !os.IsNotExist(err) {
		t.Fatalf("URL file left behind: %v", err)
	}
	if _, err := http.Get(base + "/_mock/health"); err == nil {
		t.Fatal("still answering after SIGTERM")
	}
}
