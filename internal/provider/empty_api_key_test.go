package provider

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// What a configuration without a usable API key may still do. Anything that needs the API (a new or
// replaced image of either resource, finishing a task still running, an import, a data source) fails the
// plan with an error naming api_key, before any request; settled images plan and destroy without a key.

// keyCase is one way of ending up without a key.
type keyCase struct {
	name string
	line string  // replaces the provider block's api_key line ("" removes it)
	env  *string // KIE_API_KEY for the provider; nil: unset
	want []string
}

var emptyKeyCases = []keyCase{
	{
		// The CI case: a variable whose secret was not set, while the runner's environment has a key of
		// (perhaps) another account. The explicit value wins and is refused.
		name: "variable left empty, KIE_API_KEY set", line: "api_key = var.kie_api_key", env: ptr(testAPIKey),
		want: []string{"api_key is set to an empty string", "never replaced by the KIE_API_KEY environment variable, which is set but was not used"},
	},
	{
		name: "empty string, KIE_API_KEY unset", line: `api_key = ""`,
		want: []string{"api_key is set to an empty string", "KIE_API_KEY environment variable is not set either"},
	},
	{
		name: "no api_key, KIE_API_KEY empty", line: "", env: ptr(""),
		want: []string{"api_key is not set", "KIE_API_KEY environment variable is empty"},
	},
}

// keyConfig is cliConfig with the provider's api_key line replaced (a variable kie_api_key, default "",
// is declared for it).
func keyConfig(t *testing.T, srv *kiemock.Server, line, body string) string {
	t.Helper()
	cfg := cliConfig(srv, body+"\nvariable \"kie_api_key\" {\n  type    = string\n  default = \"\"\n}\n")
	old := fmt.Sprintf("api_key           = %q", testAPIKey)
	if !strings.Contains(cfg, old) {
		t.Fatalf("the provider block lacks %q", old)
	}
	return strings.Replace(cfg, old, line, 1)
}

// setKeyEnv sets the provider's KIE_API_KEY (the provider runs in this process) and the CLI's
// TF_VAR_kie_api_key to "", as an unset CI secret would.
func setKeyEnv(t *testing.T, h *cliHarness, env *string) {
	t.Helper()
	if env == nil {
		unsetenv(t, envAPIKey)
	} else {
		t.Setenv(envAPIKey, *env)
	}
	h.setenv("TF_VAR_kie_api_key", "")
}

// requireRefused asserts that a command failed with the missing-key error for what needed the API, and
// that the key shows nowhere in its output.
func requireRefused(t *testing.T, out string, err error, needs string, kc keyCase) {
	t.Helper()
	if exitCode(err) != 1 {
		t.Fatalf("exit code %d, want 1 (refused):\n%s", exitCode(err), out)
	}
	phrases := append([]string{"Error: Missing KIE API key", needs + " needs the KIE API, but"}, kc.want...)
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range append(phrases, "Nothing was sent to KIE and nothing was paid") {
		if !strings.Contains(flat, p) {
			t.Fatalf("output lacks %q:\n%s", p, out)
		}
	}
	if strings.Contains(out, testAPIKey) {
		t.Fatalf("the output holds the API key:\n%s", out)
	}
}

// noRequests asserts that the mock saw no API request since before, except those the test made itself.
func noRequests(t *testing.T, srv *kiemock.Server, before kiemock.Stats) {
	t.Helper()
	st := srv.Stats()
	// Tasks in flight change as the test's own tasks finish: only requests count.
	st.InFlight, st.PeakInFlight, before.InFlight, before.PeakInFlight = 0, 0, 0, 0
	if st != before {
		t.Fatalf("the mock was used: tasks created %d (before %d), status queries %d (before %d), credit queries %d, "+
			"auth failures %d; want no request at all\n%+v", st.TasksCreated, before.TasksCreated, st.StatusQueries,
			before.StatusQueries, st.CreditQueries, st.AuthFailures, st)
	}
}

// A plan that would pay for a new image (either resource), or reads a data source, is refused at plan
// time for every way of having no key, and the mock creates no task and sees no request at all.
func TestAccEmptyAPIKey_refusedAtPlanBeforeAnythingIsPaid(t *testing.T) {
	for _, kc := range emptyKeyCases {
		t.Run(kc.name, func(t *testing.T) {
			srv, h := resumeSetup(t)
			market := postMarketTask(t, srv, keptMarketBody(t, "a lighthouse at noon"))
			flux := postTask(t, srv, map[string]any{"prompt": "a lighthouse at dusk"})
			setKeyEnv(t, h, kc.env)
			before := srv.Stats()
			for _, target := range []struct{ name, body, needs string }{
				{"kie_flux_image", keptImage(""), "Creating this image (a paid generation, or finishing an earlier task)"},
				{"kie_image", keptMarketImage("a lighthouse in fog", ""), "Creating this image (a paid generation, or finishing an earlier task)"},
				{"kie_credits", `data "kie_credits" "account" {}`, "Reading the account's credits"},
				{"kie_market_task", `data "kie_market_task" "t" { task_id = "` + market + `" }`, "Reading task " + market},
				{"kie_flux_task", `data "kie_flux_task" "t" { task_id = "` + flux + `" }`, "Reading task " + flux},
			} {
				t.Run(target.name, func(t *testing.T) {
					h.write("main.tf", keyConfig(t, srv, kc.line, target.body))
					out, err := h.run("plan", "-input=false")
					requireRefused(t, out, err, target.needs, kc)
					// The apply is refused by its own plan, before asking for approval.
					out, err = h.run("apply", "-auto-approve", "-input=false")
					requireRefused(t, out, err, target.needs, kc)
					noRequests(t, srv, before)
				})
			}
			if st := srv.Stats(); st.TasksCreated != 2 || st.MarketTasksCreated != 1 {
				t.Fatalf("tasks created %d (Market %d), want only the test's own 2 (1)", st.TasksCreated, st.MarketTasksCreated)
			}
		})
	}
}

// An import needs the API, by import command and by import block, for both resources: refused
// without a key, before any request.
func TestAccEmptyAPIKey_importRefused(t *testing.T) {
	kc := emptyKeyCases[0]
	srv, h := resumeSetup(t)
	h.mustRun("init", "-input=false")
	flux := postTask(t, srv, map[string]any{"prompt": "a lighthouse in fog", "outputFormat": "png"})
	market := postMarketTask(t, srv, keptMarketBody(t, "a lighthouse in fog"))
	fluxCfg := strings.Replace(keptImage(""), "out/kept.png", "out/flux.png", 1)
	marketCfg := keptMarketImage("a lighthouse in fog", "")
	setKeyEnv(t, h, kc.env)
	before := srv.Stats()
	for _, tc := range []struct{ name, addr, id, body string }{
		{"kie_flux_image", resumeAddr, flux, fluxCfg},
		{"kie_image", keptMarketAddr, market, marketCfg},
	} {
		t.Run(tc.name+" command", func(t *testing.T) {
			h.write("main.tf", keyConfig(t, srv, kc.line, tc.body))
			out, err := h.run("import", "-input=false", tc.addr, tc.id)
			requireRefused(t, out, err, "Importing task "+tc.id, kc)
			noRequests(t, srv, before)
		})
		t.Run(tc.name+" block", func(t *testing.T) {
			h.write("main.tf", keyConfig(t, srv, kc.line, tc.body+"\nimport {\n  to = "+tc.addr+"\n  id = \""+tc.id+"\"\n}\n"))
			out, err := h.run("plan", "-input=false")
			requireRefused(t, out, err, "Importing task "+tc.id, kc)
			noRequests(t, srv, before)
		})
	}
}

// A task still running in state (imported while generating) needs the API to finish: plan and apply
// are refused without a key, naming each task. A destroy needs no API call, but terraform destroy
// first runs a normal plan to refresh, which the provider cannot tell from any other plan: the refusal
// says to skip that refresh, and the destroy then works without a key or a request.
func TestAccEmptyAPIKey_runningTaskRefused(t *testing.T) {
	kc := emptyKeyCases[0]
	srv, h := resumeSetup(t)
	h.mustRun("init", "-input=false") // before the tasks start, so they are still running at import
	prompt := "[mock:latency=20s] a lighthouse in fog"
	flux := postTask(t, srv, map[string]any{"prompt": prompt, "outputFormat": "png"})
	market := postMarketTask(t, srv, keptMarketBody(t, prompt))
	body := strings.NewReplacer("a lighthouse in fog", prompt, "out/kept.png", "out/flux.png").Replace(keptImage("")) +
		keptMarketImage(prompt, "")
	h.write("main.tf", cliConfig(srv, body))
	h.mustRun("import", "-input=false", resumeAddr, flux)
	h.mustRun("import", "-input=false", keptMarketAddr, market)
	if got := h.resourceAttr(resumeAddr, "status"); got != "GENERATING" {
		t.Fatalf("imported status %q, want GENERATING", got)
	}

	setKeyEnv(t, h, kc.env)
	h.write("main.tf", keyConfig(t, srv, kc.line, body))
	before := srv.Stats()
	for _, cmd := range [][]string{{"plan", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
		t.Run(cmd[0], func(t *testing.T) {
			out, err := h.run(cmd...)
			requireRefused(t, out, err, "Finishing task "+flux+", still generating at KIE,", kc)
			requireRefused(t, out, err, "Finishing task "+market+", still running at KIE,", kc)
			noRequests(t, srv, before)
		})
	}
	t.Run("destroy", func(t *testing.T) {
		out, err := h.run("destroy", "-auto-approve", "-input=false")
		requireRefused(t, out, err, "Finishing task "+flux+", still generating at KIE,", kc)
		requireOutput(t, out, "if this is terraform destroy, run it with -refresh=false")
		out = h.mustRun("destroy", "-auto-approve", "-input=false", "-refresh=false")
		requireOutput(t, out, "2 destroyed")
		noRequests(t, srv, before)
	})
	if st := srv.Stats(); st.TasksCreated != 2 {
		t.Fatalf("tasks created %d, want only the test's own 2", st.TasksCreated)
	}
}

// Control: settled images with intact files plan no change and destroy without a key, and without
// any request (no key is needed when no API call is).
func TestAccEmptyAPIKey_settledImagesNeedNoKey(t *testing.T) {
	srv, h := resumeSetup(t)
	body := strings.Replace(keptImage(""), "out/kept.png", "out/flux.png", 1) + keptMarketImage("a lighthouse at noon", "")
	h.write("main.tf", cliConfig(srv, body))
	h.mustRun("apply", "-auto-approve", "-input=false")
	for _, kc := range emptyKeyCases {
		t.Run(kc.name, func(t *testing.T) {
			setKeyEnv(t, h, kc.env)
			h.write("main.tf", keyConfig(t, srv, kc.line, body))
			before := srv.Stats()
			if code, out := h.planExitCode("-input=false"); code != 0 || strings.Contains(out, "API key") {
				t.Fatalf("plan without a key of settled images: exit %d\n%s", code, out)
			}
			noRequests(t, srv, before)
		})
	}
	kc := emptyKeyCases[0]
	setKeyEnv(t, h, kc.env)
	h.write("main.tf", keyConfig(t, srv, kc.line, body))
	before := srv.Stats()
	out := h.mustRun("destroy", "-auto-approve", "-input=false")
	requireOutput(t, out, "2 destroyed")
	noRequests(t, srv, before)
	for _, f := range []string{"out/flux.png", "out/kept.png", "out/kept-2.png"} {
		if err := checkNoFile(h.path(f))(nil); err != nil {
			t.Fatal(err)
		}
	}
}

// unsetenv removes name from the environment for the rest of the test and restores it afterwards.
func unsetenv(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "")
	if err := os.Unsetenv(name); err != nil {
		t.Fatal(err)
	}
}

func ptr(s string) *string { return &s }
