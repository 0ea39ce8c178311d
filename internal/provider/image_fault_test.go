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

// The fault matrix of kie_flux_image, run for kie_image: the same promises, the same summary table,
// against the mock's Market API (createTask, recordInfo, its result files).

const (
	imgFaultAddr   = "kie_image.test"
	imgFaultTaskID = `[0-9a-f]{32}`
	imgFaultPrompt = "a weathervane on a barn roof"
)

// imgFaultMock is testMock with small pictures: the Market tests check files by hash, not by size.
func imgFaultMock(t *testing.T, opts kiemock.Options) *kiemock.Server {
	t.Helper()
	if opts.Latency == 0 {
		opts.Latency = 50 * time.Millisecond
	}
	opts.ImageScale = 0.25
	return testMock(t, opts)
}

// imgFaultImage is faultImage for kie_image: one nano-banana PNG of prompt.
func imgFaultImage(srv *kiemock.Server, providerExtra []string, out, prompt string, extra ...string) string {
	body := fmt.Sprintf("model = \"google/nano-banana\"\n  input = { prompt = %s, output_format = \"png\" }", hcl(prompt))
	return faultResource(srv, providerExtra, "kie_image", body, out, extra...)
}

// imgFaultResults is a kie_image of n results (Seedream v4's max_images), JPEGs.
func imgFaultResults(srv *kiemock.Server, providerExtra []string, out string, n int, extra ...string) string {
	body := fmt.Sprintf("model = \"bytedance/seedream-v4-text-to-image\"\n  input = { prompt = %s, max_images = %d }",
		hcl(imgFaultPrompt), n)
	return faultResource(srv, providerExtra, "kie_image", body, out, extra...)
}

// imgResultPaths are the n paths kie_image writes for output_path out.
func imgResultPaths(out string, n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = resultPath(out, i)
	}
	return ps
}

// checkOnlyImgTask asserts that the resource's task is the one and only task the mock created, that
// it succeeded, and that state says so.
func checkOnlyImgTask(srv *kiemock.Server, addr string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		id, err := stateAttr(s, addr, "task_id")
		if err != nil {
			return err
		}
		tasks := srv.MarketTasks()
		if len(tasks) != 1 || tasks[0].ID != id {
			ids := make([]string, len(tasks))
			for i, task := range tasks {
				ids[i] = task.ID
			}
			return fmt.Errorf("state holds task %s, the mock has Market tasks %v", id, ids)
		}
		if tasks[0].State != kiemock.StateSuccess {
			return fmt.Errorf("task %s is %s at the mock", id, tasks[0].State)
		}
		if st, _ := stateAttr(s, addr, "state"); st != kiemock.StateSuccess {
			return fmt.Errorf("%s has state %q", addr, st)
		}
		return nil
	}
}

// Promise 1: a paid createTask POST is repeated only when the API provably did not accept it.

// A create refused before acceptance (429, with or without Retry-After, and 455, also as a body code
// over HTTP 200) is retried: one paid task, and the file is that task's result.
func TestAccImageFault_createRefusedIsRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault kiemock.Fault
	}{
		{"429", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, Message: "Too many requests"}},
		{"429-retry-after", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 429, Message: "Too many requests", RetryAfter: "1"}},
		{"455", kiemock.Fault{Kind: kiemock.FaultStatus, Status: 455, Message: "Service under maintenance"}},
		{"455-in-http-200", kiemock.Fault{Kind: kiemock.FaultBodyCode, BodyCode: 455, Message: "Service under maintenance"}},
		{"429-in-http-200", kiemock.Fault{Kind: kiemock.FaultBodyCode, BodyCode: 429, Message: "Too many requests"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, kiemock.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "retried.png")
			trackFault(t, srv, "1 no blind paid retry", "createTask "+tc.name+" once", expectSurvived, 1, dir)
			f := tc.fault
			f.Endpoint = kiemock.EndpointCreateTask
			srv.InjectFault(f)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config: imgFaultImage(srv, nil, out, imgFaultPrompt),
					Check: resource.ComposeAggregateTestCheckFunc(
						checkResultFiles(imgFaultAddr, out),
						checkOnlyImgTask(srv, imgFaultAddr),
						checkCounts(srv, marketPostsAre(2), tasksAre(1), faultsAre(1)),
					),
				}},
			})
		})
	}
}

// A create whose outcome is unknown is never repeated: the error says a paid task may exist and that it
// was not retried, the mock saw one POST, and nothing is in state.
func TestAccImageFault_createUnknownOutcomeIsNotRetried(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   kiemock.Fault
		cause   string
		created int // tasks the mock created (and charged) despite the failed answer
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
			srv := imgFaultMock(t, kiemock.Options{})
			trackFault(t, srv, "1 no blind paid retry", "createTask "+tc.name, expectFailed, 1)
			f := tc.fault
			f.Endpoint = kiemock.EndpointCreateTask
			srv.InjectFault(f)
			// 2s: the slow fault exceeds it by far, while a busy machine cannot time out the other cases.
			cfg := imgFaultImage(srv, []string{`request_timeout = "2s"`}, "", imgFaultPrompt)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{
					{
						Config: cfg,
						ExpectError: errText("Generation request outcome unknown", "the createTask request is unknown",
							"a paid task may have been created", "the request was not retried", tc.cause,
							"never charged twice", "task history"),
					},
					{
						PreConfig: func() { requireCounts(t, srv, marketPostsAre(1), tasksAre(tc.created), faultsAre(1)) },
						Config:    cfg,
						PlanOnly:  true,
						// Nothing is in state: the next apply would create (not resume) the image.
						ExpectNonEmptyPlan: true,
						ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPreRefresh: []plancheck.PlanCheck{
							plancheck.ExpectResourceAction(imgFaultAddr, plancheck.ResourceActionCreate),
						}},
					},
				},
			})
			requireCounts(t, srv, marketPostsAre(1), tasksAre(tc.created))
		})
	}
}

// Promise 3: what retrying cannot fix fails at once, says what is wrong, and creates nothing.

func TestAccImageFault_createRejectedFailsFast(t *testing.T) {
	t.Parallel()
	const wrongKey = "wrong-but-long-key-9c4e1a7b3f"
	cases := []struct {
		name   string
		opts   kiemock.Options
		setup  func(*kiemock.Server)
		key    string // provider api_key when not the mock's
		prompt string // imgFaultPrompt when empty
		body   string // the resource's model and input, when not imgFaultImage's
		extra  []string
		want   []string
		posts  counter
	}{
		{
			name: "401-wrong-key", key: wrongKey,
			want:  []string{"KIE rejected the API key", "invalid or missing API key", "Check api_key or KIE_API_KEY", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name:  "402-no-credits",
			setup: func(s *kiemock.Server) { s.SetCredits(0) },
			want:  []string{"Insufficient KIE credits", "insufficient credits: top up your KIE account", "credits are insufficient", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "402-body-code-in-http-200", opts: kiemock.Options{ErrorsAsHTTP200: true},
			setup: func(s *kiemock.Server) { s.SetCredits(0) },
			want:  []string{"Insufficient KIE credits", "credits are insufficient", "(code 402, HTTP 200)", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "402-message-not-msg", opts: kiemock.Options{MessageKey: kiemock.MessageKeyMessage},
			setup: func(s *kiemock.Server) { s.SetCredits(0) },
			want:  []string{"Insufficient KIE credits", "The current credits are insufficient. Please top up.", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			// KIE's own answer to a model it does not know, pointed at model: Terraform quotes that line.
			name: "422-unknown-model",
			body: "model = \"acme/brand-new-model\"\n  input = { prompt = \"a kite\" }",
			want: []string{"KIE rejected model", `model = "acme/brand-new-model"`, "model acme/brand-new-model is not supported",
				"No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "422-unknown-model-message-key-in-http-200",
			opts: kiemock.Options{ErrorsAsHTTP200: true, MessageKey: kiemock.MessageKeyMessage},
			body: "model = \"acme/brand-new-model\"\n  input = { prompt = \"a kite\" }",
			want: []string{"KIE rejected model", "model acme/brand-new-model is not supported", "(code 422, HTTP 200)",
				"No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "422-input-field",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 422,
					Message: "input.aspect_ratio is invalid"})
			},
			want:  []string{"KIE rejected input", `input = { prompt =`, "input.aspect_ratio is invalid", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "400-flagged-prompt",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 400,
					Message: "Your prompt was flagged by the content moderation system"})
			},
			want: []string{"KIE rejected input", `input = { prompt =`, "flagged by the content moderation system",
				"No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "433-sub-key-limit", prompt: imgFaultPrompt + " " + kiemock.MarkerSubKeyLimit,
			want: []string{"KIE refused the API key's usage", "API key is over its usage limit", "sub-key", "raise the key's limit", "exceeds its limit",
				"(code 433)", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "433-sub-key-limit-in-http-200", opts: kiemock.Options{ErrorsAsHTTP200: true},
			prompt: imgFaultPrompt + " " + kiemock.MarkerSubKeyLimit,
			want:   []string{"KIE refused the API key's usage", "API key is over its usage limit", "(code 433, HTTP 200)", "No task was created"},
			posts:  marketPostsAre(1),
		},
		{
			name: "501-create-failed", prompt: imgFaultPrompt + " " + kiemock.MarkerCreateFail,
			want:  []string{"KIE could not create the task", "Create task failed", "(code 501)", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			name: "505-feature-disabled", prompt: imgFaultPrompt + " " + kiemock.MarkerFeatureDisabled,
			want:  []string{"KIE has switched this model off", "feature disabled", "switched this model or feature off", "(code 505)", "No task was created"},
			posts: marketPostsAre(1),
		},
		{
			// Retried until the create timeout, not a fixed number of times (5 for other failures): with
			// Retry-After 0.3, 4 s hold at most 14 attempts, and a loaded machine still makes more than 5.
			name: "455-until-the-create-timeout",
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 455,
					Message: "Service under maintenance", RetryAfter: "0.3", Times: -1})
			},
			extra: []string{timeoutsBlock("create", "4s")},
			want: []string{"KIE refused the generation request for now", `re:KIE\s+refused\s+the\s+request\s+\d+\s+times\s+over`,
				"service under maintenance", "No task was created and nothing was charged", "longer create timeout"},
			posts: marketPostsAre(6).between(14),
		},
		{
			// KIE's own 455 carries no Retry-After: the client backs off on its own until the timeout.
			name: "455-maintenance-marker-in-http-200", opts: kiemock.Options{ErrorsAsHTTP200: true},
			prompt: imgFaultPrompt + " " + kiemock.MarkerMaintenance,
			extra:  []string{timeoutsBlock("create", "3s")},
			want: []string{"KIE refused the generation request for now", "service under maintenance",
				"(code 455, HTTP 200)", "No task was created and nothing was charged"},
			posts: marketPostsAtLeast(2),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := imgFaultMock(t, tc.opts)
			trackFault(t, srv, "3 fail fast and clearly", "createTask "+tc.name, expectFailed, 1)
			if tc.setup != nil {
				tc.setup(srv)
			}
			var cfg string
			switch {
			case tc.body != "":
				cfg = faultResource(srv, nil, "kie_image", tc.body, "", tc.extra...)
			case tc.prompt != "":
				cfg = imgFaultImage(srv, nil, "", tc.prompt, tc.extra...)
			default:
				cfg = imgFaultImage(srv, nil, "", imgFaultPrompt, tc.extra...)
			}
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
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("failing took %s", took)
			}
			requireCounts(t, srv, tc.posts, tasksAre(0))
		})
	}
}
