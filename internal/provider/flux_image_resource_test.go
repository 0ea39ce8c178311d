package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func imageConfig(srv *kiemock.Server, body string) string {
	return providerBlock(srv) + body
}

func TestAccFluxImage_generateAndRefreshForFree(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	out := filepath.Join(t.TempDir(), "img", "square.png")
	cfg := imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt        = "a lighthouse at dawn"
  aspect_ratio  = "1:1"
  output_format = "png"
  output_path   = %s
}
`, hcl(out)))
	var queriesAfterCreate int

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("status"), knownvalue.StringExact("SUCCESS")),
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("model"), knownvalue.StringExact("flux-kontext-pro")),
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("safety_tolerance"), knownvalue.Int64Exact(2)),
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("result_image_url"), knownvalue.StringRegexp(regexp.MustCompile(`^http://127\.0\.0\.1:\d+/`))),
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("created_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
					statecheck.ExpectKnownValue("kie_flux_image.test", tfjsonpath.New("completed_at"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("kie_flux_image.test", "id", "kie_flux_image.test", "task_id"),
					checkImageFile("kie_flux_image.test", out, "png", "1:1"),
					checkStat(srv, "generate POSTs", posts, 1),
					func(*terraform.State) error {
						queriesAfterCreate = srv.Stats().StatusQueries
						tasks := srv.Tasks()
						if len(tasks) != 1 || tasks[0].Params["prompt"] != "a lighthouse at dawn" ||
							tasks[0].Params["aspectRatio"] != "1:1" || tasks[0].Params["outputFormat"] != "png" {
							return fmt.Errorf("mock received unexpected tasks: %+v", tasks)
						}
						return nil
					},
				),
			},
			{
				// Plan and refresh of a finished image: no change and no API call.
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStat(srv, "generate POSTs", posts, 1),
					func(*terraform.State) error {
						if q := srv.Stats().StatusQueries; q != queriesAfterCreate {
							return fmt.Errorf("refresh made %d status queries, want 0", q-queriesAfterCreate)
						}
						return nil
					},
				),
			},
		},
	})
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("destroy should remove the file it wrote; stat: %v", err)
	}
}

func TestAccFluxImage_editFromAnotherResult(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	dir := t.TempDir()
	cfg := imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "base" {
  prompt       = "a quiet mountain lake"
  aspect_ratio = "16:9"
}

resource "kie_flux_image" "edit" {
  prompt           = "add hot air balloons"
  input_image      = kie_flux_image.base.result_image_url
  aspect_ratio     = "16:9"
  model            = "flux-kontext-max"
  safety_tolerance = 1
  output_path      = %s
}
`, hcl(filepath.Join(dir, "edit.jpg"))))

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckNoResourceAttr("kie_flux_image.base", "output_path"),
				resource.TestCheckNoResourceAttr("kie_flux_image.base", "output_sha256"),
				checkImageFile("kie_flux_image.edit", filepath.Join(dir, "edit.jpg"), "jpeg", "16:9"),
				checkStat(srv, "generate POSTs", posts, 2),
				func(s *terraform.State) error {
					baseURL, err := stateAttr(s, "kie_flux_image.base", "result_image_url")
					if err != nil {
						return err
					}
					editID, err := stateAttr(s, "kie_flux_image.edit", "task_id")
					if err != nil {
						return err
					}
					task, ok := srv.Task(editID)
					if !ok {
						return fmt.Errorf("mock has no task %s", editID)
					}
					if task.Params["inputImage"] != baseURL || task.Params["model"] != "flux-kontext-max" {
						return fmt.Errorf("edit task params = %v, want inputImage %s and model max", task.Params, baseURL)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccFluxImage_outputPathChangeMovesWithoutGenerating(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.jpg"), filepath.Join(dir, "moved", "b.jpg")
	cfg := func(p string) string {
		return imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt      = "a red bicycle"
  output_path = %s
}
`, hcl(p)))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(first),
				Check:  checkImageFile("kie_flux_image.test", first, "jpeg", "16:9"),
			},
			{
				Config: cfg(second),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("kie_flux_image.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageFile("kie_flux_image.test", second, "jpeg", "16:9"),
					checkNoFile(first),
					checkStat(srv, "generate POSTs", posts, 1),
				),
			},
		},
	})
}

func TestAccFluxImage_argumentChangeReplacesWithOnePost(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cfg := func(prompt string) string {
		return imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt = %q
  triggers = { version = "1" }
}
`, prompt))
	}
	var firstID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg("a green teapot"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStat(srv, "generate POSTs", posts, 1),
					func(s *terraform.State) (err error) {
						firstID, err = stateAttr(s, "kie_flux_image.test", "task_id")
						return err
					},
				),
			},
			{
				Config: cfg("a blue teapot"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("kie_flux_image.test", plancheck.ResourceActionReplace),
						plancheck.ExpectUnknownValue("kie_flux_image.test", tfjsonpath.New("task_id")),
					},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStat(srv, "generate POSTs", posts, 2),
					func(s *terraform.State) error {
						id, err := stateAttr(s, "kie_flux_image.test", "task_id")
						if err == nil && id == firstID {
							return fmt.Errorf("task id did not change on replacement")
						}
						return err
					},
				),
			},
			{
				// Taint is what -replace does: an explicit request for a new paid image.
				Config: cfg("a blue teapot"),
				Taint:  []string{"kie_flux_image.test"},
				Check:  checkStat(srv, "generate POSTs", posts, 3),
			},
		},
	})
}

func TestAccFluxImage_failedTaskNamesTaskID(t *testing.T) {
	for _, tc := range []struct{ marker, status string }{
		{"[mock:create-fail]", "CREATE_TASK_FAILED"},
		{"[mock:generate-fail]", "GENERATE_FAILED"},
	} {
		t.Run(tc.status, func(t *testing.T) {
			srv := testMock(t, kiemock.Options{})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt = "a cat %s"
}
`, tc.marker)),
					ExpectError: regexp.MustCompile(`(?s)Image generation failed.*task \S+.*` + tc.status),
				}},
			})
			if n := srv.Stats().GenerateRequests; n != 1 {
				t.Fatalf("generate POSTs = %d, want 1", n)
			}
		})
	}
}

func TestAccFluxImage_planTimeValidation(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cases := map[string]struct{ body, want string }{
		"ratio":     {`aspect_ratio = "2:1"`, `aspect_ratio`},
		"model":     {`model = "flux-kontext-ultra"`, `model`},
		"format":    {`output_format = "gif"`, `output_format`},
		"tolerance": {`safety_tolerance = 7`, `safety_tolerance`},
		"edit-tolerance": {`input_image = "https://example.com/in.png"
  safety_tolerance = 4`, `(?s)safety_tolerance.*edit`},
		"url":        {`input_image = "ftp://example.com/in.png"`, `(?s)input_image.*http`},
		"callback":   {`callback_url = "not a url"`, `callback_url`},
		"empty-path": {`output_path = " "`, `output_path`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt = "x"
  %s
}
`, tc.body)),
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.want),
				}},
			})
		})
	}
	t.Run("empty-prompt", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories,
			Steps: []resource.TestStep{{
				Config:      imageConfig(srv, `resource "kie_flux_image" "test" { prompt = "  " }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`prompt must not be empty`),
			}},
		})
	})
	if n := srv.Stats().GenerateRequests; n != 0 {
		t.Fatalf("invalid configurations reached the API: %d POSTs", n)
	}
}

func TestAccFluxImage_wrongKey(t *testing.T) {
	srv := testMock(t, kiemock.Options{APIKey: "the-right-key"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      imageConfig(srv, `resource "kie_flux_image" "test" { prompt = "a fox" }`),
			ExpectError: regexp.MustCompile(`(?s)KIE rejected the API key.*No task was created`),
		}},
	})
	if s := srv.Stats(); s.TasksCreated != 0 {
		t.Fatalf("tasks created with a wrong key: %d", s.TasksCreated)
	}
}

func TestAccFluxImage_timeoutKeepsTaskAndNextApplyResumes(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: 4 * time.Second})
	out := filepath.Join(t.TempDir(), "slow.jpg")
	cfg := func(timeout string) string {
		return imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt      = "a slow sunrise"
  output_path = %s
  timeouts {
    create = %q
  }
}
`, hcl(out), timeout))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg("1s"),
				ExpectError: regexp.MustCompile(`(?s)Task \S+ was accepted by KIE.*deadline\s+exceeded.*apply\s+again`),
			},
			{
				// A plain apply (the resource is tainted) finishes the same task: no second POST.
				Config: cfg("1m"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkStat(srv, "generate POSTs", posts, 1),
					resource.TestCheckResourceAttr("kie_flux_image.test", "status", "SUCCESS"),
					checkImageFile("kie_flux_image.test", out, "jpeg", "16:9"),
					func(s *terraform.State) error {
						id, err := stateAttr(s, "kie_flux_image.test", "task_id")
						if err != nil {
							return err
						}
						if tasks := srv.Tasks(); len(tasks) != 1 || tasks[0].ID != id {
							return fmt.Errorf("state holds %s, mock has %+v", id, tasks)
						}
						return nil
					},
				),
			},
		},
	})
}

func TestAccFluxImage_missingOrAlteredFileIsRestoredWithoutGenerating(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	out := filepath.Join(t.TempDir(), "keep.png")
	cfg := imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt        = "a paper boat"
  output_format = "png"
  aspect_ratio  = "9:16"
  output_path   = %s
}
`, hcl(out)))
	update := resource.ConfigPlanChecks{
		PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("kie_flux_image.test", plancheck.ResourceActionUpdate)},
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkImageFile("kie_flux_image.test", out, "png", "9:16")},
			{
				PreConfig:        func() { _ = os.Remove(out) },
				Config:           cfg,
				ConfigPlanChecks: update,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageFile("kie_flux_image.test", out, "png", "9:16"),
					checkStat(srv, "generate POSTs", posts, 1),
				),
			},
			{
				PreConfig: func() {
					if err := os.WriteFile(out, []byte("not the image"), 0o600); err != nil {
						t.Fatal(err)
					}
				},
				Config:           cfg,
				ConfigPlanChecks: update,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageFile("kie_flux_image.test", out, "png", "9:16"),
					checkStat(srv, "generate POSTs", posts, 1),
				),
			},
		},
	})
}
