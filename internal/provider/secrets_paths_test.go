package provider

import (
	"encoding/json"
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

// startTaskWithKey creates a task through the mock's HTTP API with key, as a script outside Terraform
// would, and waits until it finished.
func startTaskWithKey(t *testing.T, srv *kiemock.Server, key, prompt string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"prompt": prompt})
	id := postTaskJSON(t, srv, key, string(body))
	waitTaskEnded(t, srv, id)
	return id
}

// TestAccSecrets_failedTaskEchoesTheKey: KIE fails a task with an errorMessage that repeats the request's
// Authorization header. The key is read with file(), so it ends in a newline that the client trims before
// sending. The key must appear neither in the error the CLI prints (the resource's failed Create), nor in
// the kie_flux_task data source's error_message, nor anywhere in state, plans or the trace log; the key
// with its newline must still work; and the failed generation must not be paid for twice.
func TestAccSecrets_failedTaskEchoesTheKey(t *testing.T) {
	srv := testMock(t, kiemock.Options{APIKey: secretKey, Latency: 50 * time.Millisecond})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "kie.key")
	if err := os.WriteFile(keyFile, []byte(secretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	row := trackFault(t, srv, "6 no secret in logs, state, plans, errors", "failed task's errorMessage echoes the key",
		expectFailed, 2, dir)

	external := startTaskWithKey(t, srv, secretKey, "a lantern "+kiemock.MarkerEchoAuthFail)
	provider := strings.Replace(providerBlock(srv), "api_key           = "+hcl(testAPIKey),
		"api_key           = file("+hcl(keyFile)+")", 1)
	if strings.Contains(provider, testAPIKey) || !strings.Contains(provider, "file(") {
		t.Fatalf("the provider block does not read the key from the file:\n%s", provider)
	}
	cfg := provider + fmt.Sprintf(`
data "kie_credits" "account" {}

data "kie_flux_task" "failed" {
  task_id = %q
}

resource "kie_flux_image" "test" {
  prompt = "a lantern on a pier %s"
}
`, external, kiemock.MarkerEchoAuthFail)

	scan := newLeakScan()
	errs := newStepErrors()
	errs.expect(1, errText("GENERATE_FAILED", "Authorization: Bearer [REDACTED]"))
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
				// The failed apply left the data source and the tainted image in state: search them.
				PreConfig:          errs.enter(2, nil),
				RefreshState:       true,
				ExpectNonEmptyPlan: true, // the tainted image is to be replaced
				RefreshPlanChecks:  resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{scan.planCheck()}},
				Check: resource.ComposeAggregateTestCheckFunc(
					scan.stateCheck,
					resource.TestCheckResourceAttrSet("data.kie_credits.account", "credits"),
					resource.TestCheckResourceAttr("data.kie_flux_task.failed", "status", "GENERATE_FAILED"),
					resource.TestCheckResourceAttr("data.kie_flux_task.failed", "error_message",
						"upstream refused the request with headers Authorization: Bearer [REDACTED]"),
					resource.TestCheckResourceAttr(imageAddr, "status", "GENERATE_FAILED"),
					func(s *terraform.State) error {
						if rs := s.RootModule().Resources[imageAddr]; rs == nil || rs.Primary == nil || !rs.Primary.Tainted {
							return fmt.Errorf("%s is not in state as a tainted resource", imageAddr)
						}
						return nil
					},
					// One task from outside, one from the failed Create: nothing was paid twice.
					checkCounts(srv, postsAre(2), tasksAre(2)),
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
	for _, must := range []string{"[TRACE]", "kie HTTP request", "op=generate", "[REDACTED]"} {
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
}
