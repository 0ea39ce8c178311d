package provider

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"

	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

const testAPIKey = "test-key-5f1c0a2b9d"

// testProviderFactories serves the provider in-process, so acceptance tests need no installed plugin.
var testProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"kie": func() (tfprotov6.ProviderServer, error) { return NewServer("test", "none")(), nil },
}

// TestMain refuses to run acceptance tests without a CLI to run them with: the testing harness would
// otherwise try to download one, which fails without network and exits the whole test binary.
func TestMain(m *testing.M) {
	if os.Getenv("TF_ACC") != "" && os.Getenv("TF_ACC_TERRAFORM_PATH") == "" {
		if _, err := exec.LookPath("terraform"); err != nil {
			fmt.Fprintln(os.Stderr, "TF_ACC is set but no Terraform/OpenTofu CLI was found: set TF_ACC_TERRAFORM_PATH "+
				"(make testacc does this for you).")
			os.Exit(1)
		}
	}
	// The in-process provider runs in this package's folder, not in the CLI's working directory: keep its
	// local files (resume ledger, file index) out of the source tree. Ledger entries are keyed by each
	// test's own mock URL, index entries by absolute path. The CLI harness sets its own.
	ledger, err := os.MkdirTemp("", "kie-local-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if os.Getenv(localstate.EnvDir) == "" {
		_ = os.Setenv(localstate.EnvDir, ledger)
	}
	code := m.Run()
	_ = os.RemoveAll(ledger)
	printFaultSummary()
	os.Exit(code)
}

// testMock starts a fresh mock KIE server for one test, with fast tasks.
func testMock(t *testing.T, opts kiemock.Options) *kiemock.Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testAPIKey
	}
	if opts.Latency == 0 {
		opts.Latency = 300 * time.Millisecond
	}
	srv, err := kiemock.Start(opts)
	if err != nil {
		t.Fatalf("starting mock: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// providerBlock configures the provider against the mock with a fast poll schedule. extra lines go
// inside the block.
func providerBlock(srv *kiemock.Server, extra ...string) string {
	return fmt.Sprintf(`
provider "kie" {
  api_key           = %q
  base_url          = %q
  upload_base_url   = %q
  poll_min_interval = "50ms"
  poll_max_interval = "200ms"
  poll_initial_delay = "100ms"
  %s
}
`, testAPIKey, srv.URL(), srv.URL(), strings.Join(extra, "\n  "))
}

// hcl quotes a Go string as an HCL string literal (paths on any OS).
func hcl(s string) string { return fmt.Sprintf("%q", s) }
