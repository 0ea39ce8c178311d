package provider

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func TestAccCreditsDataSource_budgetPrecondition(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	srv.SetCredits(12)
	budget := func(n int) string {
		return imageConfig(srv, fmt.Sprintf(`
data "kie_credits" "account" {}

resource "kie_flux_image" "batch" {
  count  = %d
  prompt = "tile ${count.index}"
  lifecycle {
    precondition {
      condition     = data.kie_credits.account.credits >= %d * 5
      error_message = "not enough credits for this batch"
    }
  }
}
`, n, n))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: imageConfig(srv, `data "kie_credits" "account" {}`),
				Check:  resource.TestCheckResourceAttr("data.kie_credits.account", "credits", "12"),
			},
			{
				// 3 images need 15 credits: the plan stops before any paid request.
				Config:      budget(3),
				ExpectError: regexp.MustCompile(`not enough credits for this batch`),
			},
			{
				// The same batch goes through once the account can pay for it.
				PreConfig: func() {
					if n := srv.Stats().GenerateRequests; n != 0 {
						t.Fatalf("the refused plan sent %d generate POSTs", n)
					}
					srv.SetCredits(1000)
				},
				Config: budget(3),
				Check:  checkStat(srv, "generate POSTs", posts, 3),
			},
		},
	})
}
