package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

const receiverKey = "hook-signing-key-7d1e"

func receiverConfig(srv *kiemock.Server, hmacKey, safety string) string {
	return providerBlock(srv, fmt.Sprintf(`callback_receiver {
    listen_address       = "127.0.0.1:0"
    hmac_key             = %q
    safety_poll_interval = %q
  }`, hmacKey, safety)) + `
resource "kie_flux_image" "batch" {
  count        = 4
  prompt       = "postcard ${count.index}"
  callback_url = "http://127.0.0.1:9/ignored"
}
`
}

func TestAccCallbackReceiver_wakesWaitersWithoutPolling(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: time.Second, CallbackSecret: receiverKey})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			// The safety poll is far beyond the test's length: only callbacks can finish it in time.
			Config: receiverConfig(srv, receiverKey, "10m"),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_flux_image.batch.3", "status", "SUCCESS"),
				func(*terraform.State) error {
					s := srv.Stats()
					if s.GenerateRequests != 4 || s.CallbacksSent != 4 {
						return fmt.Errorf("POSTs %d, callbacks delivered %d; want 4 and 4", s.GenerateRequests, s.CallbacksSent)
					}
					if s.StatusQueries > 6 { // at most 1.5 per image
						return fmt.Errorf("%d status queries for 4 images", s.StatusQueries)
					}
					for _, task := range srv.Tasks() {
						if task.CallBackURL == "http://127.0.0.1:9/ignored" || task.CallBackURL == "" {
							return fmt.Errorf("task %s was sent callBackUrl %q, not the receiver", task.ID, task.CallBackURL)
						}
					}
					return nil
				},
			),
		}},
	})
}

func TestAccCallbackReceiver_refusesBadSignaturesAndFallsBackToPolling(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: 300 * time.Millisecond, CallbackSecret: "not-the-providers-key"})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: receiverConfig(srv, receiverKey, "1s"),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_flux_image.batch.0", "status", "SUCCESS"),
				func(*terraform.State) error {
					s := srv.Stats()
					if s.CallbacksSent != 0 || s.CallbacksFailed < 4 {
						return fmt.Errorf("forged callbacks were accepted: sent %d, failed %d", s.CallbacksSent, s.CallbacksFailed)
					}
					if s.StatusQueries < 4 {
						return fmt.Errorf("only %d status queries: the safety poll did not run", s.StatusQueries)
					}
					return nil
				},
			),
		}},
	})
}
