package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	tfjson "github.com/hashicorp/terraform-json"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// The CLI harness runs the real terraform or tofu binary against the provider served in-process, for
// what terraform-plugin-testing's TestStep cannot express: -refresh=false, saved plans applied by a
// later command, -replace, create_before_destroy, the import command, state inspection and a
// pre-written terraform.tfstate. Every CLI command gets a provider server of its own, started before
// and stopped after it, so plan and apply run in different provider instances as they do in real use.

const (
	cliProviderType = "kie-community/kie"
	// cliCommandTimeout bounds one CLI command; a hung command fails its test instead of the package.
	cliCommandTimeout = 5 * time.Minute
)

// cliRequiredProviders declares the provider as users do; the harness serves that address.
const cliRequiredProviders = `
terraform {
  required_providers {
    kie = {
      source = "` + cliProviderType + `"
    }
  }
}
`

// cliConfig is a complete configuration against srv: required_providers, the provider block of the
// acceptance tests and body.
func cliConfig(srv *kiemock.Server, body string) string {
	return cliRequiredProviders + providerBlock(srv) + body
}

type cliHarness struct {
	t    *testing.T
	dir  string // working directory of the CLI, and of the provider while the test runs
	bin  string
	addr string // the provider address served, host/kie-community/kie
	env  []string

	// newServer builds the provider for each command; NewServer, as main serves it, by default.
	newServer func() tfprotov6.ProviderServer
	inited    bool
}

// newCLIHarness prepares an empty working directory and makes it the test's current directory, so
// that relative paths in configurations and states mean to the in-process provider what they mean to
// the CLI (a real provider process inherits the CLI's directory). Because of that it cannot be used
// in parallel tests. It skips the test unless TF_ACC is set.
func newCLIHarness(t *testing.T) *cliHarness {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH to run it")
	}
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		t.Fatal("TF_ACC is set but TF_ACC_TERRAFORM_PATH is not: the CLI harness needs a terraform or tofu binary")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("TF_ACC_TERRAFORM_PATH: %v", err)
	}
	host := os.Getenv("TF_ACC_PROVIDER_HOST")
	if host == "" {
		host = "registry.terraform.io"
	}
	dir := t.TempDir()
	private := t.TempDir()
	rc := filepath.Join(private, "cli.tfrc")
	if err := os.WriteFile(rc, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)

	// The CLI inherits the environment except what would change what it runs: another CLI config
	// (mirrors, dev_overrides), other reattached providers, extra arguments, another data dir or
	// workspace, and the API settings (the provider runs here, not in the CLI, but keep them out of
	// the CLI's environment all the same).
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "TF_CLI_CONFIG_FILE", name == "TOFU_CLI_CONFIG_FILE", name == "TF_REATTACH_PROVIDERS",
			name == "TF_DATA_DIR", name == "TF_WORKSPACE", name == "TF_PLUGIN_CACHE_DIR",
			strings.HasPrefix(name, "TF_CLI_ARGS"), strings.HasPrefix(name, "TF_VAR_"), strings.HasPrefix(name, "KIE_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_INPUT=0")

	return &cliHarness{
		t: t, dir: dir, bin: bin, addr: strings.TrimSuffix(host, "/") + "/" + cliProviderType, env: env,
		newServer: NewServer("test", "none"),
	}
}

// path is name inside the working directory.
func (h *cliHarness) path(name string) string { return filepath.Join(h.dir, filepath.FromSlash(name)) }

// write writes a file of the working directory (parent folders created).
func (h *cliHarness) write(name, content string) {
	h.t.Helper()
	p := h.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

// setenv adds a variable to the CLI's environment (TF_VAR_x, TF_LOG, ...).
func (h *cliHarness) setenv(name, value string) { h.env = append(h.env, name+"="+value) }

// run runs one CLI command with -no-color added after the subcommand and returns its combined
// output. The first command other than init or version runs "init" first. The error is the CLI's
// (an *exec.ExitError for a non-zero exit); use exitCode to read it.
func (h *cliHarness) run(args ...string) (string, error) {
	h.t.Helper()
	_, combined, err := h.exec(args)
	return combined, err
}

// exec runs one command as run describes and returns its stdout alone as well (what -json commands
// print, without the warnings and logs that go to stderr) and the combined output.
func (h *cliHarness) exec(args []string) (stdout, combined string, err error) {
	h.t.Helper()
	if len(args) == 0 {
		h.t.Fatal("run: no subcommand")
	}
	if !h.inited && args[0] != "init" && args[0] != "version" {
		h.mustRun("init", "-input=false")
	}
	if args[0] == "init" {
		h.inited = true
	}
	full := withNoColor(args)

	reattach, stop := h.serve()
	defer stop()

	ctx, cancel := context.WithTimeout(h.t.Context(), cliCommandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, full...)
	cmd.Dir = h.dir
	cmd.Env = append(append([]string{}, h.env...), "TF_REATTACH_PROVIDERS="+reattach)
	cmd.WaitDelay = 10 * time.Second
	// Two copying goroutines write to out when stdout and stderr differ.
	var out lockedBuffer
	var stdoutOnly bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(&out, &stdoutOnly), &out
	start := time.Now()
	err = cmd.Run()
	h.t.Logf("%s %s (%s, exit %d)", filepath.Base(h.bin), strings.Join(full, " "), time.Since(start).Round(time.Millisecond), exitCode(err))
	if ctx.Err() != nil {
		h.t.Fatalf("%s %s did not finish within %s:\n%s", filepath.Base(h.bin), strings.Join(full, " "), cliCommandTimeout, out.String())
	}
	return stdoutOnly.String(), out.String(), err
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustJSON runs a command that prints JSON on stdout, fails the test when it fails, and decodes it.
func (h *cliHarness) mustJSON(v any, args ...string) {
	h.t.Helper()
	stdout, combined, err := h.exec(args)
	if err != nil {
		h.t.Fatalf("%s %s: %v\n%s", filepath.Base(h.bin), strings.Join(args, " "), err, combined)
	}
	if err := json.Unmarshal([]byte(stdout), v); err != nil {
		h.t.Fatalf("%s %s: decoding its output: %v\n%s", filepath.Base(h.bin), strings.Join(args, " "), err, combined)
	}
}

// withNoColor inserts -no-color after the subcommand (after "state x" for state subcommands).
func withNoColor(args []string) []string {
	n := 1
	if args[0] == "state" && len(args) > 1 {
		n = 2
	}
	full := append([]string{}, args[:n]...)
	full = append(full, "-no-color")
	return append(full, args[n:]...)
}

// mustRun is run that fails the test when the command fails.
func (h *cliHarness) mustRun(args ...string) string {
	h.t.Helper()
	out, err := h.run(args...)
	if err != nil {
		h.t.Fatalf("%s %s: %v\n%s", filepath.Base(h.bin), strings.Join(args, " "), err, out)
	}
	return out
}

// exitCode is the exit status of a command run returned: 0 for nil, -1 when it did not exit.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// planExitCode runs "plan -detailed-exitcode" with args and returns 0 (no changes), 2 (changes) or
// fails the test on any other outcome.
func (h *cliHarness) planExitCode(args ...string) (int, string) {
	h.t.Helper()
	out, err := h.run(append([]string{"plan", "-detailed-exitcode", "-input=false"}, args...)...)
	code := exitCode(err)
	if code != 0 && code != 2 {
		h.t.Fatalf("plan %s failed (exit %d):\n%s", strings.Join(args, " "), code, out)
	}
	return code, out
}

// reattachConfig is the JSON the CLI reads from TF_REATTACH_PROVIDERS.
type reattachConfig struct {
	Protocol        string
	ProtocolVersion int
	Pid             int
	Test            bool
	Addr            struct{ Network, String string }
}

// serve starts a provider server for one command and returns the TF_REATTACH_PROVIDERS value and a
// function that stops the server and waits until it has.
func (h *cliHarness) serve() (string, func()) {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfgCh := make(chan *plugin.ReattachConfig, 1)
	closeCh := make(chan struct{})
	errCh := make(chan error, 1)
	go func() {
		errCh <- tf6server.Serve(h.addr, h.newServer,
			tf6server.WithDebug(ctx, cfgCh, closeCh),
			tf6server.WithGoPluginLogger(hclog.NewNullLogger()),
			tf6server.WithLoggingSink(h.t),
			tf6server.WithoutLogStderrOverride())
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-cfgCh:
	case err := <-errCh:
		cancel()
		h.t.Fatalf("serving the provider: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		h.t.Fatal("the provider server did not start within 30s")
	}
	var c reattachConfig
	c.Protocol, c.ProtocolVersion, c.Pid, c.Test = string(rc.Protocol), rc.ProtocolVersion, rc.Pid, rc.Test
	c.Addr.Network, c.Addr.String = rc.Addr.Network(), rc.Addr.String()
	b, err := json.Marshal(map[string]reattachConfig{h.addr: c})
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	return string(b), func() {
		cancel()
		select {
		case <-closeCh:
		case <-time.After(30 * time.Second):
			h.t.Error("the provider server did not stop within 30s")
		}
	}
}

// state returns the state as "show -json" describes it.
func (h *cliHarness) state() *tfjson.State {
	h.t.Helper()
	var s tfjson.State
	h.mustJSON(&s, "show", "-json")
	return &s
}

// planJSON returns a saved plan as "show -json planfile" describes it.
func (h *cliHarness) planJSON(planfile string) *tfjson.Plan {
	h.t.Helper()
	var p tfjson.Plan
	h.mustJSON(&p, "show", "-json", planfile)
	return &p
}

// planCounts is how many resources a plan creates, replaces (in either order), updates in place and
// deletes.
type planCounts struct{ Create, Replace, Update, Delete int }

func countPlan(p *tfjson.Plan) planCounts {
	var c planCounts
	for _, rc := range p.ResourceChanges {
		a := rc.Change.Actions
		switch {
		case a.Replace():
			c.Replace++
		case a.Create():
			c.Create++
		case a.Update():
			c.Update++
		case a.Delete():
			c.Delete++
		}
	}
	return c
}

// stateResource finds a resource of the root module in s.
func stateResource(s *tfjson.State, addr string) (*tfjson.StateResource, bool) {
	if s == nil || s.Values == nil || s.Values.RootModule == nil {
		return nil, false
	}
	for _, r := range s.Values.RootModule.Resources {
		if r.Address == addr {
			return r, true
		}
	}
	return nil, false
}

// resourceAttr is an attribute of a resource in the current state, as text: strings as they are,
// null as "", anything else as JSON. It fails the test when the resource is not in state.
func (h *cliHarness) resourceAttr(addr, attr string) string {
	h.t.Helper()
	r, ok := stateResource(h.state(), addr)
	if !ok {
		h.t.Fatalf("%s not in state", addr)
	}
	switch v := r.AttributeValues[attr].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		return string(b)
	}
}

// TestAccCLIHarness_savedPlanAndNoRefresh proves the harness: an apply, a plan without refresh that
// changes nothing, and a plan saved by one command and applied by another (each with its own provider
// instance) that moves a file for free and creates one new image.
func TestAccCLIHarness_savedPlanAndNoRefresh(t *testing.T) {
	srv := testMock(t, kiemock.Options{ImageScale: 0.1})
	h := newCLIHarness(t)
	one := `
resource "kie_flux_image" "a" {
  prompt        = "a red kite over dunes"
  output_format = "png"
  output_path   = "out/a.png"
}
`
	h.write("main.tf", cliConfig(srv, one))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, postsAre(1))
	if got := h.resourceAttr("kie_flux_image.a", "status"); got != "SUCCESS" {
		t.Fatalf("status %q after apply", got)
	}
	if _, err := os.Stat(h.path("out/a.png")); err != nil {
		t.Fatalf("relative output_path not written in the working directory: %v", err)
	}
	for _, args := range [][]string{{"-refresh=false"}, nil} {
		if code, out := h.planExitCode(args...); code != 0 {
			t.Fatalf("plan %v after apply shows changes:\n%s", args, out)
		}
	}

	two := strings.Replace(one, `"out/a.png"`, `"out/moved/a.png"`, 1) + `
resource "kie_flux_image" "b" {
  prompt = "a blue kite over dunes"
}
`
	h.write("main.tf", cliConfig(srv, two))
	h.mustRun("plan", "-input=false", "-out=tfplan")
	if got, want := countPlan(h.planJSON("tfplan")), (planCounts{Create: 1, Update: 1}); got != want {
		t.Fatalf("saved plan counts %+v, want %+v", got, want)
	}
	requireCounts(t, srv, postsAre(1))
	h.mustRun("apply", "-input=false", "tfplan")
	requireCounts(t, srv, postsAre(2))
	if _, err := os.Stat(h.path("out/moved/a.png")); err != nil {
		t.Fatalf("saved plan did not move the file: %v", err)
	}
	if code, out := h.planExitCode("-refresh=false"); code != 0 {
		t.Fatalf("plan after applying the saved plan shows changes:\n%s", out)
	}
	requireCounts(t, srv, postsAre(2))
}

// The harness's own bookkeeping, without a CLI.
func TestCLIHarnessCountPlan(t *testing.T) {
	p := &tfjson.Plan{ResourceChanges: []*tfjson.ResourceChange{
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionCreate}}},
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionDelete, tfjson.ActionCreate}}},
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionCreate, tfjson.ActionDelete}}},
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionUpdate}}},
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionNoop}}},
		{Change: &tfjson.Change{Actions: tfjson.Actions{tfjson.ActionDelete}}},
	}}
	if got, want := countPlan(p), (planCounts{Create: 1, Replace: 2, Update: 1, Delete: 1}); got != want {
		t.Fatalf("countPlan = %+v, want %+v", got, want)
	}
	for err, want := range map[error]int{nil: 0, errors.New("x"): -1} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
	if got := strings.Join(withNoColor([]string{"state", "show", "x"}), " "); got != "state show -no-color x" {
		t.Errorf("withNoColor = %q", got)
	}
}
