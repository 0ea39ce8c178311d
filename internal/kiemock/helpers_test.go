package kiemock

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const testKey = "test-key-123"

// startMock runs a mock with small images and the test key; it is closed
// when the test ends.
func startMock(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.ImageScale == 0 {
		opts.ImageScale = 0.05
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// apiResp is a decoded envelope plus the raw HTTP facts.
type apiResp struct {
	Status int
	Header http.Header
	Raw    []byte
	Code   int             `json:"code"`
	Msg    string          `json:"msg"`
	Data   json.RawMessage `json:"data"`
}

func call(t *testing.T, method, url, key string, body any) apiResp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, url, err)
	}
	r := apiResp{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && bytes.HasPrefix(raw, []byte("{")) {
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%s %s: bad JSON %q: %v", method, url, raw, err)
		}
	}
	return r
}

func generate(t *testing.T, s *Server, body map[string]any) string {
	t.Helper()
	r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, body)
	if r.Status != 200 || r.Code != 200 {
		t.Fatalf("generate: HTTP %d %s", r.Status, r.Raw)
	}
	var d struct {
		TaskID string `json:"taskId"`
	}
	if err := json.Unmarshal(r.Data, &d); err != nil || d.TaskID == "" {
		t.Fatalf("generate: no taskId in %s", r.Raw)
	}
	return d.TaskID
}

type infoData struct {
	TaskID       string          `json:"taskId"`
	ParamJSON    string          `json:"paramJson"`
	CreateTime   json.RawMessage `json:"createTime"`
	CompleteTime json.RawMessage `json:"completeTime"`
	SuccessFlag  int             `json:"successFlag"`
	Response     *struct {
		ResultImageURL string `json:"resultImageUrl"`
		OriginImageURL string `json:"originImageUrl"`
	} `json:"response"`
	ErrorCode    *int    `json:"errorCode"`
	ErrorMessage *string `json:"errorMessage"`
}

func recordInfoOf(t *testing.T, s *Server, id string) infoData {
	t.Helper()
	r := call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+id, testKey, nil)
	if r.Status != 200 || r.Code != 200 {
		t.Fatalf("record-info %s: HTTP %d %s", id, r.Status, r.Raw)
	}
	var d infoData
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// waitDone polls record-info until the task leaves successFlag 0.
func waitDone(t *testing.T, s *Server, id string) infoData {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := recordInfoOf(t, s, id)
		if d.SuccessFlag != 0 {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s still generating", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read: %v", url, err)
	}
	return resp, b
}

// freshClient avoids reusing connections a fault has broken.
func freshClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
}
