package provider

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"

	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

// The paths of "never pay twice" that terraform-plugin-testing cannot script: -refresh=false, saved plans,
// create_before_destroy, imports of running and failed tasks, and kept tasks that can never finish. Each
// drives the real CLI (cli_harness_test.go) and counts the tasks the mock created: one per image.

// resumeSetup starts a mock with small images and a harness whose provider keeps its resume ledger in
// the working directory's .terraform folder, as a real provider process does.
func resumeSetup(t *testing.T) (*kiemock.Server, *cliHarness) {
	srv := testMock(t, kiemock.Options{ImageScale: 0.1, Latency: 50 * time.Millisecond})
	h := newCLIHarness(t)
	t.Setenv(localstate.EnvDir, "")
	return srv, h
}

// newMachine forgets what the provider kept on this machine, as a CI runner that starts from a clean
// checkout and the remote state would.
func (h *cliHarness) newMachine() {
	h.t.Helper()
	if err := os.RemoveAll(h.path(".terraform/kie")); err != nil {
		h.t.Fatal(err)
	}
}

// mustFail runs a command that must fail with output matching every pattern.
func (h *cliHarness) mustFail(patterns []string, args ...string) string {
	h.t.Helper()
	out, err := h.run(args...)
	if err == nil {
		h.t.Fatalf("%s succeeded, want a failure:\n%s", strings.Join(args, " "), out)
	}
	requireOutput(h.t, out, patterns...)
	return out
}

// requireOutput fails unless out matches every pattern (regular expressions, with whitespace between
// words matching line breaks too).
func requireOutput(t *testing.T, out string, patterns ...string) {
	t.Helper()
	flat := strings.Join(strings.Fields(out), " ")
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(flat) {
			t.Fatalf("output does not match %q:\n%s", p, out)
		}
	}
}

// requireOneImage asserts the resource holds the mock's only task, succeeded, with its file written,
// no temporary file left beside it, and a plan without refresh that changes nothing.
func requireOneImage(t *testing.T, srv *kiemock.Server, h *cliHarness, addr, file string) {
	t.Helper()
	requireCounts(t, srv, postsAre(1), tasksAre(1))
	tasks := srv.Tasks()
	if id := h.resourceAttr(addr, "task_id"); len(tasks) != 1 || tasks[0].ID != id {
		t.Fatalf("state holds task %s, the mock has %+v", id, tasks)
	}
	if got := h.resourceAttr(addr, "status"); got != "SUCCESS" {
		t.Fatalf("status %q", got)
	}
	if file != "" {
		if got, want := h.resourceAttr(addr, "output_sha256"), fileSHA(t, h.path(file)); got != want {
			t.Fatalf("output_sha256 %s, file has %s", got, want)
		}
		if tmp := tempFiles(filepath.Dir(h.path(file))); len(tmp) > 0 {
			t.Fatalf("temporary files left: %v", tmp)
		}
	}
	if code, out := h.planExitCode("-refresh=false"); code != 0 {
		t.Fatalf("plan after finishing the image shows changes:\n%s", out)
	}
	requireCounts(t, srv, postsAre(1), tasksAre(1))
}

const resumeAddr = "kie_flux_image.kept"

func keptImage(extra string) string {
	return `
resource "kie_flux_image" "kept" {
  prompt        = "a lighthouse in fog"
  output_format = "png"
  output_path   = "out/kept.png"
` + extra + `
}
`
}

// Path 1: the download fails after KIE finished the task; the retry runs with -refresh=false (and on a
// fresh machine, where only the state knows the task).
func TestAccResume_downloadFailedThenNoRefresh(t *testing.T) {
	for _, fresh := range []bool{false, true} {
		name := map[bool]string{false: "same-machine", true: "fresh-machine"}[fresh]
		t.Run(name, func(t *testing.T) {
			srv, h := resumeSetup(t)
			h.write("main.tf", cliConfig(srv, keptImage("  timeouts {\n    create = \"3s\"\n  }")))
			srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultStatus, Status: 503, Times: -1})
			h.mustFail([]string{"Downloading the image failed", taskIDPattern, "Run terraform apply again"},
				"apply", "-auto-approve", "-input=false")
			srv.ClearFaults()
			if fresh {
				h.newMachine()
			}
			h.write("main.tf", cliConfig(srv, keptImage("  timeouts {\n    create = \"60s\"\n  }")))
			out := h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
			requireOutput(t, out, "Finishing an earlier task instead of paying again")
			requireOneImage(t, srv, h, resumeAddr, "out/kept.png")
		})
	}
}

// Path 2: create_before_destroy, a create timeout, then a plain apply — and the same without refresh
// on a fresh machine, and a plan saved by one command and applied by another.
func TestAccResume_timeoutThenEveryApplyPath(t *testing.T) {
	cases := []struct {
		name  string
		cbd   bool
		fresh bool
		// lostState: the state write after the failed apply never happened (the ledger still has it).
		lostState bool
		apply     func(h *cliHarness) string
	}{
		{"plain-apply", false, false, false, func(h *cliHarness) string { return h.mustRun("apply", "-auto-approve", "-input=false") }},
		{"create-before-destroy", true, false, false, func(h *cliHarness) string { return h.mustRun("apply", "-auto-approve", "-input=false") }},
		{"create-before-destroy-no-refresh-fresh-machine", true, true, false, func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
		}},
		{"saved-plan-fresh-machine", false, true, false, func(h *cliHarness) string {
			out := h.mustRun("plan", "-input=false", "-out=tfplan")
			return out + h.mustRun("apply", "-input=false", "tfplan")
		}},
		{"state-never-written", false, false, true, func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false")
		}},
		{"saved-plan-create-before-destroy-no-refresh", true, false, false, func(h *cliHarness) string {
			out := h.mustRun("plan", "-input=false", "-refresh=false", "-out=tfplan")
			return out + h.mustRun("apply", "-input=false", "tfplan")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, h := resumeSetup(t)
			extra := "  timeouts {\n    create = \"1s\"\n  }"
			if tc.cbd {
				extra += "\n  lifecycle {\n    create_before_destroy = true\n  }"
			}
			cfg := strings.Replace(keptImage(extra), "a lighthouse in fog", "[mock:latency=3s] a lighthouse in fog", 1)
			h.write("main.tf", cliConfig(srv, cfg))
			h.mustFail([]string{"Waiting for the image did not finish", taskIDPattern, "is paid for"},
				"apply", "-auto-approve", "-input=false")
			requireCounts(t, srv, postsAre(1))
			if tc.fresh {
				h.newMachine()
			}
			if tc.lostState {
				for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
					if err := os.Remove(h.path(f)); err != nil && !os.IsNotExist(err) {
						t.Fatal(err)
					}
				}
			}
			// The task is still generating: the apply waits for it (within a longer timeout) instead of
			// paying again, so even a spend cap of zero lets it through.
			h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+
				strings.Replace(cfg, `create = "1s"`, `create = "30s"`, 1))
			requireOutput(t, tc.apply(h), "Finishing an earlier task instead of paying again", taskIDPattern)
			requireOneImage(t, srv, h, resumeAddr, "out/kept.png")
		})
	}
}

// Path 3: an import of a task that is still generating waits for it on the next apply and downloads
// the image, without a new task — by import command and by import block.
func TestAccResume_importRunningTaskFinishesIt(t *testing.T) {
	for _, how := range []string{"command", "block"} {
		t.Run(how, func(t *testing.T) {
			srv, h := resumeSetup(t)
			h.mustRun("init", "-input=false") // before the task starts, so it is still generating at import
			prompt := "[mock:latency=8s] a lighthouse in fog"
			id := postTask(t, srv, map[string]any{"prompt": prompt, "outputFormat": "png"})
			cfg := strings.Replace(keptImage(""), "a lighthouse in fog", prompt, 1)
			if how == "block" {
				cfg += "\nimport {\n  to = " + resumeAddr + "\n  id = \"" + id + "\"\n}\n"
				h.write("main.tf", cliConfig(srv, cfg))
			} else {
				h.write("main.tf", cliConfig(srv, cfg))
				h.mustRun("import", "-input=false", resumeAddr, id)
				if got := h.resourceAttr(resumeAddr, "status"); got != "GENERATING" {
					t.Fatalf("imported status %q, want GENERATING", got)
				}
			}
			out := h.mustRun("apply", "-auto-approve", "-input=false")
			if strings.Contains(out, "expired") || strings.Contains(out, "-replace") {
				t.Fatalf("the apply speaks of expired links or replacing:\n%s", out)
			}
			requireOneImage(t, srv, h, resumeAddr, "out/kept.png")
		})
	}
}

// Path 4: an import of a task that failed at KIE is not a silent no-op: the plan names the task and
// KIE's error and plans a new generation, visibly.
func TestAccResume_importFailedTaskPlansNewImage(t *testing.T) {
	srv, h := resumeSetup(t)
	prompt := "[mock:generate-fail] a lighthouse in fog"
	id := postTask(t, srv, map[string]any{"prompt": prompt, "outputFormat": "png"})
	if flag := waitTaskEnded(t, srv, id); flag != 3 {
		t.Fatalf("task %s ended with successFlag %d, want 3", id, flag)
	}
	h.write("main.tf", cliConfig(srv, strings.Replace(keptImage(""), "a lighthouse in fog", prompt, 1)))
	h.mustRun("import", "-input=false", resumeAddr, id)
	code, out := h.planExitCode()
	if code != 2 {
		t.Fatalf("plan after importing a failed task shows no change:\n%s", out)
	}
	requireOutput(t, out, "The task in state failed", id, "GENERATE_FAILED", "generation failed",
		"new paid task", "must be replaced", "1 to add, 0 to change, 1 to destroy")
	requireCounts(t, srv, postsAre(1), tasksAre(1))
}

// A kept task that KIE no longer knows (404) is given up with an error that says so; the next apply
// generates anew. One the key cannot read (403) says how to proceed, and a change of triggers then
// pays for a new image.
func TestAccResume_keptTaskThatCanNeverFinish(t *testing.T) {
	for _, status := range []int{404, 403} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			srv, h := resumeSetup(t)
			cfg := strings.Replace(keptImage("  timeouts {\n    create = \"1s\"\n  }"), "a lighthouse in fog", "[mock:latency=2s] a lighthouse in fog", 1)
			h.write("main.tf", cliConfig(srv, cfg))
			h.mustFail([]string{"Waiting for the image did not finish"}, "apply", "-auto-approve", "-input=false")
			srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointRecordInfo, Kind: kiemock.FaultStatus, Status: status, Times: -1})
			first := srv.Tasks()[0].ID
			if status == 404 {
				h.mustFail([]string{"Kept task unknown to KIE", first, "next terraform apply starts a new generation"},
					"apply", "-auto-approve", "-input=false")
			} else {
				h.mustFail([]string{"Kept task not readable with this API key", first, "triggers"},
					"apply", "-auto-approve", "-input=false")
				// Not given up on its own: the same apply fails the same way, and nothing is paid.
				h.mustFail([]string{"Kept task not readable with this API key"}, "apply", "-auto-approve", "-input=false")
				cfg = strings.Replace(cfg, "timeouts", "triggers = { attempt = \"2\" }\n  timeouts", 1)
			}
			requireCounts(t, srv, postsAre(1))
			srv.ClearFaults()
			h.write("main.tf", cliConfig(srv, strings.Replace(cfg, `create = "1s"`, `create = "30s"`, 1)))
			h.mustRun("apply", "-auto-approve", "-input=false")
			requireCounts(t, srv, postsAre(2), tasksAre(2))
			if got := h.resourceAttr(resumeAddr, "task_id"); got == first {
				t.Fatalf("state still holds the task that can never finish")
			}
			if got := h.resourceAttr(resumeAddr, "status"); got != "SUCCESS" {
				t.Fatalf("status %q", got)
			}
		})
	}
}

// Path 5, at apply time: the plan-time cap cannot see a limit set only when a saved plan is applied
// (KIE_MAX_NEW_IMAGES in the apply's environment); the apply still refuses beyond it, before paying.
func TestAccSpendGuard_savedPlanAppliedUnderALowerLimit(t *testing.T) {
	srv, h := resumeSetup(t)
	h.write("main.tf", cliConfig(srv, `
resource "kie_flux_image" "batch" {
  count  = 3
  prompt = "a tile ${count.index}"
}
`))
	h.mustRun("plan", "-input=false", "-out=tfplan")
	t.Setenv(envMaxNewImages, "1")
	h.mustFail([]string{"max_new_images", "is 1"}, "apply", "-input=false", "tfplan")
	if n := srv.Stats().GenerateRequests; n > 1 {
		t.Fatalf("with KIE_MAX_NEW_IMAGES=1 at apply the mock got %d generate POSTs", n)
	}
}

// Path 5, replacements: -replace and create_before_destroy count against max_new_images like any new
// image, each replacement once (a create_before_destroy plan holds its create and its delete), and a
// plan over the cap is refused before anything is paid.
func TestAccSpendGuard_replaceAndCreateBeforeDestroy(t *testing.T) {
	srv, h := resumeSetup(t)
	cfg := func(limit int, prompt string) string {
		return cliRequiredProviders + providerBlock(srv, fmt.Sprintf("max_new_images = %d", limit)) + `
resource "kie_flux_image" "batch" {
  count  = 2
  prompt = "` + prompt + ` ${count.index}"
  lifecycle {
    create_before_destroy = true
  }
}
`
	}
	h.write("main.tf", cfg(2, "a tile"))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, postsAre(2), tasksAre(2))

	h.write("main.tf", cfg(1, "a tile"))
	h.mustFail([]string{"max_new_images is 1 and this plan would start at least 2 new paid generations"},
		"plan", "-input=false", "-replace=kie_flux_image.batch[0]", "-replace=kie_flux_image.batch[1]")
	requireCounts(t, srv, postsAre(2))
	h.mustRun("apply", "-auto-approve", "-input=false", "-replace=kie_flux_image.batch[1]")
	requireCounts(t, srv, postsAre(3), tasksAre(3))

	h.write("main.tf", cfg(1, "a card"))
	h.mustFail([]string{"max_new_images is 1 and this plan would start at least 2 new paid generations"},
		"apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, postsAre(3))
	h.write("main.tf", cfg(2, "a card"))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, postsAre(5), tasksAre(5))
}

// Resource identity: on CLIs that import by identity (Terraform and OpenTofu 1.12 and later), an import
// block with identity = { task_id } adopts a finished task with a no-op plan and stores the identity;
// every CLI stores state without identity errors (the other tests show that).
func TestAccFluxImage_importByIdentity(t *testing.T) {
	srv, h := resumeSetup(t)
	h.requireCapability(capImportIdentity)
	id := postTask(t, srv, map[string]any{"prompt": "a lighthouse in fog", "outputFormat": "png"})
	h.write("main.tf", cliConfig(srv, keptImage("")+`
import {
  to       = `+resumeAddr+`
  identity = { task_id = "`+id+`" }
}
`))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireOneImage(t, srv, h, resumeAddr, "out/kept.png")
	rs, ok := stateResource(h.state(), resumeAddr)
	if !ok {
		t.Fatal("resource not in state")
	}
	if got := rs.IdentityValues["task_id"]; got != id {
		t.Fatalf("stored identity %v, want task_id %s", rs.IdentityValues, id)
	}
}

// Path 2 with lifecycle { destroy = false }: Terraform 1.16 and OpenTofu 1.12 replace the tainted object
// of an interrupted create by forgetting it (ForgetThenCreate, CreateThenForget) instead of calling
// Delete, so no Delete hands the unfinished task on; the create still finishes the earlier task instead
// of paying again.
func TestAccResume_timeoutThenDestroyFalse(t *testing.T) {
	cases := []struct {
		name       string
		cbd, fresh bool
		args       []string
	}{
		{"plain", false, false, nil},
		{"create-before-destroy", true, false, nil},
		{"no-refresh-fresh-machine", false, true, []string{"-refresh=false"}},
		{"create-before-destroy-no-refresh-fresh-machine", true, true, []string{"-refresh=false"}},
	}
	// The plan's legend names the action, in Terraform's words and OpenTofu's alike (OpenTofu 1.12 forgets
	// first even with create_before_destroy).
	const forgets = "(forget and then create replacement|create replacement and then forget)"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, h := resumeSetup(t)
			h.requireCapability(capDestroyFalse)
			extra := "  timeouts {\n    create = \"1s\"\n  }\n  lifecycle {\n    destroy = false\n"
			if tc.cbd {
				extra += "    create_before_destroy = true\n"
			}
			extra += "  }"
			cfg := strings.Replace(keptImage(extra), "a lighthouse in fog", "[mock:latency=3s] a lighthouse in fog", 1)
			h.write("main.tf", cliConfig(srv, cfg))
			h.mustFail([]string{"Waiting for the image did not finish", taskIDPattern, "is paid for"},
				"apply", "-auto-approve", "-input=false")
			requireCounts(t, srv, postsAre(1))
			if tc.fresh {
				h.newMachine()
			}
			h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+
				strings.Replace(cfg, `create = "1s"`, `create = "30s"`, 1))
			out := h.mustRun(append([]string{"apply", "-auto-approve", "-input=false"}, tc.args...)...)
			requireOutput(t, out, forgets, "Finishing an earlier task instead of paying again", taskIDPattern)
			requireOneImage(t, srv, h, resumeAddr, "out/kept.png")
		})
	}
}
