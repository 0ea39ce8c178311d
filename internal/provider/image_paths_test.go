package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// kie_image on every path of "never pay twice" that resume_paths_test.go holds kie_flux_image to: a
// create timeout, Ctrl-C, a failed download and a state that was never written, each followed by a
// plain apply, an apply without refresh, a saved plan, create_before_destroy and -replace. Each counts
// the Market tasks the mock created (one) and what the output folder holds (the results, no temporary
// file).

const keptMarketAddr = "kie_image.kept"

// marketTaskIDPattern is the mock's Market task id format.
const marketTaskIDPattern = `[0-9a-f]{32}`

// keptMarketFiles are where keptMarketImage's two results go.
var keptMarketFiles = []string{"out/kept.png", "out/kept-2.png"}

// keptMarketImage is a kie_image of two results (out/kept.png, out/kept-2.png); prompt may carry the
// mock's markers, extra goes inside the resource.
func keptMarketImage(prompt, extra string) string {
	return `
resource "kie_image" "kept" {
  model = "bytedance/seedream-v4-text-to-image"
  input = {
    prompt     = "` + prompt + `"
    image_size = "square_hd"
    max_images = 2
  }
  output_path = "out/kept.png"
` + extra + `
}
`
}

// keptMarketBody is the createTask body keptMarketImage sends, for tasks started outside Terraform.
func keptMarketBody(t *testing.T, prompt string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"model": "bytedance/seedream-v4-text-to-image",
		"input": map[string]any{"prompt": prompt, "image_size": "square_hd", "max_images": 2}})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// marketCreatesAre counts the Market's createTask requests and the tasks they made.
func marketCreatesAre(n int) []counter {
	return []counter{
		{name: "createTask requests", get: func(s kiemock.Stats) int { return s.MarketCreateRequests }, want: n},
		{name: "Market tasks created", get: func(s kiemock.Stats) int { return s.MarketTasksCreated }, want: n},
	}
}

// requireMarketImage asserts the mock made exactly tasks Market tasks (and no Flux task), that the
// resource holds the last one, succeeded, with every result at its path as state records it, that
// the output folders hold those files and nothing else (no temporary file), and that a plan without
// refresh changes nothing and pays for nothing.
func requireMarketImage(t *testing.T, srv *kiemock.Server, h *cliHarness, addr string, tasks int, files ...string) {
	t.Helper()
	requireCounts(t, srv, append(marketCreatesAre(tasks), tasksAre(tasks))...)
	rs, ok := stateResource(h.state(), addr)
	if !ok {
		t.Fatalf("%s not in state", addr)
	}
	all := srv.MarketTasks()
	if id := rs.AttributeValues["task_id"]; len(all) != tasks || all[tasks-1].ID != id {
		t.Fatalf("state holds task %v, the mock has %+v", id, all)
	}
	if got := rs.AttributeValues["state"]; got != "success" {
		t.Fatalf("state %v", got)
	}
	raw, err := json.Marshal(rs.AttributeValues["results"])
	if err != nil {
		t.Fatal(err)
	}
	var results []struct {
		URL    string `json:"url"`
		Path   string `json:"path"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
	}
	if err := json.Unmarshal(raw, &results); err != nil {
		t.Fatalf("results %s: %v", raw, err)
	}
	if len(results) != len(files) {
		t.Fatalf("%d results in state, want %d: %s", len(results), len(files), raw)
	}
	inDir := map[string][]string{}
	for i, f := range files {
		st, err := os.Stat(h.path(f))
		if err != nil {
			t.Fatalf("result %d: %v", i+1, err)
		}
		if r := results[i]; r.Path != f || r.SHA256 != fileSHA(t, h.path(f)) || r.Size != st.Size() || r.URL == "" {
			t.Fatalf("result %d in state is %+v; the file %s has %d bytes, sha256 %s", i+1, r, f, st.Size(), fileSHA(t, h.path(f)))
		}
		inDir[path.Dir(f)] = append(inDir[path.Dir(f)], path.Base(f))
	}
	for dir, names := range inDir {
		requireDirHolds(t, h.path(dir), names...)
	}
	if code, out := h.planExitCode("-refresh=false"); code != 0 {
		t.Fatalf("plan after finishing the image shows changes:\n%s", out)
	}
	requireCounts(t, srv, append(marketCreatesAre(tasks), tasksAre(tasks))...)
}

// interrupt runs one CLI command as run does and sends the CLI Ctrl-C (SIGINT, as a terminal does)
// once ready reports true; it returns the output and the CLI's error. The provider is served here, so
// the CLI stops it over the protocol, as it stops a real provider process.
func (h *cliHarness) interrupt(ready func() bool, args ...string) (string, error) {
	h.t.Helper()
	if !h.inited {
		h.mustRun("init", "-input=false")
	}
	reattach, stop := h.serve()
	defer stop()
	cmd := exec.Command(h.bin, withNoColor(args)...)
	cmd.Dir = h.dir
	cmd.Env = append(append([]string{}, h.env...), "TF_REATTACH_PROVIDERS="+reattach)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(cliCommandTimeout)
	for !ready() {
		select {
		case err := <-done:
			h.t.Fatalf("%s exited before it was interrupted (%v):\n%s", strings.Join(args, " "), err, out.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			h.t.Fatalf("%s: not ready to interrupt within %s:\n%s", strings.Join(args, " "), cliCommandTimeout, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		h.t.Fatal(err)
	}
	select {
	case err := <-done:
		h.t.Logf("%s interrupted (exit %d)", strings.Join(args, " "), exitCode(err))
		return out.String(), err
	case <-time.After(cliCommandTimeout):
		_ = cmd.Process.Kill()
		h.t.Fatalf("%s did not stop after Ctrl-C:\n%s", strings.Join(args, " "), out.String())
		return "", nil
	}
}

// imageUnfinishedPath is a first apply that leaves a paid task unfinished.
type imageUnfinishedPath struct {
	name   string
	prompt string // with the mock's markers
	create string // the first apply's create timeout
	// lostState: the state write after the first apply never happened; only the ledger knows the task.
	lostState bool
	run       func(t *testing.T, srv *kiemock.Server, h *cliHarness)
}

// imageApplyMode is how the next run applies the same configuration.
type imageApplyMode struct {
	name string
	cbd  bool
	// destroyFalse: lifecycle { destroy = false } (Terraform 1.16, OpenTofu 1.12): the tainted object is
	// forgotten, not deleted, so no Delete hands its task on to the create.
	destroyFalse bool
	// fresh: the provider's local files are gone (a CI runner), so only the state knows the task.
	fresh bool
	apply func(h *cliHarness) string
}

func TestAccImageResume_everyPathEveryApply(t *testing.T) {
	const inFog = "a lighthouse in fog"
	failTimeout := func(t *testing.T, srv *kiemock.Server, h *cliHarness) {
		h.mustFail([]string{"Waiting for the image did not finish", marketTaskIDPattern, "is paid for"},
			"apply", "-auto-approve", "-input=false")
	}
	paths := []imageUnfinishedPath{
		{name: "create-timeout", prompt: "[mock:latency=3s] " + inFog, create: "2s", run: failTimeout},
		{name: "ctrl-c", prompt: "[mock:latency=3s] " + inFog, create: "30s", run: func(t *testing.T, srv *kiemock.Server, h *cliHarness) {
			var accepted time.Time
			out, err := h.interrupt(func() bool {
				if accepted.IsZero() && srv.Stats().MarketTasksCreated > 0 {
					accepted = time.Now()
				}
				// Past the create request, into the wait: a Ctrl-C during the request itself is another story.
				return !accepted.IsZero() && time.Since(accepted) > 300*time.Millisecond
			}, "apply", "-auto-approve", "-input=false")
			if err == nil {
				t.Fatalf("the interrupted apply succeeded:\n%s", out)
			}
			id := srv.MarketTasks()[0].ID
			requireOutput(t, out, "Waiting for the image did not finish", id)
			if b, err := os.ReadFile(h.path("terraform.tfstate")); err != nil || !strings.Contains(string(b), id) {
				t.Fatalf("state does not keep task %s after Ctrl-C (read error %v)", id, err)
			}
		}},
		{name: "download-failed", prompt: inFog, create: "3s", run: func(t *testing.T, srv *kiemock.Server, h *cliHarness) {
			srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultStatus, Status: 503, Times: -1})
			h.mustFail([]string{"Downloading the image failed", marketTaskIDPattern, "Run terraform apply again"},
				"apply", "-auto-approve", "-input=false")
			srv.ClearFaults()
		}},
		{name: "state-never-written", prompt: "[mock:latency=3s] " + inFog, create: "2s", lostState: true, run: failTimeout},
	}
	modes := []imageApplyMode{
		{name: "plain-apply", apply: func(h *cliHarness) string { return h.mustRun("apply", "-auto-approve", "-input=false") }},
		{name: "no-refresh-fresh-machine", fresh: true, apply: func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
		}},
		{name: "saved-plan-fresh-machine", fresh: true, apply: func(h *cliHarness) string {
			out := h.mustRun("plan", "-input=false", "-out=tfplan")
			return out + h.mustRun("apply", "-input=false", "tfplan")
		}},
		{name: "create-before-destroy-no-refresh-fresh-machine", cbd: true, fresh: true, apply: func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
		}},
		{name: "destroy-false-no-refresh-fresh-machine", destroyFalse: true, fresh: true, apply: func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
		}},
		{name: "replace", apply: func(h *cliHarness) string {
			return h.mustRun("apply", "-auto-approve", "-input=false", "-replace="+keptMarketAddr)
		}},
	}
	for _, p := range paths {
		for _, m := range modes {
			name := m.name
			if p.lostState {
				name = strings.TrimSuffix(name, "-fresh-machine")
			}
			t.Run(p.name+"/"+name, func(t *testing.T) {
				srv, h := resumeSetup(t)
				if m.destroyFalse {
					h.requireCapability(capDestroyFalse)
				}
				extra := "  timeouts {\n    create = \"" + p.create + "\"\n  }"
				if m.cbd {
					extra += "\n  lifecycle {\n    create_before_destroy = true\n  }"
				}
				if m.destroyFalse {
					extra += "\n  lifecycle {\n    destroy = false\n  }"
				}
				cfg := keptMarketImage(p.prompt, extra)
				h.write("main.tf", cliConfig(srv, cfg))
				p.run(t, srv, h)
				requireCounts(t, srv, append(marketCreatesAre(1), tasksAre(1))...)
				switch {
				case p.lostState:
					// With neither state nor ledger nothing could know the task: a fresh machine does not apply.
					for _, f := range []string{"terraform.tfstate", "terraform.tfstate.backup"} {
						if err := os.Remove(h.path(f)); err != nil && !os.IsNotExist(err) {
							t.Fatal(err)
						}
					}
				case m.fresh:
					h.newMachine()
				}
				// The task is paid for: the next run finishes it (within a longer timeout) even under a
				// spend cap of zero.
				h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+
					strings.Replace(cfg, `create = "`+p.create+`"`, `create = "30s"`, 1))
				requireOutput(t, m.apply(h), "Finishing an earlier task instead of paying again", marketTaskIDPattern)
				requireMarketImage(t, srv, h, keptMarketAddr, 1, keptMarketFiles...)
			})
		}
	}
}

// Input files: a task started with uploaded input_image_files and kept after a create timeout is
// finished on a fresh machine without refresh; the files' hashes in state find it, so nothing is
// uploaded or paid again.
func TestAccImageResume_inputImageFilesFreshMachine(t *testing.T) {
	srv, h := resumeSetup(t)
	if err := os.MkdirAll(h.path("in"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestImage(t, h.path("in/a.png"), "png", 1)
	writeTestImage(t, h.path("in/b.jpg"), "jpeg", 2)
	cfg := func(create string) string {
		return `
resource "kie_image" "edit" {
  model             = "google/nano-banana-edit"
  input             = { prompt = "[mock:latency=3s] put both in one frame" }
  input_image_files = ["in/a.png", "in/b.jpg"]
  output_path       = "out/edit.png"
  timeouts {
    create = "` + create + `"
  }
}
`
	}
	h.write("main.tf", cliConfig(srv, cfg("2s")))
	h.mustFail([]string{"Waiting for the image did not finish", marketTaskIDPattern, "is paid for"},
		"apply", "-auto-approve", "-input=false")
	uploads := srv.Stats().Uploads
	if uploads != 2 {
		t.Fatalf("%d uploads for two input files", uploads)
	}
	h.newMachine()
	h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+cfg("30s"))
	out := h.mustRun("apply", "-auto-approve", "-input=false", "-refresh=false")
	requireOutput(t, out, "Finishing an earlier task instead of paying again", marketTaskIDPattern)
	requireMarketImage(t, srv, h, "kie_image.edit", 1, "out/edit.png")
	if n := srv.Stats().Uploads; n != uploads {
		t.Fatalf("the resume uploaded the input files again: %d uploads, want %d", n, uploads)
	}
}

// Identical images (same model and input, each its own output_path) share one resume key, yet each is
// its own paid task: a create never takes a task another create of the same run started. After a
// create timeout each replacement finishes one of the two kept tasks, on a fresh machine too, and
// neither pays again.
func TestAccImageResume_identicalImagesEachFinishOneTask(t *testing.T) {
	srv, h := resumeSetup(t)
	cfg := func(create string) string {
		return `
resource "kie_image" "twin" {
  count       = 2
  model       = "google/nano-banana"
  input       = { prompt = "[mock:latency=3s] the same harbour" }
  output_path = "out/twin-${count.index}.png"
  timeouts {
    create = "` + create + `"
  }
}
`
	}
	h.write("main.tf", cliConfig(srv, cfg("2s")))
	// One create at a time: the second starts after the first recorded its task, and must not take it.
	h.mustFail([]string{"Waiting for the image did not finish"}, "apply", "-auto-approve", "-input=false", "-parallelism=1")
	requireCounts(t, srv, append(marketCreatesAre(2), tasksAre(2))...)
	h.newMachine()
	h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+cfg("30s"))
	out := h.mustRun("apply", "-auto-approve", "-input=false")
	requireOutput(t, out, "Finishing an earlier task instead of paying again")
	requireCounts(t, srv, append(marketCreatesAre(2), tasksAre(2))...)
	s := h.state()
	held := map[string]string{}
	for i := range 2 {
		addr := fmt.Sprintf("kie_image.twin[%d]", i)
		rs, ok := stateResource(s, addr)
		if !ok {
			t.Fatalf("%s not in state", addr)
		}
		id, _ := rs.AttributeValues["task_id"].(string)
		if other, dup := held[id]; dup || rs.AttributeValues["state"] != "success" {
			t.Fatalf("%s holds task %s (state %v), also held by %q", addr, id, rs.AttributeValues["state"], other)
		}
		held[id] = addr
		if task, ok := srv.MarketTask(id); !ok || task.State != kiemock.StateSuccess {
			t.Fatalf("%s holds task %s, which the mock does not have as a success", addr, id)
		}
	}
	requireDirHolds(t, h.path("out"), "twin-0.png", "twin-1.png")
	if code, out := h.planExitCode("-refresh=false"); code != 0 {
		t.Fatalf("plan after finishing both images shows changes:\n%s", out)
	}
}

// Ctrl-C while the results download: nothing half-written is left in the output folder, and the next
// apply finishes the same task, downloading again and paying nothing.
func TestAccImageResume_ctrlCDuringDownload(t *testing.T) {
	srv, h := resumeSetup(t)
	cfg := keptMarketImage("a lighthouse in fog", "")
	h.write("main.tf", cliConfig(srv, cfg))
	srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultSlow, Delay: time.Minute, Times: -1})
	out, err := h.interrupt(func() bool { return srv.Stats().Downloads > 0 }, "apply", "-auto-approve", "-input=false")
	if err == nil {
		t.Fatalf("the interrupted apply succeeded:\n%s", out)
	}
	requireOutput(t, out, "Downloading the image failed", marketTaskIDPattern, "Run terraform apply again")
	if tmp := tempFiles(h.path("out")); len(tmp) > 0 {
		t.Fatalf("temporary files left after Ctrl-C: %v", tmp)
	}
	srv.ClearFaults()
	h.write("main.tf", cliRequiredProviders+providerBlock(srv, "max_new_images = 0")+cfg)
	requireOutput(t, h.mustRun("apply", "-auto-approve", "-input=false"), "Finishing an earlier task instead of paying again")
	requireMarketImage(t, srv, h, keptMarketAddr, 1, keptMarketFiles...)
}
