package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 8 for kie_image: two dozen images share one client under the mock's sliding create limit
// (8 per 2 s, told to the provider) with 429s on recordInfo. Every image gets exactly one task: the
// client's create limit paces the createTask POSTs so that none earns a 429, and the status 429s are
// waited out.
func TestAccImageFault_parallelImagesShareOneClient(t *testing.T) {
	t.Parallel()
	const n = 24
	const injected = 8
	const limit, window = 8, 2 * time.Second
	srv := imgFaultMock(t, kiemock.Options{CreateLimit: limit, CreateWindow: window})
	trackFault(t, srv, "8 concurrency", fmt.Sprintf("%d kie_image, recordInfo 429 x%d, create limit %d/%s", n, injected, limit, window),
		expectSurvived, n)
	srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointMarketRecordInfo, Kind: kiemock.FaultStatus, Status: 429,
		Message: "Too many requests", Times: injected})
	cfg := providerBlock(srv, fmt.Sprintf("create_rate_limit = %d", limit), fmt.Sprintf("create_rate_window = %q", window),
		"status_query_rate = 100") + fmt.Sprintf(`
resource "kie_image" "batch" {
  count = %d
  model = "google/nano-banana"
  input = { prompt = "tile number ${count.index} of a mosaic" }
}
`, n)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkCounts(srv, marketPostsAre(n), tasksAre(n), faultsAre(injected),
					counter{name: "createTask 429s", get: func(s kiemock.Stats) int { return s.MarketRateLimited }, want: 0}),
				func(s *terraform.State) error {
					tasks := srv.MarketTasks()
					inMock, prompts := map[string]bool{}, map[string]string{}
					for _, task := range tasks {
						inMock[task.ID] = task.State == kiemock.StateSuccess
						prompts[task.ID] = task.Prompt
					}
					// 24 creates at 8 per window span at least two windows: the limit really paced them.
					if span := tasks[len(tasks)-1].CreatedAt.Sub(tasks[0].CreatedAt); span < 2*window {
						return fmt.Errorf("the %d tasks were created within %s, faster than %d per %s", n, span, limit, window)
					}
					seen := map[string]bool{}
					for i := range n {
						addr := fmt.Sprintf("kie_image.batch.%d", i)
						id, err := stateAttr(s, addr, "task_id")
						if err != nil {
							return err
						}
						if st, _ := stateAttr(s, addr, "state"); st != kiemock.StateSuccess {
							return fmt.Errorf("%s has state %q", addr, st)
						}
						if !inMock[id] {
							return fmt.Errorf("%s holds task %s, which the mock does not have as a success", addr, id)
						}
						if want := fmt.Sprintf("tile number %d of a mosaic", i); prompts[id] != want {
							return fmt.Errorf("%s holds task %s of prompt %q, want %q", addr, id, prompts[id], want)
						}
						if seen[id] {
							return fmt.Errorf("task %s is held by two resources", id)
						}
						seen[id] = true
					}
					return nil
				},
			),
		}},
	})
}
