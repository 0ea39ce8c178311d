package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// Two runs share one account, as two pipelines with one key do: each its own provider instance (its
// own create window, spend guard and working directory), both mixing Flux and Market images, started
// together under a limit that binds. KIE's 429s are their only sign of each other; every image of both
// runs succeeds with exactly one task, and neither run's images end up in the other's.
func TestAccImage_twoRunsShareOneAccount(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 and TF_ACC_TERRAFORM_PATH to run it") // its checks follow the runs
	}
	const n = 4 // of each resource type, per run
	const limit, window = 4, 1 * time.Second
	srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond, ImageScale: 0.1, CreateLimit: limit, CreateWindow: window,
		RetryAfterUnit: 100 * time.Millisecond})
	runs := []string{"run-a", "run-b"}
	t.Run("together", func(t *testing.T) {
		for _, run := range runs {
			t.Run(run, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				cfg := providerBlock(srv, fmt.Sprintf("create_rate_limit = %d", limit),
					fmt.Sprintf("create_rate_window = %q", window), "status_query_rate = 100") + fmt.Sprintf(`
resource "kie_flux_image" "flux" {
  count  = %[1]d
  prompt = "flux tile ${count.index} [mock:tag=%[2]s]"
}

resource "kie_image" "market" {
  count       = %[1]d
  model       = "google/nano-banana"
  input       = { prompt = "market tile ${count.index} [mock:tag=%[2]s]" }
  output_path = "%[3]s/market-${count.index}.png"
}
`, n, run, filepath.ToSlash(dir))
				resource.Test(t, resource.TestCase{
					ProtoV6ProviderFactories: testProviderFactories,
					Steps: []resource.TestStep{{
						Config: cfg,
						Check: func(s *terraform.State) error {
							tasks := map[string]string{} // task id -> tag
							for _, task := range srv.Tasks() {
								tasks[task.ID] = task.Prompt
							}
							for _, task := range srv.MarketTasks() {
								tasks[task.ID] = task.Prompt
							}
							for i := range n {
								for _, addr := range []string{fmt.Sprintf("kie_flux_image.flux.%d", i), fmt.Sprintf("kie_image.market.%d", i)} {
									id, err := stateAttr(s, addr, "task_id")
									if err != nil {
										return err
									}
									if !strings.Contains(tasks[id], "[mock:tag="+run+"]") {
										return fmt.Errorf("%s holds task %s of prompt %q, not one of this run", addr, id, tasks[id])
									}
								}
							}
							if names := dirNames(t, dir); len(names) != n {
								return fmt.Errorf("%s holds %q, want the %d results", dir, names, n)
							}
							return nil
						},
					}},
				})
			})
		}
	})
	tags := srv.TagStats()
	refused := 0
	for _, run := range runs {
		got := tags[run]
		t.Logf("%s: %d create requests, %d tasks, %d refused", run, got.GenerateRequests, got.TasksCreated, got.RateLimited)
		if got.TasksCreated != 2*n {
			t.Errorf("%s created %d tasks for %d images", run, got.TasksCreated, 2*n)
		}
		refused += got.RateLimited
	}
	requireCounts(t, srv, tasksAre(4*n),
		counter{name: "Market tasks created", get: func(s kiemock.Stats) int { return s.MarketTasksCreated }, want: 2 * n})
	if refused > 4*n { // one refusal per image would mean the runs fought over every slot
		t.Errorf("%d refused requests for %d images", refused, 4*n)
	}
}
