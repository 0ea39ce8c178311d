package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func timeoutsBlock(kind, d string) string {
	return fmt.Sprintf("timeouts {\n    %s = %q\n  }", kind, d)
}

// Promise 4: a task KIE accepted is never lost. When the download of a finished image keeps failing
// beyond the create timeout, the error names the task, no partial file is left (a file the user had at
// output_path is untouched), and the next plain apply finishes that same task — no second POST — once the
// download works again. (An interrupted wait is covered by
// TestAccFluxImage_timeoutKeepsTaskAndNextApplyResumes; an explicit -replace of a finished image paying
// for a new one by step 3 of TestAccFluxImage_argumentChangeReplacesWithOnePost.)
func TestAccFault_downloadFailsAfterSuccessNextApplyResumes(t *testing.T) {
	t.Parallel()
	for _, tc := range []transientCase{
		{"503", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503}},
		{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			dir := t.TempDir()
			out := filepath.Join(dir, "resume.png")
			writeTestImage(t, out, "png", 7) // the user's own file at output_path, until the image replaces it
			before, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			trackFault(t, srv, "4 accepted task never lost", "file "+tc.name+" until past the create timeout", expectFailed, 1, dir)
			f := tc.fault
			f.Endpoint, f.Times = kiemock.EndpointFile, -1
			srv.InjectFault(f)

			// The failing step keeps retrying the download until its timeout; the next one has room to finish
			// on a loaded machine.
			cfg := faultImage(srv, nil, out, `output_format = "png"`, timeoutsBlock("create", "5s"))
			finish := faultImage(srv, nil, out, `output_format = "png"`, timeoutsBlock("create", "60s"))
			errs := newStepErrors()
			errs.expect(1, errText("Downloading the image failed", "re:Task "+taskIDPattern+" was accepted by KIE",
				"resume.png", "Run terraform apply again", "without a new generation"))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				ErrorCheck:               errs.check,
				Steps: []resource.TestStep{
					{PreConfig: errs.enter(1, nil), Config: cfg},
					{
						PreConfig: errs.enter(2, func() {
							tasks := srv.Tasks()
							if len(tasks) != 1 {
								t.Fatalf("mock has %d tasks, want 1", len(tasks))
							}
							if text := errs.text(t, 1); !strings.Contains(text, tasks[0].ID) {
								t.Fatalf("the error does not name task %s:\n%s", tasks[0].ID, text)
							}
							requireCounts(t, srv, postsAre(1), faultsAtLeast(2))
							requireFileBytes(t, out, before)
							requireDirHolds(t, dir, "resume.png")
							srv.ClearFaults()
						}),
						Config: finish,
						Check: resource.ComposeAggregateTestCheckFunc(
							resource.TestCheckResourceAttr(imageAddr, "status", "SUCCESS"),
							checkImageFile(imageAddr, out, "png", "16:9"),
							checkOnlyTask(srv, imageAddr),
							checkCounts(srv, postsAre(1), tasksAre(1)),
						),
					},
				},
			})
		})
	}
}

// Promise 5: files are never half-written. A download that never completes (truncated or short bodies
// until the update timeout) leaves no temporary file and does not touch the file already at output_path:
// here the user's own image at a new output_path, the old file having gone missing. Once the faults stop,
// the next apply writes the image there, still without a new generation.
func TestAccFault_partialDownloadNeverReplacesAFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []transientCase{
		{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
		{"wrong-length", kiemock.Fault{Kind: kiemock.FaultWrongLength}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			dir := t.TempDir()
			first, second := filepath.Join(dir, "first.png"), filepath.Join(dir, "second.png")
			trackFault(t, srv, "5 files never half-written", "file "+tc.name+" until past the update timeout", expectFailed, 1, dir)
			cfg := func(p string, update string) string {
				return faultImage(srv, nil, p, `output_format = "png"`, timeoutsBlock("update", update))
			}
			var before []byte
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{Config: cfg(first, "60s"), Check: checkImageFile(imageAddr, first, "png", "16:9")},
					{
						PreConfig: func() {
							if err := os.Remove(first); err != nil {
								t.Fatal(err)
							}
							writeTestImage(t, second, "png", 9)
							var err error
							if before, err = os.ReadFile(second); err != nil {
								t.Fatal(err)
							}
							f := tc.fault
							f.Endpoint, f.Times = kiemock.EndpointFile, -1
							srv.InjectFault(f)
						},
						Config: cfg(second, "3s"), // downloads retried until this timeout
						ExpectError: errText("Downloading the image failed", "re:task "+taskIDPattern, "second.png",
							"could not be fetched now", "rather than regenerating", "unexpected EOF"),
					},
					{
						PreConfig: func() {
							requireCounts(t, srv, postsAre(1), faultsAtLeast(2))
							requireFileBytes(t, second, before)
							requireDirHolds(t, dir, "second.png")
							srv.ClearFaults()
						},
						Config: cfg(second, "60s"),
						Check: resource.ComposeAggregateTestCheckFunc(
							checkImageFile(imageAddr, second, "png", "16:9"),
							checkOnlyTask(srv, imageAddr),
							checkCounts(srv, postsAre(1)),
						),
					},
				},
			})
		})
	}
}

// An expired result link is refreshed through download-url: a lost file comes back without a new POST.
func TestAccFault_expiredLinkIsRefreshedNotRegenerated(t *testing.T) {
	t.Parallel()
	srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
	dir := t.TempDir()
	out := filepath.Join(dir, "kept.png")
	trackFault(t, srv, "5 files never half-written", "expired result link", expectSurvived, 1, dir)
	cfg := faultImage(srv, nil, out, `output_format = "png"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkImageFile(imageAddr, out, "png", "16:9")},
			{
				PreConfig: func() {
					srv.ExpireLinks()
					if err := os.Remove(out); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageFile(imageAddr, out, "png", "16:9"),
					checkOnlyTask(srv, imageAddr),
					checkCounts(srv, postsAre(1), refreshesAtLeast(1)),
				),
			},
		},
	})
}

// An image whose link expired and which KIE will not refresh any more is gone: the error says so and how
// to pay for a new one, nothing is regenerated behind the user's back, and -replace (Taint) then works.
func TestAccFault_goneImageSaysHowToRegenerate(t *testing.T) {
	t.Parallel()
	srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
	dir := t.TempDir()
	out := filepath.Join(dir, "gone.png")
	trackFault(t, srv, "5 files never half-written", "expired link and download-url 422", expectFailed, 2, dir)
	cfg := faultImage(srv, nil, out, `output_format = "png"`)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkImageFile(imageAddr, out, "png", "16:9")},
			{
				PreConfig: func() {
					srv.ExpireLinks()
					srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointDownloadURL, Kind: kiemock.FaultStatus, Status: 422,
						Message: "url is not a KIE result", Times: -1})
					if err := os.Remove(out); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ExpectError: errText("Downloading the image failed", "re:task "+taskIDPattern,
					"the generated image can no longer be fetched", "re:-replace=", "costs a new paid generation"),
			},
			{
				// The user follows the advice: -replace is an explicit request for a new paid image.
				PreConfig: func() {
					requireCounts(t, srv, postsAre(1), refreshesAtLeast(1))
					requireDirHolds(t, dir)
				},
				Config: cfg,
				Taint:  []string{imageAddr},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkImageFile(imageAddr, out, "png", "16:9"),
					checkCounts(srv, postsAre(2), tasksAre(2)),
				),
			},
		},
	})
}
