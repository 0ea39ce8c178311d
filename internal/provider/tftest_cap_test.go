package provider

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// TestAccTerraformTest_capPerRun runs `terraform test` with max_new_images equal to one run's images:
// every run must pass, and each image is paid once. Terraform 1.14 and later serve every run of a
// file, plan and apply, from one provider process configured once, which the in-process harness does
// not reproduce (nor does a provider block outside the test file); so this test builds the provider binary and runs the CLI through dev_overrides.
func TestAccTerraformTest_capPerRun(t *testing.T) {
	cli := accCLI(t)
	requireCLICapability(t, cli, os.Environ(), capTerraformTest)
	srv := testMock(t, kiemock.Options{ImageScale: 0.1, Latency: 50 * time.Millisecond})
	rc, work := buildProviderForCLI(t)
	if err := os.MkdirAll(filepath.Join(work, "tests"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(work, "main.tf"), []byte(`
terraform {
  required_providers {
    kie = { source = "kie-community/kie" }
  }
}

variable "style" {
  type = string
}

resource "kie_flux_image" "hero" {
  prompt      = "a lighthouse, ${var.style}"
  output_path = "out/hero.png"
}

resource "kie_image" "icon" {
  model       = "google/nano-banana"
  input       = { prompt = "a rocket, ${var.style}" }
  output_path = "out/icon.png"
}
`))
	// The provider block is the test file's: Terraform 1.14 serves every run from one process then.
	mustWrite(t, filepath.Join(work, "tests", "cap.tftest.hcl"), []byte(providerBlock(srv, "max_new_images = 2")+`
run "first" {
  variables {
    style = "flat"
  }
}

run "unchanged" {
  variables {
    style = "flat"
  }
}

run "second" {
  variables {
    style = "watercolour"
  }
}

run "plan_only" {
  command = plan
  variables {
    style = "pencil"
  }
}

run "third" {
  variables {
    style = "ink"
  }
}
`))
	cmd := exec.Command(cli, "test", "-no-color")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1")
	b, err := cmd.CombinedOutput()
	out := string(b)
	if err != nil {
		t.Fatalf("terraform test with max_new_images equal to one run's images failed: %v\n%s", err, out)
	}
	requireOutput(t, out, `5 passed, 0 failed`)
	st := srv.Stats()
	if st.TasksCreated != 6 || st.GenerateRequests != 3 || st.MarketCreateRequests != 3 {
		t.Fatalf("%d tasks (%d generate, %d Market creates) for three applied runs of two images; want 6 (3 and 3)",
			st.TasksCreated, st.GenerateRequests, st.MarketCreateRequests)
	}
}
