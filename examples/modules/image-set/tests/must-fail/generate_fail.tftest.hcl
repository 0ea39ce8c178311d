# This file FAILS by design; run it with `terraform test -test-directory=tests/must-fail` against
# kie-mock (same environment as tests/images.tftest.hcl) and check that it fails the way it should.
#
# kie-mock ends a task whose prompt contains [mock:generate-fail] with GENERATE_FAILED. A failed
# generation is an error of the apply, and expect_failures only expects custom conditions
# (variable validations, pre- and postconditions, check blocks), so no run can expect it: the
# failure path is a test that must fail, naming the task and KIE's reason.

variables {
  output_dir = "test-output"
  images = {
    broken = { prompt = "A lighthouse [mock:generate-fail]" }
  }
}

provider "kie" {
  api_key            = "mock-key"
  poll_initial_delay = "100ms"
  poll_min_interval  = "100ms"
  poll_max_interval  = "500ms"
}

run "generation_fails" {
  assert {
    condition     = length(output.files) == 0
    error_message = "The apply succeeded, but the prompt asks kie-mock to fail the task."
  }
}
