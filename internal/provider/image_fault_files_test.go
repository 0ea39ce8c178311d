package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 4 for kie_image: a result download that keeps failing past the create timeout leaves the
// task in state and the ledger; the next plain apply finishes that task, with no second POST. The
// file the user had at output_path is untouched until the result replaces it.
func TestAccImageFault_downloadFailsAfterSuccessNextApplyResumes(t *testing.T) {
	t.Parallel()
	for _, tc := range []transientCase{
		{"503", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503}},
		{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "resume.png")
			writeTestImage(t, out, "png", 7)
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
			cfg := imgFaultImage(srv, nil, out, imgFaultPrompt, timeoutsBlock("create", "5s"))
			finish := imgFaultImage(srv, nil, out, imgFaultPrompt, timeoutsBlock("create", "60s"))
			errs := newStepErrors()
			errs.expect(1, errText("Downloading the image failed", "re:Task "+imgFaultTaskID+" was accepted by KIE",
				"resume.png", "result 1", "Run terraform apply again", "without a new generation"))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				ErrorCheck:               errs.check,
				Steps: []resource.TestStep{
					{PreConfig: errs.enter(1, nil), Config: cfg},
					{
						PreConfig: errs.enter(2, func() {
							requireErrorNamesOnlyTask(t, srv, errs.text(t, 1))
							requireCounts(t, srv, marketPostsAre(1), faultsAtLeast(2))
							requireFileBytes(t, out, before)
							requireDirHolds(t, dir, "resume.png")
							srv.ClearFaults()
						}),
						Config: finish,
						Check: resource.ComposeAggregateTestCheckFunc(
							checkResultFiles(imgFaultAddr, out),
							checkOnlyImgTask(srv, imgFaultAddr),
							checkCounts(srv, marketPostsAre(1), tasksAre(1)),
						),
					},
				},
			})
		})
	}
}

// One task, three results, and the second keeps failing: the first is on disk, the error names the
// second's path, no temporary file is left; the next apply writes all three from the same task.
func TestAccImageFault_secondOfSeveralResultsFails(t *testing.T) {
	t.Parallel()
	for _, tc := range []transientCase{
		{"503", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503}},
		{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "many.jpg")
			paths := imgResultPaths(out, 3)
			trackFault(t, srv, "4 accepted task never lost", "file "+tc.name+" on result 2 of 3 until past the create timeout",
				expectFailed, 1, dir)
			// Results download one after the other: a harmless fault lets the first through unchanged.
			srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultSlow, Delay: 1})
			f := tc.fault
			f.Endpoint, f.Times = kiemock.EndpointFile, -1
			srv.InjectFault(f)

			// The failing step keeps retrying the download until its timeout; the next one has room to finish
			// on a loaded machine.
			cfg := imgFaultResults(srv, nil, out, 3, timeoutsBlock("create", "5s"))
			finish := imgFaultResults(srv, nil, out, 3, timeoutsBlock("create", "60s"))
			errs := newStepErrors()
			errs.expect(1, errText("Downloading the image failed", "re:Task "+imgFaultTaskID+" was accepted by KIE",
				"many-2.jpg", "result 2", "Run terraform apply again", "without a new generation"))
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				ErrorCheck:               errs.check,
				Steps: []resource.TestStep{
					{PreConfig: errs.enter(1, nil), Config: cfg},
					{
						PreConfig: errs.enter(2, func() {
							requireErrorNamesOnlyTask(t, srv, errs.text(t, 1))
							requireCounts(t, srv, marketPostsAre(1), faultsAtLeast(3))
							requireDirHolds(t, dir, "many.jpg")
							srv.ClearFaults()
						}),
						Config: finish,
						Check: resource.ComposeAggregateTestCheckFunc(
							checkResultFiles(imgFaultAddr, paths...),
							checkOnlyImgTask(srv, imgFaultAddr),
							checkCounts(srv, marketPostsAre(1), tasksAre(1)),
						),
					},
					{
						PreConfig: func() { requireDirHolds(t, dir, "many.jpg", "many-2.jpg", "many-3.jpg") },
						Config:    finish,
						PlanOnly:  true,
					},
				},
			})
		})
	}
}

// requireErrorNamesOnlyTask fails the test unless the mock has one Market task and text names it.
func requireErrorNamesOnlyTask(t *testing.T, srv *kiemock.Server, text string) {
	t.Helper()
	tasks := srv.MarketTasks()
	if len(tasks) != 1 {
		t.Fatalf("mock has %d Market tasks, want 1", len(tasks))
	}
	if !strings.Contains(text, tasks[0].ID) {
		t.Fatalf("the error does not name task %s:\n%s", tasks[0].ID, text)
	}
}

// Promise 5 for kie_image: a download that never completes leaves no temporary file and does not touch
// the user's file at the new output_path; once the faults stop, the next apply writes the result there,
// still from the same task.
func TestAccImageFault_partialDownloadNeverReplacesAFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []transientCase{
		{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
		{"wrong-length", kiemock.Fault{Kind: kiemock.FaultWrongLength}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			first, second := filepath.Join(dir, "first.png"), filepath.Join(dir, "second.png")
			trackFault(t, srv, "5 files never half-written", "file "+tc.name+" until past the update timeout", expectFailed, 1, dir)
			cfg := func(p string, update string) string {
				return imgFaultImage(srv, nil, p, imgFaultPrompt, timeoutsBlock("update", update))
			}
			var before []byte
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{Config: cfg(first, "60s"), Check: checkResultFiles(imgFaultAddr, first)},
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
						ExpectError: errText("Restoring the result files failed", "re:task "+imgFaultTaskID, "second.png",
							"could not be fetched now", "rather than regenerating", "unexpected EOF"),
					},
					{
						PreConfig: func() {
							requireCounts(t, srv, marketPostsAre(1), faultsAtLeast(2))
							requireFileBytes(t, second, before)
							requireDirHolds(t, dir, "second.png")
							srv.ClearFaults()
						},
						Config: cfg(second, "60s"),
						Check: resource.ComposeAggregateTestCheckFunc(
							checkResultFiles(imgFaultAddr, second),
							checkOnlyImgTask(srv, imgFaultAddr),
							checkCounts(srv, marketPostsAre(1)),
						),
					},
				},
			})
		})
	}
}

// Expired result links are refreshed through download-url, at create and when lost files are restored:
// every result comes back without a new POST.
func TestAccImageFault_expiredLinksAreRefreshedNotRegenerated(t *testing.T) {
	t.Parallel()
	t.Run("at-create", func(t *testing.T) {
		t.Parallel()
		srv := imgFaultMock(t, kiemock.Options{})
		dir := t.TempDir()
		out := filepath.Join(dir, "fresh.jpg")
		trackFault(t, srv, "5 files never half-written", "expired result link at create", expectSurvived, 1, dir)
		srv.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultExpiredLink})
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories,
			Steps: []resource.TestStep{{
				Config: imgFaultResults(srv, nil, out, 2),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles(imgFaultAddr, imgResultPaths(out, 2)...),
					checkOnlyImgTask(srv, imgFaultAddr),
					checkCounts(srv, marketPostsAre(1), tasksAre(1), faultsAre(1), refreshesAtLeast(1)),
				),
			}},
		})
	})
	t.Run("restoring-lost-files", func(t *testing.T) {
		t.Parallel()
		srv := imgFaultMock(t, kiemock.Options{})
		dir := t.TempDir()
		out := filepath.Join(dir, "kept.jpg")
		paths := imgResultPaths(out, 2)
		trackFault(t, srv, "5 files never half-written", "expired result links, files lost", expectSurvived, 1, dir)
		cfg := imgFaultResults(srv, nil, out, 2)
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviderFactories,
			Steps: []resource.TestStep{
				{Config: cfg, Check: checkResultFiles(imgFaultAddr, paths...)},
				{
					PreConfig: func() {
						srv.ExpireLinks()
						for _, p := range paths {
							if err := os.Remove(p); err != nil {
								t.Fatal(err)
							}
						}
					},
					Config: cfg,
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(imgFaultAddr, plancheck.ResourceActionUpdate),
					}},
					Check: resource.ComposeAggregateTestCheckFunc(
						checkResultFiles(imgFaultAddr, paths...),
						checkOnlyImgTask(srv, imgFaultAddr),
						checkCounts(srv, marketPostsAre(1), refreshesAtLeast(2)),
					),
				},
			},
		})
	})
}

// A result whose link expired and which KIE will not refresh is gone: the error says so and how to pay
// for a new one, nothing is regenerated behind the user's back, and -replace (Taint) then works.
func TestAccImageFault_goneImageSaysHowToRegenerate(t *testing.T) {
	t.Parallel()
	srv := imgFaultMock(t, kiemock.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "gone.png")
	trackFault(t, srv, "5 files never half-written", "expired link and download-url 422", expectFailed, 2, dir)
	cfg := imgFaultImage(srv, nil, out, imgFaultPrompt)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg, Check: checkResultFiles(imgFaultAddr, out)},
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
				ExpectError: errText("Restoring the result files failed", "re:task "+imgFaultTaskID,
					"the generated image can no longer be fetched", "re:-replace=", "costs a new paid generation"),
			},
			{
				PreConfig: func() {
					requireCounts(t, srv, marketPostsAre(1), refreshesAtLeast(1))
					requireDirHolds(t, dir)
				},
				Config: cfg,
				Taint:  []string{imgFaultAddr},
				Check: resource.ComposeAggregateTestCheckFunc(
					checkResultFiles(imgFaultAddr, out),
					checkCounts(srv, marketPostsAre(2), tasksAre(2)),
				),
			},
		},
	})
}
