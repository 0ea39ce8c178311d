package kiemock

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawDo sends a request on a fresh connection and returns the raw outcome.
func rawDo(t *testing.T, method, url string, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := freshClient().Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestFaultResponses(t *testing.T) {
	s := startMock(t, Options{})
	credit := s.URL() + pathCredit

	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultStatus, Status: 503, BodyCode: 455, Message: "maintenance", RetryAfter: "7"})
	r := call(t, http.MethodGet, credit, testKey, nil)
	if r.Status != 503 || r.Code != 455 || r.Msg != "maintenance" || r.Header.Get("Retry-After") != "7" {
		t.Fatalf("status fault: %d %v %s", r.Status, r.Header, r.Raw)
	}
	if r := call(t, http.MethodGet, credit, testKey, nil); r.Status != 200 || r.Code != 200 {
		t.Fatalf("fault applied twice: %s", r.Raw)
	}

	s.InjectFault(Fault{Endpoint: EndpointGenerate, Kind: FaultBodyCode, BodyCode: 402})
	r = call(t, http.MethodPost, s.URL()+pathGenerate, testKey, `{"prompt":"x"}`)
	if r.Status != 200 || r.Code != 402 {
		t.Fatalf("body-code fault: %d %s", r.Status, r.Raw)
	}

	s.InjectFault(Fault{Endpoint: EndpointRecordInfo, Kind: FaultHTML, Status: 403})
	resp, body, err := rawDo(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId=x", "")
	if err != nil || resp.StatusCode != 403 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), "1010") {
		t.Fatalf("html 403 fault: %v %v %s", err, resp, body)
	}
	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultHTML})
	resp, body, _ = rawDo(t, http.MethodGet, credit, "")
	if resp.StatusCode != 502 || !strings.Contains(string(body), "502 Bad Gateway") {
		t.Fatalf("html default: %d %s", resp.StatusCode, body)
	}

	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultEmpty, Status: 504})
	resp, body, err = rawDo(t, http.MethodGet, credit, "")
	if err != nil || resp.StatusCode != 504 || len(body) != 0 {
		t.Fatalf("empty fault: %v %v %q", err, resp, body)
	}

	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultMalformedJSON})
	resp, body, err = rawDo(t, http.MethodGet, credit, "")
	var v any
	if err != nil || resp.StatusCode != 200 || string(body) != `{"code":200,"msg":"succ` || json.Unmarshal(body, &v) == nil {
		t.Fatalf("malformed fault: %v %q", err, body)
	}

	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultOversized})
	resp, body, err = rawDo(t, http.MethodGet, credit, "")
	if err != nil || resp.StatusCode != 200 || len(body) <= 10<<20 || json.Unmarshal(body, &v) != nil {
		t.Fatalf("oversized fault: %v, %d bytes", err, len(body))
	}

	if st := s.Stats(); st.FaultsInjected != 7 || st.TasksCreated != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultSlow(t *testing.T) {
	s := startMock(t, Options{})
	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultSlow, Delay: 150 * time.Millisecond})
	start := time.Now()
	r := call(t, http.MethodGet, s.URL()+pathCredit, testKey, nil)
	if time.Since(start) < 150*time.Millisecond || r.Code != 200 {
		t.Fatalf("slow fault: %v %s", time.Since(start), r.Raw)
	}
	// A client that gives up frees the handler.
	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultSlow, Delay: time.Hour})
	c := &http.Client{Timeout: 50 * time.Millisecond}
	req, _ := http.NewRequest(http.MethodGet, s.URL()+pathCredit, nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("slow fault answered early")
	}
}

func TestFaultDrops(t *testing.T) {
	s := startMock(t, Options{})
	s.InjectFault(Fault{Endpoint: EndpointGenerate, Kind: FaultDrop})
	if _, _, err := rawDo(t, http.MethodPost, s.URL()+pathGenerate, `{"prompt":"x"}`); err == nil {
		t.Fatal("drop answered")
	}
	if st := s.Stats(); st.GenerateRequests != 1 || st.TasksCreated != 0 {
		t.Fatalf("drop created a task: %+v", st)
	}

	s.InjectFault(Fault{Endpoint: EndpointGenerate, Kind: FaultDropAfterCreate})
	if _, _, err := rawDo(t, http.MethodPost, s.URL()+pathGenerate, `{"prompt":"paid but lost"}`); err == nil {
		t.Fatal("drop-after-create answered")
	}
	tasks := s.Tasks()
	if st := s.Stats(); st.TasksCreated != 1 || len(tasks) != 1 || tasks[0].Prompt != "paid but lost" || st.FaultsInjected != 2 {
		t.Fatalf("drop-after-create: %+v %+v", st, tasks)
	}
	if s.Credits() != DefaultCredits-CostPro {
		t.Fatalf("drop-after-create not charged: %v", s.Credits())
	}
	s.InjectFault(Fault{Endpoint: EndpointRecordInfo, Kind: FaultDropAfterCreate})
	if _, _, err := rawDo(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+tasks[0].ID, ""); err == nil {
		t.Fatal("drop-after-create on record-info answered")
	}
}

func TestFileFaults(t *testing.T) {
	s := startMock(t, Options{})
	a := waitDone(t, s, generate(t, s, map[string]any{"prompt": "a", "outputFormat": "png"}))
	b := waitDone(t, s, generate(t, s, map[string]any{"prompt": "b"}))
	full := download(t, a.Response.ResultImageURL)

	s.InjectFault(Fault{Endpoint: EndpointFile, Kind: FaultExpiredLink, TaskID: a.TaskID})
	download(t, b.Response.ResultImageURL) // other task unaffected
	if resp, body, _ := rawDo(t, http.MethodGet, a.Response.ResultImageURL, ""); resp.StatusCode != 404 || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired-link fault: %d %s", resp.StatusCode, body)
	}
	download(t, a.Response.ResultImageURL)

	s.InjectFault(Fault{Endpoint: EndpointFile, Kind: FaultTruncatedImage})
	resp, body, err := rawDo(t, http.MethodGet, a.Response.ResultImageURL, "")
	if !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength != int64(len(full)) || len(body) != len(full)/2 ||
		!bytes.Equal(body, full[:len(full)/2]) {
		t.Fatalf("truncated: err %v, length %d, got %d of %d", err, resp.ContentLength, len(body), len(full))
	}

	s.InjectFault(Fault{Endpoint: EndpointFile, Kind: FaultWrongLength})
	resp, body, err = rawDo(t, http.MethodGet, a.Response.ResultImageURL, "")
	if !errors.Is(err, io.ErrUnexpectedEOF) || resp.ContentLength <= int64(len(full)) || !bytes.Equal(body, full) {
		t.Fatalf("wrong-length: err %v, length %d, got %d of %d", err, resp.ContentLength, len(body), len(full))
	}
	download(t, a.Response.ResultImageURL)
}

func TestFaultTargetingAndTimes(t *testing.T) {
	s := startMock(t, Options{})
	a, b := generate(t, s, map[string]any{"prompt": "a"}), generate(t, s, map[string]any{"prompt": "b"})
	s.InjectFault(Fault{Endpoint: EndpointRecordInfo, Kind: FaultStatus, Status: 500, TaskID: a, Times: -1})
	for range 3 {
		if r := call(t, http.MethodGet, s.URL()+pathRecordInfo+"?taskId="+a, testKey, nil); r.Status != 500 {
			t.Fatalf("targeted task: %d", r.Status)
		}
		recordInfoOf(t, s, b)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Times != -1 {
		t.Fatalf("faults %+v", f)
	}
	s.ClearFaults()
	recordInfoOf(t, s, a)

	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultEmpty, Times: 2})
	var statuses []int
	for range 3 {
		resp, _, _ := rawDo(t, http.MethodGet, s.URL()+pathCredit, "")
		statuses = append(statuses, resp.StatusCode)
	}
	if statuses[0] != 502 || statuses[1] != 502 || statuses[2] != 200 {
		t.Fatalf("times 2: %v", statuses)
	}
	if st := s.Stats(); st.FaultsInjected != 5 {
		t.Fatalf("faults injected %d", st.FaultsInjected)
	}
	// Invalid faults are ignored.
	s.InjectFault(Fault{Endpoint: "nope", Kind: FaultDrop})
	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: "nope"})
	if len(s.Faults()) != 0 {
		t.Fatal("invalid fault queued")
	}
}

func TestFaultJSON(t *testing.T) {
	var f Fault
	if err := json.Unmarshal([]byte(`{"endpoint":"file","kind":"slow","delay":"2s","taskId":"t1","times":-1}`), &f); err != nil {
		t.Fatal(err)
	}
	if f.Delay != 2*time.Second || f.TaskID != "t1" || f.Times != -1 || f.Kind != FaultSlow || f.Endpoint != EndpointFile {
		t.Fatalf("%+v", f)
	}
	if err := json.Unmarshal([]byte(`{"endpoint":"file","kind":"slow","delay":250}`), &f); err != nil || f.Delay != 250*time.Millisecond {
		t.Fatalf("ms delay: %v %v", err, f.Delay)
	}
	if err := json.Unmarshal([]byte(`{"delay":"soon"}`), &f); err == nil {
		t.Fatal("bad delay accepted")
	}
	b, _ := json.Marshal(Fault{Endpoint: EndpointCredit, Kind: FaultSlow, Delay: 1500 * time.Millisecond})
	if !strings.Contains(string(b), `"delay":"1.5s"`) {
		t.Fatalf("marshal %s", b)
	}
}
