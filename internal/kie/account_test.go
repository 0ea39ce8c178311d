package kie

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestCredits(t *testing.T) {
	tests := []struct {
		data string
		want float64
	}{
		{"100", 100},
		{`"42"`, 42},
		{"12.5", 12.5},
	}
	for _, tt := range tests {
		srv := newScriptServer(t, env(200, "success", tt.data))
		got, err := newTestClient(srv.URL).Credits(context.Background())
		if err != nil || got != tt.want {
			t.Errorf("data %s: Credits = %v, %v", tt.data, got, err)
		}
		r := srv.Requests()[0]
		if r.Method != http.MethodGet || r.Path != "/api/v1/chat/credit" || r.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("request %s %s", r.Method, r.Path)
		}
	}
	srv := newScriptServer(t, env(200, "success", `"lots"`))
	if _, err := newTestClient(srv.URL).Credits(context.Background()); err == nil || !strings.Contains(err.Error(), "not a number") {
		t.Errorf("non-numeric credits: %v", err)
	}
}

func TestFreshDownloadURL(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
		wantErr string
	}{
		{"string data", env(200, "success", `"https://cdn.example/fresh.png?sig=1"`), "https://cdn.example/fresh.png?sig=1", ""},
		{"object data", env(200, "success", `{"url":"https://cdn.example/o.png"}`), "https://cdn.example/o.png", ""},
		{"no link", env(200, "success", `""`), "", "no download link"},
		{"not a KIE URL", env(422, "url not supported", "null"), "", "validation error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.handler)
			got, err := newTestClient(srv.URL).FreshDownloadURL(context.Background(), "https://tempfile.aiquickdraw.com/r.png")
			if got != tt.want || (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("FreshDownloadURL = %q, %v", got, err)
			}
			r := srv.Requests()[0]
			if r.Method != http.MethodPost || r.Path != "/api/v1/common/download-url" || r.Body != `{"url":"https://tempfile.aiquickdraw.com/r.png"}` {
				t.Errorf("request %s %s %s", r.Method, r.Path, r.Body)
			}
		})
	}
	if _, err := newTestClient("http://127.0.0.1:1").FreshDownloadURL(context.Background(), " "); err == nil {
		t.Error("empty URL accepted")
	}
}
