package provider

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflogtest"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

const receiverKey = "hook-signing-key-7d1e"

// receiverProvider is the provider block with a callback receiver on a free loopback port.
func receiverProvider(srv *kiemock.Server, hmacKey, safety string) string {
	return providerBlock(srv, fmt.Sprintf(`callback_receiver = {
    listen_address       = "127.0.0.1:0"
    hmac_key             = %q
    safety_poll_interval = %q
  }`, hmacKey, safety))
}

func receiverConfig(srv *kiemock.Server, hmacKey, safety string) string {
	return receiverProvider(srv, hmacKey, safety) + `
resource "kie_flux_image" "batch" {
  count        = 4
  prompt       = "postcard ${count.index}"
  callback_url = "http://127.0.0.1:9/ignored"
}
`
}

func TestAccCallbackReceiver_wakesWaitersWithoutPolling(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: time.Second, CallbackSecret: receiverKey})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			// The safety poll is far beyond the test's length: only callbacks can finish it in time.
			Config: receiverConfig(srv, receiverKey, "10m"),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_flux_image.batch.3", "status", "SUCCESS"),
				func(*terraform.State) error {
					s := srv.Stats()
					if s.GenerateRequests != 4 || s.CallbacksSent != 4 {
						return fmt.Errorf("POSTs %d, callbacks delivered %d; want 4 and 4", s.GenerateRequests, s.CallbacksSent)
					}
					if s.StatusQueries > 6 { // at most 1.5 per image
						return fmt.Errorf("%d status queries for 4 images", s.StatusQueries)
					}
					for _, task := range srv.Tasks() {
						if task.CallBackURL == "http://127.0.0.1:9/ignored" || task.CallBackURL == "" {
							return fmt.Errorf("task %s was sent callBackUrl %q, not the receiver", task.ID, task.CallBackURL)
						}
					}
					return nil
				},
			),
		}},
	})
}

func TestAccCallbackReceiver_refusesBadSignaturesAndFallsBackToPolling(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: 300 * time.Millisecond, CallbackSecret: "not-the-providers-key"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: receiverConfig(srv, receiverKey, "1s"),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_flux_image.batch.0", "status", "SUCCESS"),
				func(*terraform.State) error {
					s := srv.Stats()
					if s.CallbacksSent != 0 || s.CallbacksFailed < 4 {
						return fmt.Errorf("forged callbacks were accepted: sent %d, failed %d", s.CallbacksSent, s.CallbacksFailed)
					}
					if s.StatusQueries < 4 {
						return fmt.Errorf("only %d status queries: the safety poll did not run", s.StatusQueries)
					}
					return nil
				},
			),
		}},
	})
}

// syncBuffer is a log sink the receiver's goroutines and the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCallbackReceiver_retriesAFailedListen: a listen that failed (the port was taken) is not remembered;
// the next Create listens again, and once listening every Create gets the same URL.
func TestCallbackReceiver_retriesAFailedListen(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := taken.Addr().String()
	r := &callbackReceiver{listen: addr, handler: http.NotFoundHandler()}
	if _, err := r.start(context.Background()); err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("listening on a taken port: %v", err)
	}
	if err := taken.Close(); err != nil {
		t.Fatal(err)
	}
	url, err := r.start(context.Background())
	if err != nil {
		t.Fatalf("the second start did not listen again: %v", err)
	}
	t.Cleanup(func() { _ = r.ln.Close() })
	if want := "http://" + addr + "/kie/callback"; url != want {
		t.Errorf("url %q, want %q", url, want)
	}
	again, err := r.start(context.Background())
	if err != nil || again != url {
		t.Errorf("a third start gave %q, %v; want %q", again, err, url)
	}
}

// TestCallbackReceiver_logsThroughTheProviderLogger: what the receiver logs (a refused callback, a server
// that stopped) reaches the provider's log, with the key masked, after the Create that started it ended.
func TestCallbackReceiver_logsThroughTheProviderLogger(t *testing.T) {
	const hmacKey = "hook-key-aa11bb22cc33"
	var buf syncBuffer
	ctx, cancel := context.WithCancel(tflogtest.RootLogger(context.Background(), &buf))
	client := kie.New(secretKey, kie.WithLogger(tflogLogger{}))
	r := &callbackReceiver{listen: "127.0.0.1:0", handler: kie.NewCallbackHandler(client, hmacKey),
		secrets: []string{secretKey + "\n", hmacKey}}
	url, err := r.start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel() // the Create that started the receiver is over

	// A forged callback that names the key as its task id: refused, logged, masked.
	body := fmt.Sprintf(`{"code":200,"msg":"ok","data":{"taskId":%q}}`, secretKey)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Webhook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	req.Header.Set("X-Webhook-Signature", "bm90LWEtc2lnbmF0dXJl")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged callback answered %d", resp.StatusCode)
	}

	// A listener that fails under the server is a warning too.
	_ = r.ln.Close()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "callback receiver stopped") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := buf.String()
	for _, want := range []string{
		`"@level":"info","@message":"callback receiver listening"`,
		`"@level":"warn","@message":"refused a KIE callback"`,
		`"task_id":"***"`,
		`"@level":"warn","@message":"callback receiver stopped`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the provider log lacks %s:\n%s", want, out)
		}
	}
	if l := secretLeaks("receiver log", out); len(l) > 0 {
		t.Errorf("the key leaked: %v", l)
	}
}

// TestAccCallbackReceiver_logsRefusedCallbacks: callbacks signed with another key are refused, and the
// provider's log says so as warnings (with the receiver's address), while the key stays masked. Before,
// the receiver logged to a context without a logger and such a misconfiguration was invisible.
func TestAccCallbackReceiver_logsRefusedCallbacks(t *testing.T) {
	srv := testMock(t, kiemock.Options{APIKey: secretKey, Latency: 300 * time.Millisecond, CallbackSecret: "not-the-providers-key"})
	logFile := t.TempDir() + "/trace.log"
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	cfg := strings.Replace(receiverConfig(srv, receiverKey, "1s"), hcl(testAPIKey), hcl(secretKey), 1)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_flux_image.batch.0", "status", "SUCCESS"),
				func(*terraform.State) error {
					if s := srv.Stats(); s.CallbacksSent != 0 || s.CallbacksFailed < 4 {
						return fmt.Errorf("callbacks sent %d, failed %d; want 0 and at least 4", s.CallbacksSent, s.CallbacksFailed)
					}
					return nil
				},
			),
		}},
	})
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	log := string(raw)
	// Fields come in any order.
	receiverField := regexp.MustCompile(`\bcallback_receiver=127\.0\.0\.1:\d+\b`)
	n := 0
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "[WARN]") && strings.Contains(l, "refused a KIE callback:") &&
			strings.Contains(l, `reason="callback signature does not match"`) && receiverField.MatchString(l) {
			n++
		}
	}
	// Usually one per task; a callback that comes after its task was polled to the end may find the
	// provider gone, so only some are required.
	if n == 0 {
		t.Error("the log has no warning of a refused callback")
	}
	rest, _ := withoutConfigRecords(log)
	for _, l := range secretLeaks("trace log", rest) {
		t.Errorf("the API key leaked in %s", l)
	}
}
