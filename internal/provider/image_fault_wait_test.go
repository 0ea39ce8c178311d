package provider

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 2 for kie_image: recordInfo queries and result downloads are free to repeat, so their
// transient faults are retried until they pass: one paid task, the state holds it, the file is whole.

func TestAccImageFault_statusQueryFaultsAreSurvived(t *testing.T) {
	t.Parallel()
	runImageTransient(t, kiemock.EndpointMarketRecordInfo, statusFaults)
}

func TestAccImageFault_downloadFaultsAreSurvived(t *testing.T) {
	t.Parallel()
	runImageTransient(t, kiemock.EndpointFile, downloadFaults)
}

func runImageTransient(t *testing.T, ep kiemock.Endpoint, cases []transientCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "survivor.png")
			f := tc.fault
			f.Endpoint = ep
			times := max(f.Times, 1)
			trackFault(t, srv, "2 transient faults survived", string(ep)+" "+tc.name, expectSurvived, 1, dir)
			srv.InjectFault(f)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					// 2s: slow faults (3s) exceed it, while a busy machine cannot time out the create.
					Config: imgFaultImage(srv, []string{`request_timeout = "2s"`}, out, imgFaultPrompt),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkResultFiles(imgFaultAddr, out),
						checkOnlyImgTask(srv, imgFaultAddr),
						checkCounts(srv, marketPostsAre(1), tasksAre(1), faultsAre(times)),
						func(*terraform.State) error {
							if left := srv.Faults(); len(left) != 0 {
								return fmt.Errorf("faults not consumed: %+v", left)
							}
							if got := dirNames(t, dir); len(got) != 1 || got[0] != "survivor.png" {
								return fmt.Errorf("output folder holds %q, want only survivor.png", got)
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

// KIE answers 422 "recordInfo is null" for a task queried right after its creation: tolerated, whether
// the mock does it for every new task (RecordInfoNullQueries, also as a body code over HTTP 200 under
// "message") or as an injected fault.
func TestAccImageFault_recordInfoNullAfterCreateIsTolerated(t *testing.T) {
	t.Parallel()
	const nulls = 3
	cases := []struct {
		name  string
		opts  kiemock.Options
		fault *kiemock.Fault
	}{
		{name: "first-3-queries", opts: kiemock.Options{RecordInfoNullQueries: nulls}},
		{name: "first-3-queries-message-key-in-http-200", opts: kiemock.Options{RecordInfoNullQueries: nulls,
			ErrorsAsHTTP200: true, MessageKey: kiemock.MessageKeyMessage}},
		{name: "fault-3-times", fault: &kiemock.Fault{Endpoint: kiemock.EndpointMarketRecordInfo,
			Kind: kiemock.FaultRecordInfoNull, Times: nulls}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, tc.opts)
			dir := t.TempDir()
			out := filepath.Join(dir, "late.png")
			trackFault(t, srv, "2 transient faults survived", "recordInfo is null "+tc.name, expectSurvived, 1, dir)
			if tc.fault != nil {
				srv.InjectFault(*tc.fault)
			}
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: imgFaultImage(srv, nil, out, imgFaultPrompt),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkResultFiles(imgFaultAddr, out),
						checkOnlyImgTask(srv, imgFaultAddr),
						checkCounts(srv, marketPostsAre(1), tasksAre(1), marketQueriesAtLeast(nulls+1)),
						func(*terraform.State) error {
							task := srv.MarketTasks()[0]
							if task.NullQueriesLeft != 0 || len(srv.Faults()) != 0 {
								return fmt.Errorf("not every null answer was met: %d left, faults %+v", task.NullQueriesLeft, srv.Faults())
							}
							return nil
						},
					),
				}},
			})
		})
	}
}

// Promise 3 for a task that fails at KIE: the error names the task, the model and KIE's fail code and
// message; state keeps the failed task; the next apply pays for exactly one new task, not a retry loop.
func TestAccImageFault_taskFailedAtKIE(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, marker, code, msg string
	}{
		{"generate-fail", kiemock.MarkerGenerateFail, "500", "generation failed (requested by [mock:generate-fail])"},
		{"flagged", kiemock.MarkerFlagged, "422", "Invalid prompt: prompt contains prohibited content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "failed.png")
			// Three tasks: the failed one, its replacement (which fails the same way), then a fixed prompt.
			trackFault(t, srv, "3 fail fast and clearly", "task ends fail at KIE: "+tc.name, expectFailed, 3, dir)
			failing := imgFaultImage(srv, nil, out, imgFaultPrompt+" "+tc.marker)
			want := func() string {
				return `re:task\s+` + imgFaultTaskID + `\s+\(model\s+google/nano-banana\)\s+ended\s+with\s+status\s+fail,\s+fail\s+code\s+` + tc.code
			}
			errs := newStepErrors()
			for _, n := range []int{1, 3} {
				errs.expect(n, errText("Image generation failed", want(), tc.msg, "No image was produced",
					"next apply starts a new generation"))
			}
			var firstID string
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				ErrorCheck:               errs.check,
				Steps: []resource.TestStep{
					{PreConfig: errs.enter(1, nil), Config: failing},
					{
						// The failed task stays in state (tainted), with KIE's code and message.
						PreConfig: errs.enter(2, func() {
							tasks := srv.MarketTasks()
							if len(tasks) != 1 || tasks[0].State != kiemock.StateFail {
								t.Fatalf("mock tasks %+v, want one failed", tasks)
							}
							firstID = tasks[0].ID
							if text := errs.text(t, 1); !strings.Contains(text, firstID) {
								t.Fatalf("the error does not name task %s:\n%s", firstID, text)
							}
						}),
						RefreshState:       true,
						ExpectNonEmptyPlan: true,
						Check: resource.ComposeAggregateTestCheckFunc(
							resource.TestCheckResourceAttrPtr(imgFaultAddr, "task_id", &firstID),
							resource.TestCheckResourceAttr(imgFaultAddr, "state", kiemock.StateFail),
							resource.TestCheckResourceAttr(imgFaultAddr, "fail_code", tc.code),
							resource.TestCheckResourceAttr(imgFaultAddr, "fail_message", tc.msg),
							resource.TestCheckResourceAttr(imgFaultAddr, "results.#", "0"),
							checkCounts(srv, marketPostsAre(1), tasksAre(1)),
						),
					},
					{
						// The same configuration again: one new task (which fails the same way), no resume of
						// the failed one and no second attempt within the apply.
						PreConfig: errs.enter(3, nil),
						Config:    failing,
					},
					{
						PreConfig: errs.enter(4, func() {
							requireCounts(t, srv, marketPostsAre(2), tasksAre(2))
							tasks := srv.MarketTasks()
							if text := errs.text(t, 3); !strings.Contains(text, tasks[1].ID) || strings.Contains(text, firstID) {
								t.Fatalf("the second error does not name the new task %s alone:\n%s", tasks[1].ID, text)
							}
							requireDirHolds(t, dir)
						}),
						Config: imgFaultImage(srv, nil, out, imgFaultPrompt),
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(imgFaultAddr, plancheck.ResourceActionReplace),
						}},
						Check: resource.ComposeAggregateTestCheckFunc(
							checkResultFiles(imgFaultAddr, out),
							checkCounts(srv, marketPostsAre(3), tasksAre(3)),
						),
					},
				},
			})
		})
	}
}

// Promise 4 for a wait cut short: a task still running at the create timeout is kept; the next plain
// apply finishes it, with no second POST.
func TestAccImageFault_waitBeyondCreateTimeoutNextApplyResumes(t *testing.T) {
	t.Parallel()
	srv := imgFaultMock(t, kiemock.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "slow.png")
	trackFault(t, srv, "4 accepted task never lost", "task runs past the create timeout", expectFailed, 1, dir)
	cfg := func(create string) string {
		return imgFaultImage(srv, nil, out, imgFaultPrompt+" [mock:latency=2500ms]", timeoutsBlock("create", create))
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg("1s"),
				ExpectError: errText("Waiting for the image did not finish", "re:Task "+imgFaultTaskID+" was accepted by KIE",
					"Run terraform apply again", "without a new generation"),
			},
			{
				PreConfig: func() {
					requireCounts(t, srv, marketPostsAre(1), tasksAre(1))
					waitMarketTaskEnded(t, srv)
					requireDirHolds(t, dir)
				},
				Config: cfg("60s"),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles(imgFaultAddr, out),
					checkOnlyImgTask(srv, imgFaultAddr),
					checkCounts(srv, marketPostsAre(1), tasksAre(1)),
				),
			},
		},
	})
}

// waitMarketTaskEnded waits until the mock's only Market task has ended.
func waitMarketTaskEnded(t *testing.T, srv *kiemock.Server) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ts := srv.MarketTasks(); len(ts) == 1 && (ts[0].State == kiemock.StateSuccess || ts[0].State == kiemock.StateFail) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the task did not end: %+v", srv.MarketTasks())
}
