package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func marketTasksAre(srv *kiemock.Server, n int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := srv.Stats().MarketTasksCreated; got != n {
			return fmt.Errorf("kie-mock created %d Market tasks, want %d", got, n)
		}
		return nil
	}
}

// checkResultFiles asserts that each result i of addr is a decodable image at its predicted path with
// the recorded hash and size.
func checkResultFiles(addr string, paths ...string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		if n, _ := stateAttr(s, addr, "results.#"); n != strconv.Itoa(len(paths)) {
			return fmt.Errorf("%s has %s results, want %d", addr, n, len(paths))
		}
		for i, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("result %d: %w", i, err)
			}
			if _, _, err := image.DecodeConfig(bytes.NewReader(b)); err != nil {
				return fmt.Errorf("result %d at %s is not an image: %w", i, p, err)
			}
			sum := sha256.Sum256(b)
			want := map[string]string{"path": p, "sha256": hex.EncodeToString(sum[:]), "size": strconv.Itoa(len(b))}
			for attr, v := range want {
				got, err := stateAttr(s, addr, fmt.Sprintf("results.%d.%s", i, attr))
				if err != nil || got != v {
					return fmt.Errorf("results.%d.%s = %q (%v), want %q", i, attr, got, err, v)
				}
			}
		}
		return nil
	}
}

// One paid task gives every result on disk at predictable paths; refreshes and plans cost nothing; a
// deleted file is restored without paying again.
func TestAccImage_severalResultsOnDiskRestoredForFree(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "out", "fox.png")
	second := filepath.Join(dir, "out", "fox-2.png")
	cfg := providerBlock(srv) + fmt.Sprintf(`
resource "kie_image" "test" {
  model = "bytedance/seedream-v4-text-to-image"
  input = {
    prompt     = "a red fox in fresh snow"
    image_size = "square_hd"
    max_images = 2
  }
  output_path = %s
}
`, hcl(out))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("kie_image.test", tfjsonpath.New("state"), knownvalue.StringExact("success")),
					statecheck.ExpectKnownValue("kie_image.test", tfjsonpath.New("task_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f]{32}$`))),
					statecheck.ExpectKnownValue("kie_image.test", tfjsonpath.New("credits_consumed"), knownvalue.NotNull()),
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles("kie_image.test", out, second),
					marketTasksAre(srv, 1),
				),
			},
			{
				Config:   cfg,
				PlanOnly: true,
			},
			{
				PreConfig: func() {
					if err := os.Remove(second); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("kie_image.test", plancheck.ResourceActionUpdate)},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles("kie_image.test", out, second),
					marketTasksAre(srv, 1),
				),
			},
		},
	})
}

// The catalogue refuses a bad input at plan time, naming the field, before anything is paid.
func TestAccImage_catalogueRefusesBadInputBeforePaying(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cfg := providerBlock(srv) + `
resource "kie_image" "test" {
  model = "google/nano-banana"
  input = {
    prompt       = "a lighthouse"
    aspect_ratio = "7:5"
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`input\.aspect_ratio`),
		}},
	})
	if n := srv.Stats().MarketCreateRequests; n != 0 {
		t.Fatalf("%d create requests were sent for a refused input", n)
	}
}

// A model outside the catalogue is passed through with a warning (KIE adds models every month); the
// mock, like KIE, refuses one it does not know, which names model.
func TestAccImage_unknownModelIsPassedToKIE(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cfg := providerBlock(srv) + `
resource "kie_image" "test" {
  model = "acme/brand-new-model"
  input = { prompt = "a kite" }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: regexp.MustCompile(`(?s)KIE rejected model.*No task was created`),
		}},
	})
	if n := srv.Stats().MarketCreateRequests; n != 1 {
		t.Fatalf("%d create requests, want the one KIE refused", n)
	}
}

// An edit with a local file: uploaded for free, put into the model's image field.
func TestAccImage_inputImageFilesFillTheImageField(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	dir := t.TempDir()
	in := filepath.Join(dir, "logo.png")
	writeTestImage(t, in, "png", 7)
	out := filepath.Join(dir, "edit.png")
	cfg := providerBlock(srv) + fmt.Sprintf(`
resource "kie_image" "test" {
  model             = "google/nano-banana-edit"
  input             = { prompt = "add snow" }
  input_image_files = [%s]
  output_path       = %s
}
`, hcl(in), hcl(out))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles("kie_image.test", out),
					marketTasksAre(srv, 1),
					resource.TestCheckResourceAttr("kie_image.test", "input_image_upload_urls.#", "1"),
					resource.TestCheckResourceAttr("kie_image.test", "input_image_sha256s.#", "1"),
				),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}

// Imported by task id: the arguments are recovered from KIE's param, so the configuration that made the
// task plans no change.
func TestAccImage_importRecoversArguments(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	cfg := providerBlock(srv) + `
resource "kie_image" "test" {
  model = "flux-2/pro-text-to-image"
  input = {
    prompt       = "a paper crane"
    aspect_ratio = "1:1"
    resolution   = "1K"
  }
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: marketTasksAre(srv, 1)},
			{
				Config:                  cfg,
				ResourceName:            "kie_image.test",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}
