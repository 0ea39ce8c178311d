package provider

import (
	"fmt"
	"os"
	"regexp"
	"testing"
)

// Plan-time refusals about output files: every one before anything is paid (no task at the mock).

// collisionErrors counts the instances Terraform names with the collision error.
func collisionErrors(out string) int {
	return len(regexp.MustCompile(`Error: Several resources write the same output_path\s+with kie_`).FindAllString(out, -1))
}

// count without count.index in output_path: three kie_flux_image, and a kie_image whose second result
// ("icon-2.jpg") is another resource's file, fail the plan, naming every instance but the first one
// planned and describing that one; nothing is paid. With the index each pays once, a -replace of an
// image keeping its file is no second writer, and a new resource writing an existing image's file is.
func TestAccPlanFiles_oneFileManyWriters(t *testing.T) {
	srv, h := resumeSetup(t)
	flux := func(path string) string {
		return `
resource "kie_flux_image" "icon" {
  count       = 3
  prompt      = "a small red rocket"
  output_path = "` + path + `"
}
`
	}
	h.write("main.tf", cliConfig(srv, flux("${path.module}/icon.jpg")))
	for _, cmd := range [][]string{{"plan", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
		out := h.mustFail([]string{"Several resources write the same output_path", `kie_flux_image \(prompt "a small red rocket"`,
			"count.index", "each.key", "Nothing was paid"}, cmd...)
		if n := collisionErrors(out); n != 2 {
			t.Fatalf("%s: %d instances report the collision, want 2 of 3:\n%s", cmd[0], n, out)
		}
	}
	requireCounts(t, srv, postsAre(0), tasksAre(0))

	h.write("main.tf", cliConfig(srv, `
resource "kie_image" "mug" {
  model       = "bytedance/seedream-v4-text-to-image"
  input       = { prompt = "a ceramic mug", max_images = 3 }
  output_path = "out/mug.jpg"
}

resource "kie_flux_image" "second" {
  prompt      = "a mug, second view"
  output_path = "out/../out/mug-2.jpg"
}
`))
	out := h.mustFail([]string{"Several resources write the same output_path", "mug-2.jpg", "Nothing was paid"}, "plan", "-input=false")
	if n := collisionErrors(out); n != 1 {
		t.Fatalf("%d instances report the collision, want 1 of 2:\n%s", n, out)
	}
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)

	h.write("main.tf", cliConfig(srv, flux("${path.module}/icon-${count.index}.jpg")))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, postsAre(3), tasksAre(3))
	h.mustRun("apply", "-auto-approve", "-input=false", "-replace=kie_flux_image.icon[1]")
	requireCounts(t, srv, postsAre(4), tasksAre(4))

	h.write("main.tf", cliConfig(srv, flux("${path.module}/icon-${count.index}.jpg")+`
resource "kie_image" "late" {
  model       = "google/nano-banana"
  input       = { prompt = "a late icon" }
  output_path = "icon-0.jpg"
}
`))
	h.mustFail([]string{"Several resources write the same output_path", `kie_flux_image \(prompt "a small red rocket"`},
		"plan", "-input=false")
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(4), tasksAre(4))...)
}

// An output_path that names a directory, or lies under a regular file, fails the plan of either
// resource, as does a kie_image whose further result would go where a directory is.
func TestAccPlanFiles_outputPathCannotBeAFile(t *testing.T) {
	srv, h := resumeSetup(t)
	for _, dir := range []string{"images", "out/mug-2.png"} {
		if err := os.MkdirAll(h.path(dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(h.path("blocker"), []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ body, want string }{
		{`resource "kie_flux_image" "x" {
  prompt      = "a lighthouse"
  output_path = "images"
}`, `output_path "images" is an existing directory`},
		{`resource "kie_image" "x" {
  model       = "google/nano-banana"
  input       = { prompt = "a lighthouse" }
  output_path = "${path.module}/images/"
}`, `is an existing directory`},
		{`resource "kie_flux_image" "x" {
  prompt      = "a lighthouse"
  output_path = "blocker/sub/x.png"
}`, `cannot be created: "blocker" is a file, not a directory`},
		{`resource "kie_image" "x" {
  model       = "google/nano-banana"
  input       = { prompt = "a lighthouse" }
  output_path = "blocker/x.png"
}`, `cannot be created: "blocker" is a file, not a directory`},
		{`resource "kie_image" "x" {
  model       = "bytedance/seedream-v4-text-to-image"
  input       = { prompt = "a mug", max_images = 2 }
  output_path = "out/mug.png"
}`, `output_path "out/mug-2.png" is an existing directory`},
	} {
		h.write("main.tf", cliConfig(srv, tc.body))
		h.mustFail([]string{"output_path cannot be written", regexp.QuoteMeta(tc.want), "before any image is paid for"}, "plan", "-input=false")
		h.mustFail([]string{"output_path cannot be written"}, "apply", "-auto-approve", "-input=false")
	}
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)
}

// max_new_images counts every planned instance, identical ones too: each is a paid request. At the cap
// the apply (which plans every image again before creating it) passes and pays once per image.
func TestAccPlanFiles_capCountsIdenticalInstances(t *testing.T) {
	srv, h := resumeSetup(t)
	cfg := func(limit int) string {
		return cliRequiredProviders + providerBlock(srv, fmt.Sprintf("max_new_images = %d", limit)) + `
resource "kie_flux_image" "same" {
  count  = 2
  prompt = "the same harbour"
}

resource "kie_image" "same" {
  count = 2
  model = "google/nano-banana"
  input = { prompt = "the same harbour" }
}
`
	}
	h.write("main.tf", cfg(3))
	h.mustFail([]string{"Spend guard", "max_new_images is 3 and this plan would start at least 4 new paid generations"},
		"plan", "-input=false")
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)
	h.write("main.tf", cfg(4))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, append(marketCreatesAre(2), postsAre(2), tasksAre(4))...)
}
