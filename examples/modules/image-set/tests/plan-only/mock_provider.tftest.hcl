# Plan-only tests with a mocked provider: no kie-mock, no API key, no network, no files. Needs
# Terraform 1.7+ or OpenTofu 1.8+:
#
#   terraform test -test-directory=tests/plan-only
#
# The mock never runs the provider's own code. It knows the schema, nothing else: computed values
# are random strings unless set below (output_sha256 is no hash of anything), defaults the provider
# would fill in (model, output_format) are not filled in, and no file is written. What it proves is
# the module's own logic: names, paths, prompts, counts.

mock_provider "kie" {
  mock_resource "kie_flux_image" {
    defaults = {
      task_id       = "fluxkontext_000000000000000000000000"
      status        = "SUCCESS"
      output_sha256 = "0000000000000000000000000000000000000000000000000000000000000000"
      output_size   = 1
    }
  }
}

variables {
  output_dir = "out"
  style      = "flat vector illustration"
  images = {
    hero = { prompt = "A lighthouse on a cliff at dawn", aspect_ratio = "16:9" }
    icon = { prompt = "A small red rocket" }
  }
}

run "plans_one_image_per_name" {
  command = plan

  assert {
    condition     = length(kie_flux_image.this) == 2
    error_message = "Expected one image per name."
  }
  assert {
    condition     = kie_flux_image.this["hero"].prompt == "A lighthouse on a cliff at dawn, flat vector illustration"
    error_message = "The style is not added to the prompt."
  }
  assert {
    condition     = kie_flux_image.this["icon"].aspect_ratio == "1:1"
    error_message = "An image without aspect_ratio is not square."
  }
  assert {
    condition     = kie_flux_image.this["hero"].output_path == "out/hero.png"
    error_message = "Unexpected path ${kie_flux_image.this["hero"].output_path}."
  }
}

run "no_style_keeps_the_prompt" {
  command = plan
  variables {
    style = ""
  }
  assert {
    condition     = kie_flux_image.this["icon"].prompt == "A small red rocket"
    error_message = "An empty style changed the prompt."
  }
}

run "apply_with_the_mock_writes_no_file" {
  # An apply with a mocked provider only invents the computed values.
  assert {
    condition     = output.task_ids["hero"] == "fluxkontext_000000000000000000000000"
    error_message = "The mock's default task id is not used."
  }
  assert {
    condition     = !fileexists(output.files["hero"])
    error_message = "A mocked provider wrote a file."
  }
}

run "refuses_an_unknown_output_format" {
  command = plan
  variables {
    output_format = "gif"
  }
  expect_failures = [var.output_format]
}
