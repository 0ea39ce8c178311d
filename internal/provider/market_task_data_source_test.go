package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

func TestAccMarketTaskDataSource(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	// Created outside Terraform, as a script or KIE's playground would.
	multi := startExternalMarketTask(t, srv, `{"model":"bytedance/seedream-v4-text-to-image",`+
		`"callBackUrl":"http://127.0.0.1:9/hook",`+
		`"input":{"prompt":"three <mugs> & a teapot","max_images":3,"seed":9007199254740993,"image_size":"landscape_4_3"}}`)
	failed := startExternalMarketTask(t, srv, `{"model":"google/nano-banana",`+
		`"input":{"prompt":"a cabin [mock:echo-auth-fail]","aspect_ratio":"16:9"}}`)
	running := postMarketTask(t, srv, `{"model":"google/nano-banana","input":{"prompt":"slow [mock:latency=10m]"}}`)

	snap, _ := srv.MarketTask(multi)
	if len(snap.ResultURLs) != 3 || snap.Cost <= 0 {
		t.Fatalf("mock task %s: %d results, cost %v; want 3 and a price", multi, len(snap.ResultURLs), snap.Cost)
	}
	created := srv.Stats().MarketTasksCreated
	createRequests := srv.Stats().MarketCreateRequests
	noNewTask := resource.ComposeAggregateTestCheckFunc(
		checkStat(srv, "MarketTasksCreated", func(s kiemock.Stats) int { return s.MarketTasksCreated }, created),
		checkStat(srv, "MarketCreateRequests", func(s kiemock.Stats) int { return s.MarketCreateRequests }, createRequests),
	)

	const ok, bad, run = "data.kie_market_task.ok", "data.kie_market_task.failed", "data.kie_market_task.running"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: imageConfig(srv, `
data "kie_market_task" "ok" {
  task_id = "`+multi+`"
}
data "kie_market_task" "failed" {
  task_id = "`+failed+`"
}
data "kie_market_task" "running" {
  task_id = "`+running+`"
}
output "seed" {
  value = jsondecode(data.kie_market_task.ok.input_json).seed
}
`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(ok, "id", multi),
					resource.TestCheckResourceAttr(ok, "model", "bytedance/seedream-v4-text-to-image"),
					resource.TestCheckResourceAttr(ok, "state", "success"),
					// Sorted keys, the prompt's <, > and & as written, the seed's digits kept beyond 2^53.
					resource.TestCheckResourceAttr(ok, "input_json",
						`{"image_size":"landscape_4_3","max_images":3,"prompt":"three <mugs> & a teapot","seed":9007199254740993}`),
					resource.TestCheckOutput("seed", "9007199254740993"),
					resource.TestCheckResourceAttr(ok, "callback_url", "http://127.0.0.1:9/hook"),
					resource.TestCheckResourceAttr(ok, "result_urls.#", "3"),
					resource.TestCheckResourceAttr(ok, "result_urls.0", snap.ResultURLs[0]),
					resource.TestCheckResourceAttr(ok, "result_urls.1", snap.ResultURLs[1]),
					resource.TestCheckResourceAttr(ok, "result_urls.2", snap.ResultURLs[2]),
					resource.TestMatchResourceAttr(ok, "result_urls.2", regexp.MustCompile(`/files/`+multi+`-3\.`)),
					resource.TestCheckResourceAttr(ok, "credits_consumed", strconv.FormatFloat(snap.Cost, 'f', -1, 64)),
					resource.TestCheckNoResourceAttr(ok, "fail_code"),
					resource.TestCheckNoResourceAttr(ok, "fail_message"),
					checkMarketTimes(ok, snap),

					resource.TestCheckResourceAttr(bad, "model", "google/nano-banana"),
					resource.TestCheckResourceAttr(bad, "state", "fail"),
					resource.TestCheckResourceAttr(bad, "fail_code", "500"),
					// The mock echoes the request's Authorization header into failMsg; the key must not reach state.
					resource.TestMatchResourceAttr(bad, "fail_message", regexp.MustCompile(`Authorization: Bearer \[REDACTED\]`)),
					checkAttrLacks(bad, "fail_message", testAPIKey),
					resource.TestCheckResourceAttr(bad, "result_urls.#", "0"),
					resource.TestCheckResourceAttr(bad, "credits_consumed", "0"),
					resource.TestCheckResourceAttrSet(bad, "completed_at"),
					resource.TestCheckResourceAttrSet(bad, "cost_time"),
					resource.TestCheckNoResourceAttr(bad, "callback_url"),
					resource.TestCheckResourceAttr(bad, "input_json", `{"aspect_ratio":"16:9","prompt":"a cabin [mock:echo-auth-fail]"}`),

					resource.TestMatchResourceAttr(run, "state", regexp.MustCompile(`^(waiting|queuing|generating)$`)),
					resource.TestCheckResourceAttr(run, "result_urls.#", "0"),
					resource.TestCheckResourceAttrSet(run, "created_at"),
					resource.TestCheckNoResourceAttr(run, "completed_at"),
					resource.TestCheckNoResourceAttr(run, "cost_time"),
					resource.TestCheckNoResourceAttr(run, "fail_code"),

					noNewTask,
				),
			},
			{
				Config:      imageConfig(srv, `data "kie_market_task" "nope" { task_id = "0123456789abcdef0123456789abcdef" }`),
				ExpectError: regexp.MustCompile(`(?s)Task not found.*0123456789abcdef0123456789abcdef`),
			},
			{
				// A Flux Kontext id is unknown to the Market API: the error points at the other data source.
				Config:      imageConfig(srv, `data "kie_market_task" "flux" { task_id = "`+startExternalTask(t, srv, `{"prompt":"a fox"}`)+`" }`),
				ExpectError: regexp.MustCompile(`(?s)Task not found.*kie_flux_task`),
			},
			{
				// Reading again costs status queries only.
				Config: imageConfig(srv, `data "kie_market_task" "ok" { task_id = "`+multi+`" }`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(ok, "state", "success"),
					noNewTask,
					func(*terraform.State) error {
						if s := srv.Stats(); s.MarketStatusQueries == 0 {
							return fmt.Errorf("the data source made no Market status query")
						}
						return nil
					},
				),
			},
		},
	})
}

// checkMarketTimes asserts created_at, completed_at and cost_time against the mock's record of the task.
func checkMarketTimes(addr string, snap kiemock.MarketTaskSnapshot) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		for attr, want := range map[string]time.Time{"created_at": snap.CreatedAt, "completed_at": snap.CompletedAt} {
			v, err := stateAttr(s, addr, attr)
			if err != nil {
				return err
			}
			got, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fmt.Errorf("%s %q is not RFC 3339: %w", attr, v, err)
			}
			if d := got.Sub(want.Truncate(time.Second)); d < 0 || d > time.Second {
				return fmt.Errorf("%s is %s, the mock says %s", attr, got, want)
			}
		}
		v, err := stateAttr(s, addr, "cost_time")
		if err != nil {
			return err
		}
		if want := snap.CompletedAt.Sub(snap.CreatedAt).Milliseconds(); v != strconv.FormatInt(want, 10) {
			return fmt.Errorf("cost_time %s, want %d (milliseconds, as recordInfo reports it)", v, want)
		}
		return nil
	}
}

// checkAttrLacks asserts that an attribute does not contain s.
func checkAttrLacks(addr, attr, s string) resource.TestCheckFunc {
	return func(st *terraform.State) error {
		v, err := stateAttr(st, addr, attr)
		if err != nil {
			return err
		}
		if strings.Contains(v, s) {
			return fmt.Errorf("%s.%s contains %q: %s", addr, attr, s, v)
		}
		return nil
	}
}

// postMarketTask starts a Market task straight through the mock's HTTP API, without waiting for it.
func postMarketTask(t *testing.T, srv *kiemock.Server, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/api/v1/jobs/createTask", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Data struct {
			TaskID string `json:"taskId"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Code != 200 || env.Data.TaskID == "" {
		t.Fatalf("external createTask failed: code %d %q, err %v", env.Code, env.Msg, err)
	}
	return env.Data.TaskID
}

// startExternalMarketTask creates a Market task through the mock's HTTP API and waits until it ended.
func startExternalMarketTask(t *testing.T, srv *kiemock.Server, body string) string {
	t.Helper()
	id := postMarketTask(t, srv, body)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if snap, ok := srv.MarketTask(id); ok && (snap.State == kiemock.StateSuccess || snap.State == kiemock.StateFail) {
			return id
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("market task %s did not end", id)
	return ""
}
