package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// TestAccInterrupt_ctrlCKeepsTaskAndNextApplyFinishesIt drives the real CLI as a user would: Ctrl-C while
// the image is generating, then a plain apply. The plugin-testing harness cannot send signals, so this
// test builds the provider binary and runs the CLI itself, through dev_overrides.
func TestAccInterrupt_ctrlCKeepsTaskAndNextApplyFinishesIt(t *testing.T) {
	cli := accCLI(t)
	srv := testMock(t, kiemock.Options{Latency: 4 * time.Second})
	rc, work := buildProviderForCLI(t)
	out := filepath.Join(work, "img", "sunrise.jpg")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(work, "main.tf"), []byte(`
terraform {
  required_providers {
    kie = { source = "kie-community/kie" }
  }
}
`+providerBlock(srv)+`
resource "kie_flux_image" "test" {
  prompt      = "a sunrise worth waiting for"
  output_path = "img/sunrise.jpg"
}
`))
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(cli, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
		return cmd
	}

	// First apply: interrupt it once KIE accepted the task.
	var logs bytes.Buffer
	first := run("apply", "-auto-approve", "-input=false", "-no-color")
	first.Stdout, first.Stderr = &logs, &logs
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for srv.Stats().TasksCreated == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if srv.Stats().TasksCreated != 1 {
		_ = first.Process.Kill()
		t.Fatalf("no task was created\n%s", logs.String())
	}
	time.Sleep(300 * time.Millisecond) // let the provider reach its wait
	if err := first.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err == nil {
		t.Fatalf("the interrupted apply succeeded; it should have stopped early\n%s", logs.String())
	}
	taskID := srv.Tasks()[0].ID
	if !strings.Contains(logs.String(), taskID) {
		t.Errorf("the interrupted apply's output does not name task %s:\n%s", taskID, logs.String())
	}
	state, err := os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil || !bytes.Contains(state, []byte(taskID)) {
		t.Fatalf("state does not keep task %s after Ctrl-C (read error %v)", taskID, err)
	}

	// A plain apply finishes the same task: no second POST, and the image is on disk.
	second := run("apply", "-auto-approve", "-input=false", "-no-color")
	if b, err := second.CombinedOutput(); err != nil {
		t.Fatalf("second apply failed: %v\n%s", err, b)
	}
	if n := srv.Stats().GenerateRequests; n != 1 {
		t.Fatalf("generate POSTs = %d after resuming, want 1", n)
	}
	state, err = os.ReadFile(filepath.Join(work, "terraform.tfstate"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Resources []struct {
			Instances []struct {
				Status     string         `json:"status"`
				Attributes map[string]any `json:"attributes"`
			} `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(state, &st); err != nil || len(st.Resources) != 1 || len(st.Resources[0].Instances) != 1 {
		t.Fatalf("unexpected state (%v):\n%s", err, state)
	}
	inst := st.Resources[0].Instances[0]
	if inst.Status == "tainted" || inst.Attributes["task_id"] != taskID || inst.Attributes["status"] != "SUCCESS" {
		t.Fatalf("final state %+v, want task %s SUCCESS and not tainted", inst, taskID)
	}
	if sum, _, err := localfile.Hash(out); err != nil || sum != inst.Attributes["output_sha256"] {
		t.Fatalf("image file hash %s (err %v) does not match state %v", sum, err, inst.Attributes["output_sha256"])
	}
	if b, err := run("destroy", "-auto-approve", "-input=false", "-no-color").CombinedOutput(); err != nil {
		t.Fatalf("destroy failed: %v\n%s", err, b)
	}
}

// accCLI is the CLI of an acceptance test that runs it itself; without TF_ACC and a CLI the test skips.
func accCLI(t *testing.T) string {
	t.Helper()
	cli := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if os.Getenv("TF_ACC") == "" || cli == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH (make testacc does)")
	}
	return cli
}

// buildProviderForCLI builds the provider binary for tests that run the CLI themselves (the plugin
// harness cannot send signals, nor run `terraform test`), and returns a CLI config that points
// dev_overrides at it and an empty working directory's path.
func buildProviderForCLI(t *testing.T) (rc, work string) {
	t.Helper()
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	build := exec.Command("go", "build", "-o", filepath.Join(plugins, "terraform-provider-kie"), "../..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	rc = filepath.Join(dir, "cli.tfrc")
	mustWrite(t, rc, []byte(fmt.Sprintf(`provider_installation {
  dev_overrides {
    "registry.terraform.io/kie-community/kie" = %q
    "registry.opentofu.org/kie-community/kie" = %q
  }
  direct {}
}
`, plugins, plugins)))
	return rc, filepath.Join(dir, "work")
}
