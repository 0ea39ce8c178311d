package provider

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Imports of kie_image, by the real CLI: a task still running is finished by the next apply (an
// update, no new task), a failed one plans a visible replacement that pays for exactly one new task,
// and on CLIs that import by identity, an import block with identity adopts a finished task.

// An import of a task still running: the next apply waits for it and downloads every result, without
// a new task — by import command and by import block.
func TestAccImageImport_runningTaskFinishedByNextApply(t *testing.T) {
	for _, how := range []string{"command", "block"} {
		t.Run(how, func(t *testing.T) {
			srv, h := resumeSetup(t)
			h.mustRun("init", "-input=false") // before the task starts, so it is still running at import
			prompt := "[mock:latency=8s] a lighthouse in fog"
			id := postMarketTask(t, srv, keptMarketBody(t, prompt))
			cfg := keptMarketImage(prompt, "")
			if how == "block" {
				cfg += "\nimport {\n  to = " + keptMarketAddr + "\n  id = \"" + id + "\"\n}\n"
				h.write("main.tf", cliConfig(srv, cfg))
			} else {
				h.write("main.tf", cliConfig(srv, cfg))
				h.mustRun("import", "-input=false", keptMarketAddr, id)
				if got := h.resourceAttr(keptMarketAddr, "state"); got == "" || got == "success" || got == "fail" {
					t.Fatalf("imported state %q, want the task still running", got)
				}
			}
			out := h.mustRun("apply", "-auto-approve", "-input=false")
			requireOutput(t, out, "0 added, 1 changed, 0 destroyed")
			if strings.Contains(out, "must be replaced") || strings.Contains(out, "Finishing an earlier task") {
				t.Fatalf("the apply replaced the imported task instead of finishing it:\n%s", out)
			}
			requireMarketImage(t, srv, h, keptMarketAddr, 1, keptMarketFiles...)
		})
	}
}

// uploadToMock stores data in the mock's file store at uploadPath/name, as KIE's upload API would.
func uploadToMock(t *testing.T, srv *kiemock.Server, uploadPath, name string, data []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"base64Data": base64.StdEncoding.EncodeToString(data),
		"uploadPath": uploadPath, "fileName": name})
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/api/file-base64-upload", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("upload: HTTP %d", resp.StatusCode)
	}
}

// An import of a task that failed at KIE (its input image could not be read) is not a silent no-op:
// the plan names the task and KIE's message and plans a replacement; once the input is fixed, the
// apply pays for exactly one new task, which succeeds.
func TestAccImageImport_failedTaskPlansOneVisibleReplacement(t *testing.T) {
	for _, how := range []string{"command", "block"} {
		t.Run(how, func(t *testing.T) {
			srv, h := resumeSetup(t)
			const addr = "kie_image.fixed"
			logo := srv.URL() + "/files/uploads/imports/logo.png" // not uploaded yet: KIE cannot read it
			body, _ := json.Marshal(map[string]any{"model": "google/nano-banana-edit",
				"input": map[string]any{"prompt": "add snow", "image_urls": []string{logo}}})
			id := startExternalMarketTask(t, srv, string(body))
			snap, _ := srv.MarketTask(id)
			if snap.State != kiemock.StateFail || snap.FailMsg == "" {
				t.Fatalf("external task %s: state %s, failMsg %q; want a failure with a message", id, snap.State, snap.FailMsg)
			}
			cfg := `
resource "kie_image" "fixed" {
  model       = "google/nano-banana-edit"
  input       = { prompt = "add snow", image_urls = [` + hcl(logo) + `] }
  output_path = "out/fixed.png"
}
`
			plan := "1 to add, 0 to change, 1 to destroy"
			if how == "block" {
				cfg += "\nimport {\n  to = " + addr + "\n  id = \"" + id + "\"\n}\n"
				plan = "1 to import, " + plan
			}
			h.write("main.tf", cliConfig(srv, cfg))
			if how == "command" {
				h.mustRun("import", "-input=false", addr, id)
			}
			code, out := h.planExitCode()
			if code != 2 {
				t.Fatalf("plan after importing a failed task shows no change:\n%s", out)
			}
			requireOutput(t, out, "The task in state failed", id, "KIE's message: input image could not be processed",
				"new paid task", "must be replaced", plan)
			requireCounts(t, srv, marketCreatesAre(1)...)

			in := filepath.Join(t.TempDir(), "logo.png")
			writeTestImage(t, in, "png", 3)
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			uploadToMock(t, srv, "imports", "logo.png", data)
			out = h.mustRun("apply", "-auto-approve", "-input=false")
			requireOutput(t, out, "1 added, 0 changed, 1 destroyed")
			requireMarketImage(t, srv, h, addr, 2, "out/fixed.png")
		})
	}
}

// Resource identity: on CLIs that import by identity (Terraform and OpenTofu 1.12 and later), an import
// block with identity = { task_id } adopts a finished task, downloads its results (an update, no new
// task) and stores the identity.
func TestAccImageImport_byIdentity(t *testing.T) {
	srv, h := resumeSetup(t)
	h.requireCapability(capImportIdentity)
	const prompt = "a lighthouse in fog"
	id := startExternalMarketTask(t, srv, keptMarketBody(t, prompt))
	h.write("main.tf", cliConfig(srv, keptMarketImage(prompt, "")+`
import {
  to       = `+keptMarketAddr+`
  identity = { task_id = "`+id+`" }
}
`))
	out := h.mustRun("apply", "-auto-approve", "-input=false")
	requireOutput(t, out, "1 imported, 0 added, 1 changed, 0 destroyed")
	requireMarketImage(t, srv, h, keptMarketAddr, 1, keptMarketFiles...)
	rs, ok := stateResource(h.state(), keptMarketAddr)
	if !ok {
		t.Fatal("resource not in state")
	}
	if got := rs.IdentityValues["task_id"]; got != id {
		t.Fatalf("stored identity %v, want task_id %s", rs.IdentityValues, id)
	}
}

// Ctrl-C while the update waits for an imported task: the task stays in state, and the next apply
// finishes the same task.
func TestAccImageImport_runningTaskInterruptedThenFinished(t *testing.T) {
	srv, h := resumeSetup(t)
	h.mustRun("init", "-input=false")
	prompt := "[mock:latency=8s] a lighthouse in fog"
	id := postMarketTask(t, srv, keptMarketBody(t, prompt))
	h.write("main.tf", cliConfig(srv, keptMarketImage(prompt, "")))
	h.mustRun("import", "-input=false", keptMarketAddr, id)
	queried := srv.Stats().MarketStatusQueries
	out, err := h.interrupt(func() bool { return srv.Stats().MarketStatusQueries > queried }, // the update is waiting
		"apply", "-auto-approve", "-input=false")
	if err == nil {
		t.Fatalf("the interrupted apply succeeded:\n%s", out)
	}
	requireOutput(t, out, "Waiting for the image did not finish", id)
	if got := h.resourceAttr(keptMarketAddr, "task_id"); got != id {
		t.Fatalf("state holds task %q after Ctrl-C, want %s", got, id)
	}
	out = h.mustRun("apply", "-auto-approve", "-input=false")
	requireOutput(t, out, "0 added, 1 changed, 0 destroyed")
	requireMarketImage(t, srv, h, keptMarketAddr, 1, keptMarketFiles...)
}
