package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 6: the API key never appears in state, plans, error messages or logs, at any log level.
//
// Every scenario runs with TF_LOG=TRACE and TF_ACC_LOG_PATH set to a file of its own, which collects the
// Terraform CLI's trace log, the in-process provider's tflog output (SDK and provider subsystems) and the
// test harness's log, which repeats every CLI error. The file must hold TRACE lines, the provider's HTTP
// records and, for failing scenarios, the error itself: that proves logging was on and complete. Then the
// log, every error the CLI printed, every plan (as JSON) and every state attribute are searched for the key.
// The search is for any 12-character piece of a key, so a key cut in half by a length limit counts too.

const (
	secretKey      = "kq7Vx2Lm9Tz4Rb8Nw3Pd6Hs1Jf5Gc0Yu" // the mock's key
	wrongSecretKey = "wZ3nR8cK5tQ1yH6mB9xL2vF7dJ4pS0Ga" // a well-formed key the mock rejects
	leakWindow     = 12
)

// secretLeaks lists where a piece of a secret occurs in text.
func secretLeaks(where, text string) []string {
	var found []string
	for _, key := range []string{secretKey, wrongSecretKey} {
		for i := 0; i+leakWindow <= len(key); i++ {
			if idx := strings.Index(text, key[i:i+leakWindow]); idx >= 0 {
				lo, hi := max(0, idx-60), min(len(text), idx+leakWindow+60)
				found = append(found, fmt.Sprintf("%s: %q", where, text[lo:hi]))
				break
			}
		}
	}
	return found
}

// leakScan gathers what a scenario showed the user and where the key was found in it.
type leakScan struct {
	scanned map[string]int // what was searched: kind -> count
	leaks   []string
}

func newLeakScan() *leakScan { return &leakScan{scanned: map[string]int{}} }

func (l *leakScan) scan(kind, where, text string) {
	l.scanned[kind]++
	l.leaks = append(l.leaks, secretLeaks(where, text)...)
}

// planCheck searches the whole JSON plan: prior state, planned values, resource changes, output and
// variable values, and the configuration, except the one expression that is the user's own api_key literal.
func (l *leakScan) planCheck() plancheck.PlanCheck { return leakPlanCheck{l} }

type leakPlanCheck struct{ l *leakScan }

func (c leakPlanCheck) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	b, err := json.Marshal(req.Plan)
	if err != nil {
		resp.Error = err
		return
	}
	// Terraform copies literal configuration into the plan's "configuration" section, api_key included
	// (that is why the guide recommends KIE_API_KEY). Only that expression is dropped before the search.
	var plan map[string]any
	if err := json.Unmarshal(b, &plan); err != nil {
		resp.Error = err
		return
	}
	if cfg, ok := plan["configuration"].(map[string]any); ok {
		if pcs, ok := cfg["provider_config"].(map[string]any); ok {
			if kie, ok := pcs["kie"].(map[string]any); ok {
				if exprs, ok := kie["expressions"].(map[string]any); ok {
					delete(exprs, "api_key")
				}
			}
		}
	}
	if b, err = json.Marshal(plan); err != nil {
		resp.Error = err
		return
	}
	c.l.scan("plans", "plan JSON", string(b))
}

// logRecord starts every record of the trace log.
var logRecord = regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d`)

// withoutConfigRecords drops the test harness's "Setting Terraform configuration" records: they quote
// the test's own .tf file, api_key literal included, and are not written by Terraform or the provider.
func withoutConfigRecords(log string) (string, int) {
	starts := logRecord.FindAllStringIndex(log, -1)
	var b strings.Builder
	dropped := 0
	for i, st := range starts {
		if i == 0 {
			b.WriteString(log[:st[0]])
		}
		end := len(log)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		rec := log[st[0]:end]
		if strings.Contains(rec[:min(len(rec), 200)], "sdk.helper_resource: Setting Terraform configuration") {
			dropped++
		} else {
			b.WriteString(rec)
		}
	}
	if len(starts) == 0 {
		return log, 0
	}
	return b.String(), dropped
}

// stateCheck searches every attribute of every resource and data source in state.
func (l *leakScan) stateCheck(s *terraform.State) error {
	for addr, rs := range s.RootModule().Resources {
		if rs.Primary == nil {
			continue
		}
		keys := make([]string, 0, len(rs.Primary.Attributes))
		for k := range rs.Primary.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%s\n", k, rs.Primary.Attributes[k])
		}
		l.scan("states", "state of "+addr, b.String())
	}
	return nil
}

type secretScenario struct {
	name  string
	key   string                  // the provider's key
	inEnv bool                    // pass the key as KIE_API_KEY instead of api_key
	setup func(*kiemock.Server)   // faults
	body  func(out string) string // resources
	err   *regexp.Regexp          // the apply must fail with this error; nil: it must succeed
	// What the error text must hold (checked after the leak search, so that a leak is reported as one).
	errMust []string
	// What the log must show besides TRACE lines and the provider's HTTP records.
	logMust []string
	// op is the create request's op in the provider's HTTP records; "generate" when empty.
	op string
	// refreshAfterError adds a refresh to a failing scenario, so that what the failed apply left in
	// state is searched too.
	refreshAfterError bool
}

func TestAccFault_apiKeyNeverLeaks(t *testing.T) {
	image := func(out string) string {
		return fmt.Sprintf(`
data "kie_credits" "account" {}

resource "kie_flux_image" "test" {
  prompt        = "a brass key on velvet"
  output_format = "png"
  output_path   = %s
}
`, hcl(out))
	}
	noFile := func(string) string {
		return "\nresource \"kie_flux_image\" \"test\" {\n  prompt = \"a brass key on velvet\"\n}\n"
	}
	scenarios := []secretScenario{
		{name: "success", key: secretKey, body: image},
		{name: "success-key-from-env", key: secretKey, inEnv: true, body: image},
		{
			name: "401-wrong-long-key", key: wrongSecretKey, body: noFile,
			err:     errText("KIE rejected the API key", "No task was created"),
			logMust: []string{"KIE rejected the API key"},
		},
		{
			name: "401-wrong-long-key-from-env", key: wrongSecretKey, inEnv: true, body: noFile,
			err:     errText("KIE rejected the API key"),
			logMust: []string{"KIE rejected the API key"},
		},
		{
			name: "500-on-generate", key: secretKey, body: noFile,
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 500})
			},
			err:     errText("Generation request outcome unknown"),
			logMust: []string{"Generation request outcome unknown"},
		},
		{
			name: "429s-on-generate-and-status", key: secretKey, body: image,
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 429})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointRecordInfo, Kind: kiemock.FaultStatus, Status: 429})
			},
			logMust: []string{"rate limited"},
		},
		{
			name: "download-faults", key: secretKey, body: image,
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultStatus, Status: 503})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultTruncatedImage})
			},
			logMust: []string{"unexpected EOF"},
		},
		{
			// A server that echoes the key: in a rejection long enough that the message is cut inside the
			// key, in status and credit answers, and in a CDN's HTML error page.
			name: "server-echoes-the-key", key: secretKey, body: noFile,
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 401,
					Message: strings.Repeat("y", 280) + " Bearer " + secretKey + " is not valid"})
			},
			err:     errText("KIE rejected the API key"),
			errMust: []string{"[REDACTED]"},
			logMust: []string{"KIE rejected the API key", "[REDACTED]"},
		},
		{
			name: "server-echoes-the-key-while-waiting", key: secretKey, body: image,
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointRecordInfo, Kind: kiemock.FaultBodyCode, BodyCode: 500,
					Message: "upstream rejected Authorization: Bearer " + secretKey})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultHTML, Status: 502,
					Message: "Authorization: Bearer " + secretKey})
			},
			logMust: []string{"[REDACTED]"},
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			// Not parallel: the logging environment is process-wide.
			runSecretScenario(t, sc, kiemock.Options{})
		})
	}
}

// runSecretScenario runs one scenario against a mock with the secret key and opts, and searches
// everything it showed for the key.
func runSecretScenario(t *testing.T, sc secretScenario, opts kiemock.Options) {
	t.Helper()
	opts.APIKey = secretKey
	if opts.Latency == 0 {
		opts.Latency = 50 * time.Millisecond
	}
	srv := testMock(t, opts)
	dir := t.TempDir()
	out := filepath.Join(dir, "secret.png")
	logFile := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logFile)
	expect := expectSurvived
	if sc.err != nil {
		expect = expectFailed
	}
	row := trackFault(t, srv, "6 no secret in logs, state, plans, errors", sc.name, expect, 1, dir)
	if sc.setup != nil {
		sc.setup(srv)
	}

	provider := providerBlock(srv)
	switch {
	case sc.inEnv:
		provider = strings.Replace(provider, "api_key           = "+hcl(testAPIKey), "", 1)
		t.Setenv("KIE_API_KEY", sc.key)
	default:
		provider = strings.Replace(provider, hcl(testAPIKey), hcl(sc.key), 1)
	}
	if strings.Contains(provider, testAPIKey) {
		t.Fatalf("provider block still holds the default key:\n%s", provider)
	}
	cfg := provider + sc.body(out)

	scan := newLeakScan()
	errs := newStepErrors()
	steps := []resource.TestStep{{
		PreConfig:        errs.enter(1, nil),
		Config:           cfg,
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{scan.planCheck()}},
		Check:            scan.stateCheck,
	}}
	if sc.err != nil {
		errs.expect(1, sc.err)
		if sc.refreshAfterError {
			steps = append(steps, resource.TestStep{
				PreConfig:          errs.enter(2, nil),
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks:  resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{scan.planCheck()}},
				Check:              scan.stateCheck,
			})
		}
	} else {
		// Refresh and plan again: the finished image's plan must be empty, and is searched too.
		steps = append(steps, resource.TestStep{
			PreConfig: errs.enter(2, nil),
			Config:    cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{
				PreApply: []plancheck.PlanCheck{scan.planCheck(), plancheck.ExpectEmptyPlan()},
			},
			Check: scan.stateCheck,
		})
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		ErrorCheck:               errs.check,
		Steps:                    steps,
	})
	if sc.err != nil {
		errs.text(t, 1)
	}
	if (sc.err == nil || sc.refreshAfterError) && scan.scanned["states"] == 0 {
		t.Error("no state was searched")
	}
	for i, text := range errs.all() {
		scan.scan("errors", fmt.Sprintf("error %d", i+1), text)
	}
	defer func() {
		for _, must := range sc.errMust {
			if text := strings.Join(errs.all(), "\n"); !strings.Contains(text, must) {
				t.Errorf("the error lacks %q:\n%s", must, text)
			}
		}
	}()

	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("reading the trace log: %v", err)
	}
	log := string(raw)
	op := "op=generate"
	if sc.op != "" {
		op = "op=" + sc.op
	}
	for _, must := range append([]string{"[TRACE]", "kie HTTP request", op}, sc.logMust...) {
		if !strings.Contains(log, must) {
			t.Errorf("the trace log (%d bytes) lacks %q: logging did not capture everything", len(log), must)
		}
	}
	rest, dropped := withoutConfigRecords(log)
	if dropped == 0 {
		t.Error("the trace log has no configuration record: the log format changed, so the exclusion above needs a look")
	}
	scan.scan("logs", "trace log", rest)
	if scan.scanned["plans"] == 0 {
		t.Error("no plan was searched")
	}
	for _, l := range scan.leaks {
		t.Errorf("the API key leaked in %s", l)
	}
	row.setLeaks(len(scan.leaks))
	t.Logf("searched %v; trace log %d bytes", scan.scanned, len(log))
}
