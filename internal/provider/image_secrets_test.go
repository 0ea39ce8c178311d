package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// KIE fails a Market task with a failMsg that repeats the createTask request's Authorization header.
// The key (read with file(), so with a trailing newline) must appear neither in kie_image's
// fail_message, nor in the error the CLI prints, nor in plans, state or the trace log; the failed task
// is paid for once.
func TestAccImageSecrets_failedTaskEchoesTheKey(t *testing.T) {
	testImageEchoedKey(t, false)
}

// The same when the task's end arrives through the provider's callback receiver instead of polling.
func TestAccImageSecrets_failedTaskEchoesTheKeyThroughCallback(t *testing.T) {
	testImageEchoedKey(t, true)
}

func testImageEchoedKey(t *testing.T, receiver bool) {
	opts := kiemock.Options{APIKey: secretKey, Latency: 50 * time.Millisecond}
	what, block := "kie_image: failMsg echoes the key", providerBlock
	if receiver {
		// The safety poll is far beyond the test's length: only the callback can end the wait in time.
		opts.CallbackSecret = receiverKey
		what = "kie_image: failMsg echoes the key, task ends by callback"
		block = func(srv *kiemock.Server, _ ...string) string { return receiverProvider(srv, receiverKey, "10m") }
	}
	srv := testMock(t, opts)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "kie.key")
	if err := os.WriteFile(keyFile, []byte(secretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	row := trackFault(t, srv, "6 no secret in logs, state, plans, errors", what, expectFailed, 1, dir)

	provider := strings.Replace(block(srv), "api_key           = "+hcl(testAPIKey),
		"api_key           = file("+hcl(keyFile)+")", 1)
	if strings.Contains(provider, testAPIKey) || !strings.Contains(provider, "file(") {
		t.Fatalf("the provider block does not read the key from the file:\n%s", provider)
	}
	const addr = "kie_image.test"
	cfg := provider + fmt.Sprintf(`
resource "kie_image" "test" {
  model       = "google/nano-banana"
  input       = { prompt = "a lantern on a pier %s" }
  output_path = %s
}
`, kiemock.MarkerEchoAuthFail, hcl(filepath.Join(dir, "out", "lantern.png")))
	const redacted = "upstream refused the request with headers Authorization: Bearer [REDACTED]"

	scan := newLeakScan()
	errs := newStepErrors()
	errs.expect(1, errText("Image generation failed", "fail code 500", "Authorization: Bearer [REDACTED]"))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               errs.check,
		Steps: []resource.TestStep{
			{
				PreConfig:        errs.enter(1, nil),
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{scan.planCheck()}},
			},
			{
				// The failed apply left the tainted object in state; its replacement is planned (and
				// searched), naming the task's message.
				PreConfig:          errs.enter(2, nil),
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks:  resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{scan.planCheck()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					scan.stateCheck,
					resource.TestCheckResourceAttr(addr, "state", "fail"),
					resource.TestCheckResourceAttr(addr, "fail_code", "500"),
					resource.TestCheckResourceAttr(addr, "fail_message", redacted),
					func(s *terraform.State) error {
						if rs := s.RootModule().Resources[addr]; rs == nil || rs.Primary == nil || !rs.Primary.Tainted {
							return fmt.Errorf("%s is not in state as a tainted resource", addr)
						}
						return nil
					},
					checkCounts(srv, append(marketCreatesAre(1), tasksAre(1))...),
					func(*terraform.State) error {
						if st := srv.Stats(); receiver && (st.CallbacksSent != 1 || st.MarketStatusQueries > 2) {
							return fmt.Errorf("%d callbacks delivered, %d recordInfo queries: the task's end did not "+
								"come through the callback receiver", st.CallbacksSent, st.MarketStatusQueries)
						}
						return nil
					},
				),
			},
		},
	})

	text := errs.text(t, 1)
	for i, e := range errs.all() {
		scan.scan("errors", fmt.Sprintf("error %d", i+1), e)
	}
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("reading the trace log: %v", err)
	}
	log := string(raw)
	for _, must := range []string{"[TRACE]", "kie HTTP request", "op=createTask", "op=recordInfo", "[REDACTED]"} {
		if !strings.Contains(log, must) {
			t.Errorf("the trace log (%d bytes) lacks %q: logging did not capture everything", len(log), must)
		}
	}
	rest, _ := withoutConfigRecords(log)
	scan.scan("logs", "trace log", rest)
	for _, kind := range []string{"plans", "states", "errors", "logs"} {
		if scan.scanned[kind] == 0 {
			t.Errorf("no %s were searched", kind)
		}
	}
	for _, l := range scan.leaks {
		t.Errorf("the API key leaked in %s", l)
	}
	row.setLeaks(len(scan.leaks))
	if !strings.Contains(text, "[REDACTED]") {
		t.Errorf("the error does not show where the key was removed:\n%s", text)
	}
	requireDirHolds(t, dir, "kie.key") // no result, no temporary file
}
