package kiemock

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// createMarket creates a Market task and returns its id.
func createMarket(t *testing.T, s *Server, model string, input map[string]any, extra ...string) string {
	t.Helper()
	body := map[string]any{"model": model, "input": input}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i]] = extra[i+1]
	}
	r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body)
	if r.Status != 200 || r.Code != 200 || r.Msg != "success" {
		t.Fatalf("createTask %s: HTTP %d %s", model, r.Status, r.Raw)
	}
	var d struct {
		TaskID string `json:"taskId"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.TaskID == "" {
		t.Fatalf("createTask: no taskId in %s", r.Raw)
	}
	return d.TaskID
}

// marketData is recordInfo's data as a client decodes it.
type marketData struct {
	TaskID          string  `json:"taskId"`
	Model           string  `json:"model"`
	State           string  `json:"state"`
	Param           string  `json:"param"`
	ResultJSON      string  `json:"resultJson"`
	FailCode        string  `json:"failCode"`
	FailMsg         string  `json:"failMsg"`
	CostTime        int64   `json:"costTime"`
	CompleteTime    *int64  `json:"completeTime"`
	CreateTime      int64   `json:"createTime"`
	UpdateTime      int64   `json:"updateTime"`
	CreditsConsumed float64 `json:"creditsConsumed"`
}

func (d marketData) resultURLs(t *testing.T) []string {
	t.Helper()
	var r struct {
		ResultURLs []string `json:"resultUrls"`
	}
	if err := json.Unmarshal([]byte(d.ResultJSON), &r); err != nil {
		t.Fatalf("resultJson %q: %v", d.ResultJSON, err)
	}
	return r.ResultURLs
}

func marketInfo(t *testing.T, s *Server, id string) marketData {
	t.Helper()
	r := call(t, http.MethodGet, s.URL()+pathMarketRecordInfo+"?taskId="+id, testKey, nil)
	if r.Status != 200 || r.Code != 200 {
		t.Fatalf("recordInfo %s: HTTP %d %s", id, r.Status, r.Raw)
	}
	var d marketData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitMarket polls recordInfo until the task succeeds or fails.
func waitMarket(t *testing.T, s *Server, id string) marketData {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := marketInfo(t, s, id)
		if d.State == StateSuccess || d.State == StateFail {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still %s", id, d.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// imageServer serves one PNG per path and counts requests.
func imageServer(t *testing.T, images map[string][]byte) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, ok := images[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func decodeImage(t *testing.T, b []byte) (image.Image, string) {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return img, format
}

func rgb(c color.Color) (r, g, b int) {
	r32, g32, b32, _ := c.RGBA()
	return int(r32 >> 8), int(g32 >> 8), int(b32 >> 8)
}
