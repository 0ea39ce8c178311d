package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func TestAccFluxImage_importExternalTaskPlansNoChange(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	id := startExternalTask(t, srv, `{"prompt":"a brass compass on a map","aspectRatio":"4:3","model":"flux-kontext-max","outputFormat":"png","promptUpsampling":true,"watermark":"ACME"}`)
	cfg := imageConfig(srv, `
resource "kie_flux_image" "test" {
  prompt            = "a brass compass on a map"
  aspect_ratio      = "4:3"
  model             = "flux-kontext-max"
  output_format     = "png"
  prompt_upsampling = true
  watermark         = "ACME"
}
`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				// An import {} block: the plan imports the task and changes nothing.
				Config:          cfg,
				ResourceName:    "kie_flux_image.test",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithID,
				ImportStateId:   id,
			},
			{
				Config:             cfg,
				ResourceName:       "kie_flux_image.test",
				ImportState:        true,
				ImportStateId:      id,
				ImportStatePersist: true,
				ImportStateCheck: func(states []*terraform.InstanceState) error {
					if len(states) != 1 {
						return fmt.Errorf("imported %d objects", len(states))
					}
					a := states[0].Attributes
					for k, want := range map[string]string{
						"task_id": id, "status": "SUCCESS", "prompt": "a brass compass on a map", "model": "flux-kontext-max",
						"aspect_ratio": "4:3", "output_format": "png", "prompt_upsampling": "true", "watermark": "ACME",
						"safety_tolerance": "2", "enable_translation": "true", "upload_cn": "false",
					} {
						if a[k] != want {
							return fmt.Errorf("imported %s = %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
			{
				// A configuration that matches the task plans nothing: no new paid image.
				Config:   cfg,
				PlanOnly: true,
			},
		},
	})
	if n := srv.Stats().GenerateRequests; n != 1 {
		t.Fatalf("generate POSTs = %d, want only the external one", n)
	}
}

func TestAccFluxImage_importVerify(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: imageConfig(srv, fmt.Sprintf(`
resource "kie_flux_image" "test" {
  prompt           = "a origami crane"
  aspect_ratio     = "3:4"
  safety_tolerance = 5
  callback_url     = "http://127.0.0.1:9/hook"
  output_path      = %s
}
`, hcl(t.TempDir()+"/crane.jpg"))),
			},
			{
				ResourceName:            "kie_flux_image.test",
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"output_path", "output_sha256", "output_size", "timeouts"},
			},
		},
	})
}

func TestAccFluxImage_importUnknownID(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config:        imageConfig(srv, `resource "kie_flux_image" "test" { prompt = "x" }`),
			ResourceName:  "kie_flux_image.test",
			ImportState:   true,
			ImportStateId: "fluxkontext_doesnotexist",
			ExpectError:   regexp.MustCompile(`(?s)Task not found.*fluxkontext_doesnotexist`),
		}},
	})
}
