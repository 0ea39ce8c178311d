package provider

import (
	"fmt"
	"testing"
)

// max_new_images counts the paid generations of every resource type together: kie_flux_image and
// kie_image plan against the same cap, and apply against the same guard.

// mixedBatch is one kie_flux_image and two kie_image, with create_before_destroy when cbd.
func mixedBatch(prompt string, cbd bool) string {
	lifecycle := ""
	if cbd {
		lifecycle = "\n  lifecycle {\n    create_before_destroy = true\n  }"
	}
	return fmt.Sprintf(`
resource "kie_flux_image" "one" {
  prompt = "%[1]s on canvas"%[2]s
}

resource "kie_image" "batch" {
  count = 2
  model = "google/nano-banana"
  input = { prompt = "%[1]s number ${count.index}" }%[2]s
}
`, prompt, lifecycle)
}

// The plan fails before anything is paid when both resource types together exceed the cap, naming it;
// at the cap it passes and each image is one task. Replacements of either type count too.
func TestAccImageSpend_capCountsBothResourceTypes(t *testing.T) {
	srv, h := resumeSetup(t)
	cfg := func(limit int, prompt string) string {
		return cliRequiredProviders + providerBlock(srv, fmt.Sprintf("max_new_images = %d", limit)) + mixedBatch(prompt, true)
	}
	h.write("main.tf", cfg(2, "a tile"))
	h.mustFail([]string{"Spend guard", "max_new_images is 2 and this plan would start at least 3 new paid generations", "Nothing was paid"},
		"plan", "-input=false")
	h.mustFail([]string{"max_new_images is 2 and this plan would start at least 3 new paid generations"},
		"apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, append(marketCreatesAre(0), postsAre(0), tasksAre(0))...)

	h.write("main.tf", cfg(3, "a tile"))
	h.mustRun("apply", "-auto-approve", "-input=false")
	requireCounts(t, srv, append(marketCreatesAre(2), postsAre(1), tasksAre(3))...)
	for _, addr := range []string{"kie_image.batch[0]", "kie_image.batch[1]"} {
		if got := h.resourceAttr(addr, "state"); got != "success" {
			t.Fatalf("%s state %q", addr, got)
		}
	}

	// Replacements, with create_before_destroy, each count once, whichever the resource type.
	h.write("main.tf", cfg(1, "a tile"))
	h.mustFail([]string{"max_new_images is 1 and this plan would start at least 2 new paid generations"},
		"plan", "-input=false", "-replace=kie_image.batch[0]", "-replace=kie_flux_image.one")
	requireCounts(t, srv, append(marketCreatesAre(2), tasksAre(3))...)
	h.mustRun("apply", "-auto-approve", "-input=false", "-replace=kie_image.batch[1]")
	requireCounts(t, srv, append(marketCreatesAre(3), postsAre(1), tasksAre(4))...)
	if code, out := h.planExitCode(); code != 0 {
		t.Fatalf("plan after the replacement shows changes:\n%s", out)
	}
}

// The plan-time cap cannot see a limit set only when a saved plan is applied (KIE_MAX_NEW_IMAGES in
// the apply's environment); the apply still refuses beyond it, for either resource type, before paying.
func TestAccImageSpend_savedPlanAppliedUnderALowerLimit(t *testing.T) {
	srv, h := resumeSetup(t)
	h.write("main.tf", cliConfig(srv, mixedBatch("a tile", false)))
	h.mustRun("plan", "-input=false", "-out=tfplan")
	t.Setenv(envMaxNewImages, "1")
	h.mustFail([]string{"Spend guard", "max_new_images is 1"}, "apply", "-input=false", "tfplan")
	if st := srv.Stats(); st.TasksCreated != 1 || st.GenerateRequests+st.MarketCreateRequests != 1 {
		t.Fatalf("with KIE_MAX_NEW_IMAGES=1 at apply: %d create requests, %d tasks; want exactly one of each (stats %+v)",
			st.GenerateRequests+st.MarketCreateRequests, st.TasksCreated, st)
	}
}
