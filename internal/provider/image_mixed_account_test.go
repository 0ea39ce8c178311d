package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// One account, both APIs: KIE's create limit counts Flux generate and Market createTask together, and
// so does the provider's create window. Six kie_flux_image and six kie_image in one apply, under a
// limit small enough to bind, all succeed with exactly one task each and no 429 at all.
func TestAccImage_mixedAccountSharesOneCreateWindow(t *testing.T) {
	t.Parallel()
	const n = 6
	const limit, window = 4, 1 * time.Second
	srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond, ImageScale: 0.1, CreateLimit: limit, CreateWindow: window,
		RetryAfterUnit: 100 * time.Millisecond})
	dir := t.TempDir()
	trackFault(t, srv, "8 concurrency", fmt.Sprintf("%d Flux + %d Market images, create limit %d/%s", n, n, limit, window),
		expectSurvived, 2*n, dir)
	cfg := providerBlock(srv, fmt.Sprintf("create_rate_limit = %d", limit), fmt.Sprintf("create_rate_window = %q", window),
		"status_query_rate = 100") + fmt.Sprintf(`
resource "kie_flux_image" "flux" {
  count  = %[1]d
  prompt = "flux tile ${count.index}"
}

resource "kie_image" "market" {
  count       = %[1]d
  model       = "google/nano-banana"
  input       = { prompt = "market tile ${count.index}" }
  output_path = "%[2]s/market-${count.index}.png"
}
`, n, filepath.ToSlash(dir))
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: resource.ComposeAggregateTestCheckFunc(
				checkCounts(srv, append(marketCreatesAre(n), postsAre(n), tasksAre(2*n),
					counter{name: "429s", get: func(s kiemock.Stats) int { return s.RateLimited }, want: 0})...),
				func(s *terraform.State) error {
					created := map[string]time.Time{}
					succeeded := map[string]bool{}
					for _, task := range srv.Tasks() {
						created[task.ID], succeeded[task.ID] = task.CreatedAt, task.SuccessFlag == 1
					}
					for _, task := range srv.MarketTasks() {
						created[task.ID], succeeded[task.ID] = task.CreatedAt, task.State == kiemock.StateSuccess
					}
					var first, last time.Time
					seen := map[string]string{}
					for i := range n {
						for _, r := range []struct{ addr, attr, ok string }{
							{fmt.Sprintf("kie_flux_image.flux.%d", i), "status", "SUCCESS"},
							{fmt.Sprintf("kie_image.market.%d", i), "state", "success"},
						} {
							id, err := stateAttr(s, r.addr, "task_id")
							if err != nil {
								return err
							}
							if got, _ := stateAttr(s, r.addr, r.attr); got != r.ok {
								return fmt.Errorf("%s has %s %q", r.addr, r.attr, got)
							}
							if !succeeded[id] {
								return fmt.Errorf("%s holds task %s, which the mock does not have as a success", r.addr, id)
							}
							if other, dup := seen[id]; dup {
								return fmt.Errorf("task %s is held by %s and %s", id, other, r.addr)
							}
							seen[id] = r.addr
							if at := created[id]; first.IsZero() || at.Before(first) {
								first = at
							}
							if at := created[id]; at.After(last) {
								last = at
							}
						}
					}
					// 12 creates at 4 per window span at least two windows: the shared limit really paced them.
					if span := last.Sub(first); span < 2*window {
						return fmt.Errorf("the %d tasks were created within %s, faster than %d per %s", 2*n, span, limit, window)
					}
					for i := range n {
						if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("market-%d.png", i))); err != nil {
							return err
						}
					}
					if names := dirNames(t, dir); len(names) != n {
						return fmt.Errorf("%s holds %q, want the %d results and nothing else", dir, names, n)
					}
					return nil
				},
			),
		}},
	})
}
