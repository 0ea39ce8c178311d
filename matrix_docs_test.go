package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The pinned CLI versions live in scripts/ensure-cli.sh; the files that describe the compatibility
// matrix to people must name every one of them, so that moving a pin cannot leave them stale.
func TestMatrixDocsNameThePinnedCLIs(t *testing.T) {
	script, err := os.ReadFile("scripts/ensure-cli.sh")
	if err != nil {
		t.Fatal(err)
	}
	pins := map[string]string{}
	re := regexp.MustCompile(`(?m)^readonly (TF|TOFU)_(PINNED|CURRENT)=([0-9]+\.[0-9]+\.[0-9]+)$`)
	for _, m := range re.FindAllStringSubmatch(string(script), -1) {
		pins[m[1]+"_"+m[2]] = m[3]
	}
	for _, name := range []string{"TF_PINNED", "TF_CURRENT", "TOFU_PINNED", "TOFU_CURRENT"} {
		if pins[name] == "" {
			t.Fatalf("scripts/ensure-cli.sh sets no %s=X.Y.Z", name)
		}
	}

	// Each file names all four pins; ensure-cli.sh's own usage text names the pinned and current builds.
	for _, file := range []string{"README.md", "GNUmakefile", "scripts/cli-matrix.sh", "scripts/check-examples.sh",
		"scripts/ensure-cli.sh"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for name, version := range pins {
			if !strings.Contains(text, version) {
				t.Errorf("%s does not name %s (%s, from scripts/ensure-cli.sh)", file, version, name)
			}
		}
	}
	usage := regexp.MustCompile(`(?m)^#   scripts/ensure-cli\.sh (terraform|tofu) current +always the pinned [A-Za-z]+ ([0-9.]+) build$`)
	got := map[string]string{}
	for _, m := range usage.FindAllStringSubmatch(string(script), -1) {
		got[m[1]] = m[2]
	}
	if got["terraform"] != pins["TF_CURRENT"] || got["tofu"] != pins["TOFU_CURRENT"] {
		t.Errorf("scripts/ensure-cli.sh's usage names current builds %v, its pins are %s and %s",
			got, pins["TF_CURRENT"], pins["TOFU_CURRENT"])
	}
}
