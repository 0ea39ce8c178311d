package provider

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 1: a paid generate POST is repeated only when the API provably did not accept it.

// A POST refused before acceptance (429, with or without Retry-After, and 455) is retried: the apply
// succeeds with exactly one paid task and the downloaded file is that task's image.
func TestAccFault_generateRefusedIsRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault kiemock.Fault
	}{
		{"429", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, Message: "Too many requests"}},
		{"429-retry-after", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, Message: "Too many requests", RetryAfter: "1"}},
		{"455", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 455, Message: "Service under maintenance"}},
		{"455-in-http-200", kiemock.Fault{Kind: kiemock.FaultBodyCode, BodyCode: 455, Message: "Service under maintenance"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			dir := t.TempDir()
			out := filepath.Join(dir, "retried.jpg")
			trackFault(t, srv, "1 no blind paid retry", "generate "+tc.name+" once", expectSurvived, 1, dir)
			f := tc.fault
			f.Endpoint = kiemock.EndpointGenerate
			srv.InjectFault(f)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: faultImage(srv, nil, out),
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestCheckResourceAttr(imageAddr, "status", "SUCCESS"),
						checkImageFile(imageAddr, out, "jpeg", "16:9"),
						checkOnlyTask(srv, imageAddr),
						checkCounts(srv, postsAre(2), tasksAre(1), faultsAre(1)),
					),
				}},
			})
		})
	}
}

// A POST whose outcome is unknown is never repeated: the error says a paid task may exist and that the
// request was not retried, the mock saw exactly one POST, and nothing is in state (the next plan creates
// the image again, which the error tells the user to check first).
func TestAccFault_generateUnknownOutcomeIsNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   kiemock.Fault
		cause   string // how the error describes the underlying fault
		created int    // tasks the mock created (and charged) despite the failed answer
	}{
		{"500", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 500}, "server error", 0},
		{"502-html", kiemock.Fault{Kind: kiemock.FaultHTML, Status: 502}, "non-JSON answer: \"502 Bad Gateway", 0},
		{"503", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 503}, "service unavailable", 0},
		{"slow-beyond-request-timeout", kiemock.Fault{Kind: kiemock.FaultSlow, Delay: 30 * time.Second},
			"no answer within the request timeout", 0},
		{"drop-after-create", kiemock.Fault{Kind: kiemock.FaultDropAfterCreate}, "EOF", 1},
		{"malformed-json", kiemock.Fault{Kind: kiemock.FaultMalformedJSON}, "unusable answer", 0},
		{"empty-body-http-200", kiemock.Fault{Kind: kiemock.FaultEmpty, Status: 200}, "the body is empty", 0},
		{"body-code-500-http-200", kiemock.Fault{Kind: kiemock.FaultBodyCode, BodyCode: 500}, "(code 500, HTTP 200)", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			trackFault(t, srv, "1 no blind paid retry", "generate "+tc.name, expectFailed, 1)
			f := tc.fault
			f.Endpoint = kiemock.EndpointGenerate
			srv.InjectFault(f)
			// 2s: the slow fault (30s, far beyond it even on a starved machine) exceeds it, while a busy
			// machine cannot time out the other cases.
			cfg := faultImage(srv, []string{`request_timeout = "2s"`}, "")
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: cfg,
						ExpectError: errText("Generation request outcome unknown", "a paid task may have been created",
							"the request was not retried", tc.cause, "never charged twice", "task history"),
					},
					{
						PreConfig: func() { requireCounts(t, srv, postsAre(1), tasksAre(tc.created), faultsAre(1)) },
						Config:    cfg,
						PlanOnly:  true,
						// Nothing is in state: the next apply would create (not resume) the image.
						ExpectNonEmptyPlan: true,
						ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(imageAddr, plancheck.ResourceActionCreate),
						}},
					},
				},
			})
			requireCounts(t, srv, postsAre(1), tasksAre(tc.created))
		})
	}
}

// Promise 3: what retrying cannot fix fails at once, says what is wrong, and creates nothing.

func TestAccFault_generateRejectedFailsFast(t *testing.T) {
	t.Parallel()
	const wrongKey = "wrong-but-long-key-9c4e1a7b3f"
	cases := []struct {
		name  string
		setup func(*kiemock.Server)
		key   string // provider api_key when not the mock's
		extra []string
		want  []string
		posts int
		// postsUpTo, when set, makes posts a minimum and bounds the POSTs from above.
		postsUpTo int
		maxTime   time.Duration
	}{
		{
			name: "401-wrong-key", key: wrongKey,
			want:  []string{"KIE rejected the API key", "invalid or missing API key", "Check api_key or KIE_API_KEY", "No task was created"},
			posts: 1, maxTime: 20 * time.Second,
		},
		{
			name:  "402-no-credits",
			setup: func(s *kiemock.Server) { s.SetCredits(0) },
			want:  []string{"Insufficient KIE credits", "insufficient credits: top up your KIE account", "No task was created"},
			posts: 1, maxTime: 20 * time.Second,
		},
		{
			name: "422-names-the-attribute",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 422,
					Message: "aspectRatio is invalid"})
			},
			extra: []string{`aspect_ratio = "21:9"`},
			// The diagnostic is attached to aspect_ratio: Terraform quotes that line of the configuration.
			want:  []string{"KIE rejected aspect_ratio", `aspect_ratio = "21:9"`, "aspectRatio is invalid", "No task was created"},
			posts: 1, maxTime: 20 * time.Second,
		},
		{
			name: "400-flagged-prompt",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 400,
					Message: "Your prompt was flagged by the content moderation system"})
			},
			want:  []string{"KIE rejected prompt", `prompt = "a weathervane on a barn roof"`, "flagged by the content moderation system", "No task was created"},
			posts: 1, maxTime: 20 * time.Second,
		},
		{
			// A refusal is retried until the create timeout, not a fixed number of times (5 for other
			// failures): with Retry-After 0.3, 4 s hold at most 14 attempts, and a loaded machine still
			// makes more than 5.
			name: "455-until-the-create-timeout",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointGenerate, Kind: kiemock.FaultStatus, Status: 455,
					Message: "Service under maintenance", RetryAfter: "0.3", Times: -1})
			},
			extra: []string{timeoutsBlock("create", "4s")},
			want: []string{"KIE refused the generation request for now", `re:KIE\s+refused\s+the\s+request\s+\d+\s+times\s+over`,
				"service under maintenance", "No task was created", "longer create timeout"},
			posts: 6, postsUpTo: 14, maxTime: 30 * time.Second,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testMock(t, kiemock.Options{Latency: 50 * time.Millisecond})
			trackFault(t, srv, "3 fail fast and clearly", "generate "+tc.name, expectFailed, 1)
			if tc.setup != nil {
				tc.setup(srv)
			}
			cfg := faultImage(srv, nil, "", tc.extra...)
			if tc.key != "" {
				cfg = strings.Replace(cfg, hcl(testAPIKey), hcl(tc.key), 1)
			}
			start := time.Now()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      cfg,
					ExpectError: errText(tc.want...),
				}},
			})
			if took := time.Since(start); took > tc.maxTime {
				t.Errorf("failing took %s, more than %s", took, tc.maxTime)
			}
			want := postsAre(tc.posts)
			if tc.postsUpTo > 0 {
				want = want.between(tc.postsUpTo)
			}
			requireCounts(t, srv, want, tasksAre(0))
		})
	}
}
