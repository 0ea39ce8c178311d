package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

func localEditConfig(srv *kiemock.Server, input, output string) string {
	return imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt           = "make it look like winter"
  input_image_file = %s
  aspect_ratio     = "1:1"
  output_path      = %s
}
`, hcl(input), hcl(output)))
}

func TestAccFluxImage_editLocalFile(t *testing.T) {
	for _, format := range []string{"png", "jpeg"} {
		t.Run(format, func(t *testing.T) {
			srv := testMock(t, kiemock.Options{})
			dir := t.TempDir()
			input, output := filepath.Join(dir, "logo."+format), filepath.Join(dir, "out.jpg")
			writeTestImage(t, input, format, 10)
			cfg := localEditConfig(srv, input, output)
			uploads := func(s kiemock.Stats) int { return s.Uploads }

			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: cfg,
						Check: resource.ComposeAggregateTestCheckFunc(
							checkImageFile("kie_flux_image.test", output, "jpeg", "1:1"),
							checkStat(srv, "uploads", uploads, 1),
							checkStat(srv, "generate POSTs", posts, 1),
							resource.TestCheckResourceAttr("kie_flux_image.test", "input_image_sha256", fileSHA(t, input)),
							func(s *terraform.State) error {
								up, err := stateAttr(s, "kie_flux_image.test", "input_image_upload_url")
								if err != nil {
									return err
								}
								task := srv.Tasks()[0]
								if task.Params["inputImage"] != up || !strings.Contains(up, "/files/uploads/") {
									return fmt.Errorf("edit task input %v, uploaded %s", task.Params["inputImage"], up)
								}
								if srv.Stats().InputFetches != 1 {
									return fmt.Errorf("the edit did not fetch its uploaded input")
								}
								return nil
							},
						),
					},
					{
						// Unchanged file: empty plan, nothing uploaded, nothing paid.
						Config: cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
						},
						Check: resource.ComposeAggregateTestCheckFunc(
							checkStat(srv, "uploads", uploads, 1),
							checkStat(srv, "generate POSTs", posts, 1),
						),
					},
					{
						// A changed file is a new paid edit, and the plan says so by replacing.
						PreConfig: func() { writeTestImage(t, input, format, 200) },
						Config:    cfg,
						ConfigPlanChecks: resource.ConfigPlanChecks{
							PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("kie_flux_image.test", plancheck.ResourceActionReplace)},
						},
						Check: resource.ComposeAggregateTestCheckFunc(
							checkStat(srv, "uploads", uploads, 2),
							checkStat(srv, "generate POSTs", posts, 2),
							func(s *terraform.State) error {
								// Hashed now, after PreConfig rewrote the file.
								return resource.TestCheckResourceAttr("kie_flux_image.test", "input_image_sha256", fileSHA(t, input))(s)
							},
						),
					},
				},
			})
		})
	}
}

func TestAccFluxImage_badLocalFileFailsAtPlan(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.png")
	text := filepath.Join(dir, "notes.png")
	huge := filepath.Join(dir, "huge.png")
	mustWrite(t, empty, nil)
	mustWrite(t, text, []byte("this is not an image"))
	mustWrite(t, huge, nil)
	if err := os.Truncate(huge, maxInputImageBytes+1); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct{ path, want string }{
		"missing":   {filepath.Join(dir, "nope.png"), `cannot be read`},
		"empty":     {empty, `is empty`},
		"not-image": {text, `is not a PNG, JPEG or GIF image`},
		"too-large": {huge, `MiB limit`},
		"folder":    {dir, `not a regular file`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:   localEditConfig(srv, tc.path, filepath.Join(dir, "out.jpg")),
					PlanOnly: true,
					ExpectError: regexp.MustCompile(`(?s)input_image_file.*` + regexp.QuoteMeta(filepath.Base(tc.path)) + `.*` +
						strings.ReplaceAll(tc.want, " ", `\s+`)),
				}},
			})
		})
	}
	t.Run("conflicts-with-input_image", func(t *testing.T) {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories,
			Steps: []resource.TestStep{{
				Config: imageConfig(srv, `
resource "kie_flux_image" "test" {
  prompt           = "x"
  input_image      = "https://example.com/a.png"
  input_image_file = "a.png"
}
`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)input_image_file.*input_image`),
			}},
		})
	})
	if s := srv.Stats(); s.GenerateRequests != 0 || s.Uploads != 0 {
		t.Fatalf("bad input files reached the API: %+v", s)
	}
}

func TestAccFluxImage_spendGuard(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cfg := func(limit int, prompt string) string {
		return providerBlock(srv, fmt.Sprintf("max_new_images = %d", limit)) + `
resource "kie_flux_image" "batch" {
  count  = 5
  prompt = "` + prompt + ` ${count.index}"
}
`
	}
	noPosts := func(want int) func() {
		return func() {
			if n := srv.Stats().GenerateRequests; n != want {
				t.Fatalf("the mock got %d generate POSTs, want %d", n, want)
			}
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				// The plan itself fails: nothing is paid, instead of 2 images and a failed apply.
				Config:      cfg(2, "catalogue tile"),
				ExpectError: regexp.MustCompile(`(?s)max_new_images exceeded by this plan.*max_new_images is 2 and this plan would\s+start at least [345]\s+new paid generations.*Nothing was paid`),
			},
			{PreConfig: noPosts(0), Config: cfg(5, "catalogue tile"), Check: checkStat(srv, "generate POSTs", posts, 5)},
			{
				// Replacements count like creates: changing every prompt would buy 5 more.
				PreConfig:   noPosts(5),
				Config:      cfg(4, "catalogue card"),
				ExpectError: regexp.MustCompile(`(?s)max_new_images exceeded by this plan.*max_new_images is 4`),
			},
			{
				PreConfig: noPosts(5),
				Config:    cfg(5, "catalogue tile"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: checkStat(srv, "generate POSTs", posts, 5),
			},
		},
	})
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func fileSHA(t *testing.T, p string) string {
	t.Helper()
	sum, _, err := localfile.Hash(p)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
