package provider

import (
	"os"
	"strings"
	"testing"
)

// The plan-time refusals (two writers of one file, an output_path that is a directory, an empty
// api_key) on the other paths a plan takes: without refresh, saved to a file, and under
// create_before_destroy. Each is refused and pays for nothing, and a saved errored plan does not apply.
func TestAccPlanRefusals_everyPlanPath(t *testing.T) {
	refusals := []struct {
		name  string
		body  string // with %LIFECYCLE% where the lifecycle block goes
		setup func(t *testing.T, h *cliHarness)
		// apiKeyLine, when set, replaces the provider block's api_key line.
		apiKeyLine string
		want       []string
	}{
		{
			name: "one-file-two-writers",
			body: `
resource "kie_flux_image" "icon" {
  count       = 2
  prompt      = "a small red rocket"
  output_path = "${path.module}/icon.jpg"
%LIFECYCLE%
}
`,
			want: []string{"Several resources write the same output_path", "count.index", "Nothing was paid"},
		},
		{
			name: "output-path-is-a-directory",
			body: `
resource "kie_image" "x" {
  model       = "google/nano-banana"
  input       = { prompt = "a lighthouse" }
  output_path = "images"
%LIFECYCLE%
}
`,
			setup: func(t *testing.T, h *cliHarness) {
				if err := os.MkdirAll(h.path("images"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"output_path cannot be written", `output_path "images" is an existing directory`, "before any image is paid for"},
		},
		{
			name: "empty-api-key",
			body: `
resource "kie_flux_image" "x" {
  prompt = "a lighthouse"
%LIFECYCLE%
}
`,
			setup:      func(t *testing.T, h *cliHarness) { setKeyEnv(t, h, nil) },
			apiKeyLine: `api_key = ""`,
			want:       []string{"Missing KIE API key", "api_key is set to an empty string", "nothing was paid"},
		},
	}
	paths := []struct {
		name string
		args []string
	}{
		{"plan-no-refresh", []string{"plan", "-input=false", "-refresh=false"}},
		{"saved-plan", []string{"plan", "-input=false", "-out=tfplan"}},
		{"apply-no-refresh", []string{"apply", "-auto-approve", "-input=false", "-refresh=false"}},
	}
	for _, r := range refusals {
		for _, cbd := range []bool{false, true} {
			name := r.name
			lifecycle := ""
			if cbd {
				name += "/create-before-destroy"
				lifecycle = "  lifecycle {\n    create_before_destroy = true\n  }"
			}
			t.Run(name, func(t *testing.T) {
				srv, h := resumeSetup(t)
				if r.setup != nil {
					r.setup(t, h)
				}
				body := strings.Replace(r.body, "%LIFECYCLE%", lifecycle, 1)
				if r.apiKeyLine != "" {
					h.write("main.tf", keyConfig(t, srv, r.apiKeyLine, body))
				} else {
					h.write("main.tf", cliConfig(srv, body))
				}
				for _, p := range paths {
					out, err := h.run(p.args...)
					if err == nil {
						t.Fatalf("%s succeeded, want the refusal:\n%s", p.name, out)
					}
					requireOutput(t, out, r.want...)
				}
				// The CLI may keep an errored plan in the file; it must not apply.
				if _, err := os.Stat(h.path("tfplan")); err == nil {
					h.mustFail(nil, "apply", "-input=false", "tfplan")
				}
				requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)
			})
		}
	}
}

// A plan saved while output_path was free, applied after a directory took its place: the apply plans
// the image again before creating it, and refuses it then, before paying.
func TestAccPlanRefusals_savedPlanMeetsANewDirectory(t *testing.T) {
	srv, h := resumeSetup(t)
	h.write("main.tf", cliConfig(srv, `
resource "kie_image" "x" {
  model       = "google/nano-banana"
  input       = { prompt = "a lighthouse" }
  output_path = "images"
}
`))
	h.mustRun("plan", "-input=false", "-out=tfplan")
	if err := os.MkdirAll(h.path("images"), 0o755); err != nil {
		t.Fatal(err)
	}
	h.mustFail([]string{"output_path cannot be written", `output_path "images" is an existing directory`}, "apply", "-input=false", "tfplan")
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)
}
