package provider

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Capability skips. A test may skip on a CLI only when that CLI lacks what the test needs, and the
// CLI's version decides it, never the outcome of a command: a probe that fails ("validate" of an
// import block by identity) cannot tell a missing capability from a regression of ours. Every such
// skip carries a tag, [capability-skip NAME TEST], that scripts/testacc.sh reads: it fails the run
// for any skip without the tag, and for a tagged one on a CLI that, by its own table, has NAME.
// Keep the two tables (cliCapabilities here, cli_has in the script) in step.

// capImportIdentity: import blocks with identity = { ... } (Terraform 1.12, OpenTofu 1.12).
const capImportIdentity = "import-identity"

// capDestroyFalse: lifecycle { destroy = false } (Terraform 1.16, OpenTofu 1.12).
const capDestroyFalse = "destroy-false"

// capTerraformTest: the test command runs .tftest.hcl files (Terraform 1.6, OpenTofu 1.6).
const capTerraformTest = "terraform-test"

// cliCapabilities is the first version of each CLI kind with a capability, and what it is.
var cliCapabilities = map[string]struct {
	what      string
	terraform cliVersion
	tofu      cliVersion
}{
	capImportIdentity: {"import blocks by resource identity", cliVersion{1, 12, 0}, cliVersion{1, 12, 0}},
	capDestroyFalse:   {"lifecycle { destroy = false }", cliVersion{1, 16, 0}, cliVersion{1, 12, 0}},
	capTerraformTest:  {"the test command", cliVersion{1, 6, 0}, cliVersion{1, 6, 0}},
}

// cliVersion is a CLI's major, minor and patch version; a pre-release counts as its release.
type cliVersion [3]int

func (v cliVersion) String() string { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

func (v cliVersion) atLeast(w cliVersion) bool {
	for i := range v {
		if v[i] != w[i] {
			return v[i] > w[i]
		}
	}
	return true
}

// cliInfo names a CLI binary: its kind ("Terraform" or "OpenTofu") and version.
type cliInfo struct {
	kind    string
	version cliVersion
}

func (c cliInfo) String() string { return c.kind + " v" + c.version.String() }

// has reports whether the CLI has capability, and names it with the versions that have it.
func (c cliInfo) has(capability string) (bool, string, error) {
	cp, ok := cliCapabilities[capability]
	if !ok {
		return false, "", fmt.Errorf("unknown CLI capability %q", capability)
	}
	need := fmt.Sprintf("%s (Terraform >= %s or OpenTofu >= %s)", cp.what, cp.terraform, cp.tofu)
	switch c.kind {
	case "Terraform":
		return c.version.atLeast(cp.terraform), need, nil
	case "OpenTofu":
		return c.version.atLeast(cp.tofu), need, nil
	}
	return false, need, fmt.Errorf("unknown CLI kind %q", c.kind)
}

// The first line of "version": "Terraform v1.5.7", "OpenTofu v1.10.6", maybe with a pre-release.
var cliVersionLine = regexp.MustCompile(`^(Terraform|OpenTofu) v(\d+)\.(\d+)\.(\d+)`)

// parseCLIVersion reads the kind and version from the output of "terraform version" / "tofu version".
func parseCLIVersion(out string) (cliInfo, error) {
	m := cliVersionLine.FindStringSubmatch(out)
	if m == nil {
		return cliInfo{}, fmt.Errorf("no version in %q", out)
	}
	var v cliVersion
	for i := range v {
		n, err := strconv.Atoi(m[i+2])
		if err != nil {
			return cliInfo{}, err
		}
		v[i] = n
	}
	return cliInfo{kind: m[1], version: v}, nil
}

var cliInfos sync.Map // binary path -> cliInfo

// cliInfoOf is the kind and version of the CLI bin, read once per binary.
func cliInfoOf(t *testing.T, bin string, env []string) cliInfo {
	t.Helper()
	if v, ok := cliInfos.Load(bin); ok {
		return v.(cliInfo)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "version")
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", bin, err, out)
	}
	info, err := parseCLIVersion(string(out))
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	cliInfos.Store(bin, info)
	return info
}

// requireCLICapability skips the test, with the tag scripts/testacc.sh checks, when the version of
// the CLI bin lacks capability. Where the version has it, the test runs and any failure of it is a
// failure.
func requireCLICapability(t *testing.T, bin string, env []string, capability string) {
	t.Helper()
	info := cliInfoOf(t, bin, env)
	ok, need, err := info.has(capability)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("[capability-skip %s %s] %s lacks %s", capability, t.Name(), info, need)
	}
}

// requireCapability is requireCLICapability for the harness's CLI.
func (h *cliHarness) requireCapability(capability string) {
	h.t.Helper()
	requireCLICapability(h.t, h.bin, h.env, capability)
}

// The version table decides capability skips: check it reads both CLIs' version lines and compares
// versions as numbers.
func TestCLICapabilityByVersion(t *testing.T) {
	for _, tc := range []struct {
		out  string
		want bool
	}{
		{"Terraform v1.5.7\non linux_amd64\n", false},
		{"Terraform v1.11.4\non linux_amd64\n", false},
		{"Terraform v1.12.0-beta1\n", true},
		{"Terraform v1.14.3\non linux_amd64\n", true},
		{"Terraform v1.16.4\n", true},
		{"Terraform v2.0.0\n", true},
		{"OpenTofu v1.10.6\non linux_amd64\n", false},
		{"OpenTofu v1.11.9\n", false},
		{"OpenTofu v1.12.6\non linux_amd64\n", true},
	} {
		info, err := parseCLIVersion(tc.out)
		if err != nil {
			t.Fatalf("%q: %v", tc.out, err)
		}
		got, _, err := info.has(capImportIdentity)
		if err != nil || got != tc.want {
			t.Errorf("%s has %s = %v, %v; want %v", info, capImportIdentity, got, err, tc.want)
		}
	}
	for out, want := range map[string]bool{
		"Terraform v1.14.3\n": false, "Terraform v1.16.0\n": true, "OpenTofu v1.11.9\n": false, "OpenTofu v1.12.0\n": true,
	} {
		info, err := parseCLIVersion(out)
		if err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if got, _, err := info.has(capDestroyFalse); err != nil || got != want {
			t.Errorf("%s has %s = %v, %v; want %v", info, capDestroyFalse, got, err, want)
		}
	}
	if _, err := parseCLIVersion("Terraform 1.5\n"); err == nil {
		t.Error("a line without a version parsed")
	}
	if _, _, err := (cliInfo{kind: "Terraform", version: cliVersion{1, 14, 3}}).has("no-such"); err == nil {
		t.Error("an unknown capability was accepted")
	}
}
