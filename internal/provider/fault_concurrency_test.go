package provider

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 8: thirty images under Terraform's default parallelism share one client. The mock enforces a
// sliding create limit like KIE's (scaled down to 10 per 2 s, and told to the provider with
// create_rate_limit and create_rate_window, so that the test is short and the limit certainly binds) and
// rate-limits some status queries. Every image still succeeds with exactly one POST each: the client's
// own create limit paces the POSTs so that none earns a 429, and the 429s on status queries are waited
// out. The status query budget is raised so that polling does not pace the creates instead. Run with
// -race, this also checks the shared client for data races.
func TestAccFault_thirtyParallelImagesShareOneClient(t *testing.T) {
	t.Parallel()
	const n = 30
	const injected = 8
	const limit, window = 10, 2 * time.Second
	srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond, CreateLimit: limit, CreateWindow: window})
	trackFault(t, srv, "8 concurrency", fmt.Sprintf("%d images, record-info 429 x%d, create limit %d/%s", n, injected, limit, window),
		expectSurvived, n)
	srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointRecordInfo, Kind: kiemock.FaultStatus, Status: 429,
		Message: "Too many requests", Times: injected})
	cfg := providerBlock(srv, fmt.Sprintf("create_rate_limit = %d", limit), fmt.Sprintf("create_rate_window = %q", window),
		"status_query_rate = 100") + fmt.Sprintf(`
resource "kie_flux_image" "batch" {
  count  = %d
  prompt = "tile number ${count.index} of a mosaic"
}
`, n)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkCounts(srv, postsAre(n), tasksAre(n), faultsAre(injected),
					counter{name: "generate 429s", get: func(s kiemock.Stats) int { return s.RateLimited }, want: 0}),
				func(s *terraform.State) error {
					inMock := map[string]bool{}
					tasks := srv.Tasks()
					for _, task := range tasks {
						inMock[task.ID] = task.SuccessFlag == 1
					}
					// 30 creates at 10 per window span at least two windows: the limit really paced them.
					if span := tasks[len(tasks)-1].CreatedAt.Sub(tasks[0].CreatedAt); span < 2*window {
						return fmt.Errorf("the %d tasks were created within %s, faster than %d per %s", n, span, limit, window)
					}
					seen := map[string]bool{}
					for i := range n {
						addr := fmt.Sprintf("kie_flux_image.batch.%d", i)
						id, err := stateAttr(s, addr, "task_id")
						if err != nil {
							return err
						}
						if status, _ := stateAttr(s, addr, "status"); status != "SUCCESS" {
							return fmt.Errorf("%s has status %q", addr, status)
						}
						if !inMock[id] {
							return fmt.Errorf("%s holds task %s, which the mock does not have as a success", addr, id)
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
