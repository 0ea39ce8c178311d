package provider

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// kie_image tasks end through the provider's callback receiver: KIE's signed Market callbacks wake the
// waiters (the safety poll is far beyond the test's length), every task is sent the receiver's URL in
// place of callback_url, and each image is paid once with its results on disk.
func TestAccImageCallbackReceiver_wakesWaitersWithoutPolling(t *testing.T) {
	srv := testMock(t, kiemock.Options{Latency: time.Second, CallbackSecret: receiverKey})
	dir := t.TempDir()
	cfg := receiverProvider(srv, receiverKey, "10m") + fmt.Sprintf(`
resource "kie_image" "batch" {
  count        = 3
  model        = "google/nano-banana"
  input        = { prompt = "a harbour postcard ${count.index}" }
  callback_url = "http://127.0.0.1:9/ignored"
  output_path  = "%s/postcard-${count.index}.png"
}
`, filepath.ToSlash(dir))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("kie_image.batch.2", "state", "success"),
				checkCounts(srv, append(marketCreatesAre(3), tasksAre(3))...),
				func(*terraform.State) error {
					s := srv.Stats()
					if s.CallbacksSent != 3 {
						return fmt.Errorf("callbacks delivered %d, want 3", s.CallbacksSent)
					}
					if s.MarketStatusQueries > 4 { // at most 1.5 per image
						return fmt.Errorf("%d recordInfo queries for 3 images", s.MarketStatusQueries)
					}
					for _, task := range srv.MarketTasks() {
						if task.CallBackURL == "http://127.0.0.1:9/ignored" || task.CallBackURL == "" {
							return fmt.Errorf("task %s was sent callBackUrl %q, not the receiver", task.ID, task.CallBackURL)
						}
					}
					if got := dirNames(t, dir); len(got) != 3 {
						return fmt.Errorf("%s holds %q, want the three postcards", dir, got)
					}
					return nil
				},
			),
		}},
	})
}
