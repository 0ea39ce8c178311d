package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is written by run's goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startRun runs the command until the test cancels it; it returns the base
// URL (read from -url-file) and a function that stops run and returns its error.
func startRun(t *testing.T, args ...string) (string, *syncBuffer, func() error) {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(urlFile, []byte("http://stale.invalid"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-url-file", urlFile}, args...), out)
	}()
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			if _, statErr := os.Stat(urlFile); !os.IsNotExist(statErr) {
				t.Errorf("url file left behind: %v", statErr)
			}
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("run exited early: %v\n%s", err, out)
		default:
		}
		if b, err := os.ReadFile(urlFile); err == nil && !strings.Contains(string(b), "stale") {
			return string(b), out, stop
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no url file; output:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func request(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func TestRunServesAndStopsCleanly(t *testing.T) {
	base, out, stop := startRun(t, "-latency", "1h", "-image-scale", "0.05", "-v")
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, "/") || strings.HasSuffix(base, ":0") {
		t.Fatalf("base URL %q", base)
	}
	if !strings.Contains(out.String(), "kie-mock listening on "+base+"\n") {
		t.Fatalf("stdout %q", out.String())
	}
	if code, m := request(t, http.MethodGet, base+"/api/v1/chat/credit", "mock-key", ""); code != 200 || m["data"] != float64(1_000_000) {
		t.Fatalf("credit: %d %v", code, m)
	}
	if code, _ := request(t, http.MethodGet, base+"/api/v1/chat/credit", "", ""); code != 401 {
		t.Fatalf("no key: %d", code)
	}
	code, m := request(t, http.MethodPost, base+"/api/v1/flux/kontext/generate", "mock-key", `{"prompt":"cli"}`)
	id, _ := m["data"].(map[string]any)["taskId"].(string)
	if code != 200 || id == "" {
		t.Fatalf("generate: %d %v", code, m)
	}
	// -latency 1h keeps it generating.
	_, m = request(t, http.MethodGet, base+"/api/v1/flux/kontext/record-info?taskId="+id, "mock-key", "")
	if m["data"].(map[string]any)["successFlag"] != float64(0) {
		t.Fatalf("record-info %v", m)
	}
	if !strings.Contains(out.String(), "/api/v1/flux/kontext/generate -> 200") || strings.Contains(out.String(), "mock-key") {
		t.Fatalf("verbose log:\n%s", out)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v", err)
	}
	if _, err := http.Get(base + "/_mock/health"); err == nil {
		t.Fatal("still listening after cancel")
	}
}

func TestRunEnvFallbacksAndFlagPrecedence(t *testing.T) {
	t.Setenv("KIE_MOCK_API_KEY", "env-key")
	t.Setenv("KIE_MOCK_LATENCY", "0s")
	t.Setenv("KIE_MOCK_ADDR", "127.0.0.1:1") // -addr in startRun wins
	base, _, stop := startRun(t, "-credits", "0")
	defer stop()
	if code, _ := request(t, http.MethodGet, base+"/api/v1/chat/credit", "mock-key", ""); code != 401 {
		t.Fatalf("default key accepted despite KIE_MOCK_API_KEY: %d", code)
	}
	code, m := request(t, http.MethodGet, base+"/api/v1/chat/credit", "env-key", "")
	if code != 200 || m["data"] != float64(0) {
		t.Fatalf("env key / -credits 0: %d %v", code, m)
	}
	if code, m := request(t, http.MethodPost, base+"/api/v1/flux/kontext/generate", "env-key", `{"prompt":"x"}`); code != 402 {
		t.Fatalf("generate without credits: %d %v", code, m)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	cases := map[string][]string{
		"remote bind":   {"-addr", "0.0.0.0:0"},
		"all ifaces":    {"-addr", ":0"},
		"bad addr":      {"-addr", "nonsense"},
		"bad format":    {"-addr", "127.0.0.1:0", "-time-format", "unix"},
		"bad scale":     {"-addr", "127.0.0.1:0", "-image-scale", "0"},
		"min over max":  {"-addr", "127.0.0.1:0", "-image-min-bytes", "2000", "-image-max-bytes", "1000"},
		"min alone":     {"-addr", "127.0.0.1:0", "-image-min-bytes", "2000"},
		"negative pad":  {"-addr", "127.0.0.1:0", "-image-max-bytes", "-1"},
		"unknown flag":  {"-nope"},
		"extra args":    {"-addr", "127.0.0.1:0", "extra"},
		"bad duration":  {"-latency", "soon"},
		"port conflict": {"-addr", "127.0.0.1:-1"},
	}
	for name, args := range cases {
		var out bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // must fail before serving; a cancelled ctx would otherwise just stop it
		if err := run(ctx, args, &out); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-allow-remote") {
		t.Fatalf("-h: %v\n%s", err, out.String())
	}
	t.Setenv("KIE_MOCK_LATENCY", "later")
	if err := run(context.Background(), nil, &out); err == nil || !strings.Contains(err.Error(), "KIE_MOCK_LATENCY") {
		t.Fatalf("bad env latency: %v", err)
	}
}

func TestCheckAddr(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8787": true, "localhost:0": true, "[::1]:0": true, "127.0.0.2:1": true,
		"0.0.0.0:0": false, ":8787": false, "192.168.1.10:80": false, "example.com:80": false,
	} {
		if err := checkAddr(addr, false); (err == nil) != ok {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := checkAddr("0.0.0.0:0", true); err != nil {
		t.Errorf("allow-remote: %v", err)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "url")
	if err := writeFileAtomic(p, []byte("http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(p, []byte("http://127.0.0.1:2")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	entries, _ := os.ReadDir(dir)
	if string(b) != "http://127.0.0.1:2" || len(entries) != 1 {
		t.Fatalf("content %q, %d entries", b, len(entries))
	}
}

func TestRunMarketFlags(t *testing.T) {
	base, _, stop := startRun(t, "-latency", "0s", "-image-scale", "0.05", "-record-info-null", "2", "-message-key", "message")
	defer stop()
	code, m := request(t, http.MethodPost, base+"/api/v1/jobs/createTask", "mock-key",
		`{"model":"google/nano-banana","input":{"prompt":"cli market"}}`)
	id, _ := m["data"].(map[string]any)["taskId"].(string)
	if code != 200 || id == "" || m["message"] != "success" || m["msg"] != nil {
		t.Fatalf("createTask: %d %v", code, m)
	}
	for range 2 {
		code, m := request(t, http.MethodGet, base+"/api/v1/jobs/recordInfo?taskId="+id, "mock-key", "")
		if code != 422 || m["message"] != "recordInfo is null" {
			t.Fatalf("fresh task: %d %v", code, m)
		}
	}
	code, m = request(t, http.MethodGet, base+"/api/v1/jobs/recordInfo?taskId="+id, "mock-key", "")
	if code != 200 || m["data"].(map[string]any)["state"] != "success" {
		t.Fatalf("third query: %d %v", code, m)
	}
	code, m = request(t, http.MethodGet, base+"/_mock/stats", "", "")
	if code != 200 || m["marketTasksCreated"] != float64(1) || m["marketStatusQueries"] != float64(3) {
		t.Fatalf("stats: %d %v", code, m)
	}
	for name, args := range map[string][]string{
		"bad message key":       {"-addr", "127.0.0.1:0", "-message-key", "text"},
		"negative null queries": {"-addr", "127.0.0.1:0", "-record-info-null", "-1"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out bytes.Buffer
		if err := run(ctx, args, &out); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
