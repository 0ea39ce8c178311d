package provider

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 4 when the create timeout ends while the paid create is on the wire: KIE's late answer is
// still read, so the task it accepted is kept in state (not an unknown outcome), and the next apply
// finishes that task without a second POST. Both resources.
func TestAccFault_createTimeoutDuringCreateKeepsTheTask(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		endpoint  kiemock.Endpoint
		cfg       func(srv *kiemock.Server, out, create string) string
		addr      string
		taskID    string
		posts     func(int) counter
		checkTask func(*kiemock.Server, string) resource.TestCheckFunc
	}{
		{
			name: "kie_flux_image", endpoint: kiemock.EndpointGenerate, addr: imageAddr, taskID: taskIDPattern,
			cfg: func(srv *kiemock.Server, out, create string) string {
				return faultImage(srv, nil, out, `output_format = "png"`, timeoutsBlock("create", create))
			},
			posts: postsAre,
			checkTask: func(srv *kiemock.Server, addr string) resource.TestCheckFunc {
				return resource.TestCheckFunc(checkOnlyTask(srv, addr))
			},
		},
		{
			name: "kie_image", endpoint: kiemock.EndpointCreateTask, addr: imgFaultAddr, taskID: imgFaultTaskID,
			cfg: func(srv *kiemock.Server, out, create string) string {
				return imgFaultImage(srv, nil, out, imgFaultPrompt, timeoutsBlock("create", create))
			},
			posts:     marketPostsAre,
			checkTask: checkOnlyImgTask,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			dir := t.TempDir()
			out := filepath.Join(dir, "late.png")
			trackFault(t, srv, "4 accepted task never lost", string(tc.endpoint)+" answered after the create timeout", expectFailed, 1, dir)
			// The create is answered 2 s after it was sent, 1 s past the create timeout.
			srv.InjectFault(kiemock.Fault{Endpoint: tc.endpoint, Kind: kiemock.FaultSlow, Delay: 2 * time.Second})
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: tc.cfg(srv, out, "1s"),
						ExpectError: errText("Waiting for the image did not finish", "re:"+tc.taskID,
							"Run terraform apply again", "without a new generation"),
					},
					{
						PreConfig: func() { requireCounts(t, srv, tc.posts(1), tasksAre(1)) },
						Config:    tc.cfg(srv, out, "60s"),
						Check: resource.ComposeAggregateTestCheckFunc(
							tc.checkTask(srv, tc.addr),
							checkCounts(srv, tc.posts(1), tasksAre(1)),
						),
					},
				},
			})
		})
	}
}
