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

// Promise 2: status queries and downloads are free to repeat, so their transient faults are retried until
// they pass. The apply succeeds with one paid task, the state holds that task, and the file is the
// complete image.

type transientCase struct {
	name  string
	fault kiemock.Fault // Endpoint is set by the test
}

// Go's http.Transport silently repeats a GET once when a reused connection is dropped, so drops are
// injected twice to make sure the client itself sees one.
var statusFaults = []transientCase{
	{"429", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, Times: 2}},
	{"429-retry-after", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, RetryAfter: "1"}},
	{"500", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 500, Times: 2}},
	{"502-html", kiemock.Fault{Kind: kiemock.FaultHTML, Status: 502}},
	{"503", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503}},
	{"body-code-500-http-200", kiemock.Fault{Kind: kiemock.FaultBodyCode, BodyCode: 500}},
	{"slow-beyond-request-timeout", kiemock.Fault{Kind: kiemock.FaultSlow, Delay: 3 * time.Second}},
	{"drop", kiemock.Fault{Kind: kiemock.FaultDrop, Times: 2}},
	{"malformed-json", kiemock.Fault{Kind: kiemock.FaultMalformedJSON, Times: 2}},
	{"empty-body", kiemock.Fault{Kind: kiemock.FaultEmpty, Status: 200}},
	{"oversized-body", kiemock.Fault{Kind: kiemock.FaultOversized}},
}

var downloadFaults = []transientCase{
	{"429", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429}},
	{"500", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 500, Times: 2}},
	{"502-html", kiemock.Fault{Kind: kiemock.FaultHTML, Status: 502}},
	{"503-retry-after", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503, RetryAfter: "1"}},
	{"slow-beyond-request-timeout", kiemock.Fault{Kind: kiemock.FaultSlow, Delay: 3 * time.Second}},
	{"drop", kiemock.Fault{Kind: kiemock.FaultDrop, Times: 2}},
	{"truncated-image", kiemock.Fault{Kind: kiemock.FaultTruncatedImage}},
	{"wrong-length", kiemock.Fault{Kind: kiemock.FaultWrongLength}},
	// A CDN error page or an empty answer sent with status 200 is not the image.
	{"html-page-http-200", kiemock.Fault{Kind: kiemock.FaultHTML, Status: 200}},
	{"empty-body-http-200", kiemock.Fault{Kind: kiemock.FaultEmpty, Status: 200}},
}

func TestAccFault_statusQueryFaultsAreSurvived(t *testing.T) {
	t.Parallel()
	runTransient(t, kiemock.EndpointRecordInfo, statusFaults)
}

func TestAccFault_downloadFaultsAreSurvived(t *testing.T) {
	t.Parallel()
	runTransient(t, kiemock.EndpointFile, downloadFaults)
}

func runTransient(t *testing.T, ep kiemock.Endpoint, cases []transientCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
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
					// 2s: slow faults (3s) exceed it, while a busy machine cannot time out the generate POST.
					Config: faultImage(srv, []string{`request_timeout = "2s"`}, out, `output_format = "png"`),
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestCheckResourceAttr(imageAddr, "status", "SUCCESS"),
						checkImageFile(imageAddr, out, "png", "16:9"),
						checkOnlyTask(srv, imageAddr),
						// Every injected fault was met, and none cost a second task.
						checkCounts(srv, postsAre(1), tasksAre(1), faultsAre(times)),
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
