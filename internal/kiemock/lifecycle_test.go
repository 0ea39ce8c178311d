package kiemock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// clientFlow is one client's generate → poll → download, reporting errors
// instead of failing (it runs off the test goroutine).
func clientFlow(c *http.Client, base string, i int) (id string, img []byte, err error) {
	do := func(method, url string, body any, out any) error {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, url, rd)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var env struct {
			Code int             `json:"code"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			return err
		}
		if env.Code != 200 {
			return fmt.Errorf("%s %s: code %d", method, url, env.Code)
		}
		return json.Unmarshal(env.Data, out)
	}
	var created struct{ TaskID string }
	if err := do(http.MethodPost, base+pathGenerate, map[string]any{"prompt": fmt.Sprint("client ", i), "aspectRatio": "1:1"}, &created); err != nil {
		return "", nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var info infoData
		if err := do(http.MethodGet, base+pathRecordInfo+"?taskId="+created.TaskID, nil, &info); err != nil {
			return created.TaskID, nil, err
		}
		if info.SuccessFlag == 1 {
			resp, err := c.Get(info.Response.ResultImageURL)
			if err != nil {
				return created.TaskID, nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			return created.TaskID, b, err
		}
		if info.SuccessFlag != 0 || time.Now().After(deadline) {
			return created.TaskID, nil, fmt.Errorf("task %s: flag %d", created.TaskID, info.SuccessFlag)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestManyConcurrentClients(t *testing.T) {
	const clients = 200
	s := startMock(t, Options{Latency: 30 * time.Millisecond, LatencyJitter: 30 * time.Millisecond, ImageScale: 0.03})
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 20 * time.Second}
	defer c.CloseIdleConnections()

	var wg sync.WaitGroup
	ids := make([]string, clients)
	errs := make([]error, clients)
	for i := range clients {
		wg.Go(func() {
			var img []byte
			ids[i], img, errs[i] = clientFlow(c, s.URL(), i)
			if errs[i] == nil {
				if _, _, err := image.DecodeConfig(bytes.NewReader(img)); err != nil {
					errs[i] = err
				}
			}
		})
	}
	// Control-surface traffic at the same time.
	stop := make(chan struct{})
	var side sync.WaitGroup
	side.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.Stats()
			_ = s.Tasks()
			s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultEmpty})
			s.ClearFaults()
			s.SetCredits(s.Credits())
			if resp, err := c.Get(s.URL() + "/_mock/stats"); err == nil {
				resp.Body.Close()
			}
		}
	})
	wg.Wait()
	close(stop)
	side.Wait()

	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		seen[id] = true
	}
	st := s.Stats()
	if len(seen) != clients || st.TasksCreated != clients || st.GenerateRequests != clients || st.Downloads != clients {
		t.Fatalf("%d distinct ids, stats %+v", len(seen), st)
	}
	if st.InFlight != 0 || st.PeakInFlight < 2 || st.PeakInFlight > clients {
		t.Fatalf("in-flight gauge: %+v", st)
	}
	if got := s.Credits(); got != DefaultCredits-clients*CostPro {
		t.Fatalf("credits %v", got)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()

	hang := make(chan struct{})
	slowInput := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // an input server that never answers
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	s, err := Start(Options{APIKey: testKey, Latency: time.Hour, ImageScale: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		body := map[string]any{"prompt": fmt.Sprint("pending ", i), "callBackUrl": recv.URL}
		if i%3 == 0 {
			body["inputImage"] = slowInput.URL + "/in.png"
		}
		generate(t, s, body)
	}
	s.InjectFault(Fault{Endpoint: EndpointCredit, Kind: FaultSlow, Delay: time.Hour})
	slowDone := make(chan error, 1)
	go func() {
		resp, err := freshClient().Get(s.URL() + pathCredit)
		if err == nil {
			resp.Body.Close()
		}
		slowDone <- err
	}()
	waitStats(t, s, func(st Stats) bool { return st.CreditQueries == 1 && st.InputFetches == 10 })

	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	select {
	case <-slowDone:
	case <-time.After(3 * time.Second):
		t.Fatal("slow request still hanging after Close")
	}
	_ = s.Close() // idempotent
	if st := s.Stats(); st.CallbacksSent+st.CallbacksFailed != 0 || st.InFlight != 30 {
		t.Fatalf("pending tasks finished or called back: %+v", st)
	}
	if _, err := http.Get(s.URL() + pathCredit); err == nil {
		t.Fatal("listener still open after Close")
	}

	close(hang)
	slowInput.Close()
	recv.Close()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestHandlerAfterCloseAnswers503(t *testing.T) {
	s := New(Options{APIKey: testKey})
	ts := httptest.NewServer(s)
	defer ts.Close()
	_ = s.Close()
	resp, err := http.Get(ts.URL + pathCredit)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("after Close: %d", resp.StatusCode)
	}
}

func TestControlEndpoints(t *testing.T) {
	s := startMock(t, Options{})
	ctl := func(method, path, body string) (int, []byte) {
		t.Helper()
		r := call(t, method, s.URL()+"/_mock/"+path, "", body)
		return r.Status, r.Raw
	}
	if code, body := ctl(http.MethodGet, "health", ""); code != 200 || !strings.Contains(string(body), "true") {
		t.Fatalf("health %d %s", code, body)
	}
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "ctl"}))

	if code, body := ctl(http.MethodPost, "faults", `{"endpoint":"credit","kind":"slow","delay":"120ms"}`); code != 200 || !strings.Contains(string(body), `"delay":"120ms"`) {
		t.Fatalf("add fault %d %s", code, body)
	}
	start := time.Now()
	call(t, http.MethodGet, s.URL()+pathCredit, testKey, nil)
	if time.Since(start) < 120*time.Millisecond {
		t.Fatal("fault from control endpoint not applied")
	}
	ctl(http.MethodPost, "faults", `{"endpoint":"credit","kind":"empty","times":-1}`)
	if code, _ := ctl(http.MethodDelete, "faults", ""); code != 200 || len(s.Faults()) != 0 {
		t.Fatal("faults not cleared")
	}
	if code, _ := ctl(http.MethodPost, "faults", `{"endpoint":"credit","kind":"bogus"}`); code != 400 {
		t.Fatalf("bogus fault: %d", code)
	}

	code, body := ctl(http.MethodGet, "stats", "")
	var st Stats
	if err := json.Unmarshal(body, &st); err != nil || code != 200 || st.TasksCreated != 1 || st.CreditQueries != 1 {
		t.Fatalf("stats %d %s", code, body)
	}
	ctl(http.MethodPost, "reset-stats", "")
	if st := s.Stats(); st.TasksCreated != 0 || st.StatusQueries != 0 {
		t.Fatalf("after reset %+v", st)
	}

	if code, _ := ctl(http.MethodPost, "credits", `{"credits": 7}`); code != 200 || s.Credits() != 7 {
		t.Fatalf("credits %d %v", code, s.Credits())
	}
	if code, _ := ctl(http.MethodPost, "credits", `{}`); code != 400 {
		t.Fatalf("empty credits: %d", code)
	}
	if r := call(t, http.MethodPost, s.URL()+pathGenerate, testKey, `{"prompt":"x","model":"flux-kontext-max"}`); r.Code != 402 {
		t.Fatalf("after credits=7: %s", r.Raw)
	}

	ctl(http.MethodPost, "expire-links", "")
	if resp, _ := get(t, d.Response.ResultImageURL); resp.StatusCode != 404 {
		t.Fatalf("expire-links: %d", resp.StatusCode)
	}

	code, body = ctl(http.MethodGet, "tasks", "")
	var tasks []TaskSnapshot
	if err := json.Unmarshal(body, &tasks); err != nil || code != 200 || len(tasks) != 1 || tasks[0].ID != d.TaskID || tasks[0].SuccessFlag != 1 {
		t.Fatalf("tasks %d %s", code, body)
	}
	if code, _ := ctl(http.MethodGet, "tasks/"+d.TaskID, ""); code != 200 {
		t.Fatalf("one task: %d", code)
	}
	if code, _ := ctl(http.MethodGet, "tasks/nope", ""); code != 404 {
		t.Fatalf("unknown task: %d", code)
	}
	if code, _ := ctl(http.MethodGet, "nothing", ""); code != 404 {
		t.Fatalf("unknown control: %d", code)
	}
}

func TestBaseURLFor(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8787}, "http://127.0.0.1:8787"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 1}, "http://127.0.0.1:1"},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 2}, "http://[::1]:2"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 3}, "http://[::1]:3"},
	} {
		if got := baseURLFor(c.addr); got != c.want {
			t.Errorf("%v: %s, want %s", c.addr, got, c.want)
		}
	}
}
