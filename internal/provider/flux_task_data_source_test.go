package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func TestAccFluxTaskDataSource(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	ok := startExternalTask(t, srv, `{"prompt":"a snowy cabin","aspectRatio":"21:9"}`)
	failed := startExternalTask(t, srv, `{"prompt":"a cabin [mock:generate-fail]"}`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: imageConfig(srv, `
data "kie_flux_task" "ok" {
  task_id = "`+ok+`"
}
data "kie_flux_task" "failed" {
  task_id = "`+failed+`"
}
`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.kie_flux_task.ok", "status", "SUCCESS"),
					resource.TestCheckResourceAttr("data.kie_flux_task.ok", "prompt", "a snowy cabin"),
					resource.TestCheckResourceAttr("data.kie_flux_task.ok", "aspect_ratio", "21:9"),
					resource.TestCheckResourceAttr("data.kie_flux_task.ok", "model", "flux-kontext-pro"),
					resource.TestMatchResourceAttr("data.kie_flux_task.ok", "result_image_url", regexp.MustCompile(`/files/`+ok)),
					resource.TestMatchResourceAttr("data.kie_flux_task.ok", "param_json", regexp.MustCompile(`"aspectRatio":"21:9"`)),
					resource.TestCheckNoResourceAttr("data.kie_flux_task.ok", "error_code"),
					resource.TestCheckResourceAttr("data.kie_flux_task.failed", "status", "GENERATE_FAILED"),
					resource.TestCheckResourceAttrSet("data.kie_flux_task.failed", "error_code"),
					resource.TestCheckResourceAttrSet("data.kie_flux_task.failed", "error_message"),
					resource.TestCheckNoResourceAttr("data.kie_flux_task.failed", "result_image_url"),
				),
			},
			{
				Config:      imageConfig(srv, `data "kie_flux_task" "nope" { task_id = "fluxkontext_missing" }`),
				ExpectError: regexp.MustCompile(`(?s)Task not found.*fluxkontext_missing`),
			},
		},
	})
}
