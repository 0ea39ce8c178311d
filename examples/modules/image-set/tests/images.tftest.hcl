# Runs the module against kie-mock: real tasks, real files, nothing paid. Start kie-mock
# (kie-mock -addr 127.0.0.1:8787), then
#
#   export KIE_BASE_URL=http://127.0.0.1:8787 KIE_UPLOAD_BASE_URL=http://127.0.0.1:8787
#   terraform test        # or: tofu test

variables {
  output_dir = "test-output"
  style      = "flat vector illustration"
  images = {
    hero = { prompt = "A lighthouse on a cliff at dawn", aspect_ratio = "16:9" }
    icon = { prompt = "A small red rocket" }
  }
}

provider "kie" {
  # kie-mock's key, whatever KIE_API_KEY says: the real API refuses it (401) before creating
  # anything, so these tests never start a paid generation, nor send a real key anywhere.
  api_key = "mock-key"
  # kie-mock answers in well under a second; KIE's 10 to 30 seconds need the default 8s.
  poll_initial_delay = "100ms"
  poll_min_interval  = "100ms"
  poll_max_interval  = "500ms"
  # Exactly the new images one run plans: the cap counts per run (per plan, and per apply with its
  # re-plans), even where one provider process serves every run of the file (Terraform 1.14 and later).
  max_new_images = 2
}

run "generates_the_files" {
  assert {
    condition     = output.files == { hero = "test-output/hero.png", icon = "test-output/icon.png" }
    error_message = "Files are not where the module promises: ${jsonencode(output.files)}."
  }
  assert {
    condition     = alltrue([for name, file in output.files : fileexists(file)])
    error_message = "A file is missing."
  }
  assert {
    condition     = alltrue([for name, file in output.files : filesha256(file) == output.sha256[name]])
    error_message = "A file's SHA-256 differs from the one in state."
  }
  assert {
    # Every PNG starts with the same eight bytes, "iVBORw0KGgo" in base64.
    condition     = alltrue([for name, file in output.files : startswith(filebase64(file), "iVBORw0KGgo")])
    error_message = "A file is not a PNG."
  }
  assert {
    condition     = alltrue([for name, size in output.sizes : size > 0])
    error_message = "A size is not positive: ${jsonencode(output.sizes)}."
  }
  assert {
    condition     = alltrue([for name, url in output.result_urls : can(regex("^http://(127\\.0\\.0\\.1|localhost|\\[::1\\])[:/]", url))])
    error_message = "A result does not come from a server on this machine: is KIE_BASE_URL kie-mock's?"
  }
  assert {
    condition     = kie_flux_image.this["hero"].prompt == "A lighthouse on a cliff at dawn, flat vector illustration"
    error_message = "The style is not added to the prompt."
  }
}

run "same_inputs_generate_nothing" {
  # The same inputs again: the images in state are kept, no task is started. (The earlier run's
  # outputs come in through variables because OpenTofu reads run.<name> only there.)
  variables {
    earlier_task_ids = run.generates_the_files.task_ids
    earlier_sha256   = run.generates_the_files.sha256
  }
  assert {
    condition     = output.task_ids == var.earlier_task_ids
    error_message = "An unchanged image was generated again."
  }
  assert {
    condition     = output.sha256 == var.earlier_sha256
    error_message = "An unchanged image's file changed."
  }
}

run "a_new_style_generates_new_images" {
  # New prompts replace both images: new tasks, new ids. (The ids come from the run just before,
  # which has the first run's: OpenTofu leaves an older run's outputs unknown here.)
  variables {
    style            = "watercolour"
    earlier_task_ids = run.same_inputs_generate_nothing.task_ids
  }
  assert {
    condition     = kie_flux_image.this["hero"].prompt == "A lighthouse on a cliff at dawn, watercolour"
    error_message = "The new style is not in the prompt."
  }
  assert {
    condition     = keys(output.task_ids) == keys(var.earlier_task_ids)
    error_message = "The images are not the same names as before: ${jsonencode(keys(output.task_ids))}."
  }
  assert {
    condition     = alltrue([for name, id in output.task_ids : id != var.earlier_task_ids[name]])
    error_message = "A new style kept an earlier task: ${jsonencode(output.task_ids)}."
  }
  assert {
    condition     = alltrue([for name, file in output.files : filesha256(file) == output.sha256[name]])
    error_message = "A file's SHA-256 differs from the one in state."
  }
}

run "jpeg_files_get_a_jpg_extension" {
  command = plan
  variables {
    output_format = "jpeg"
  }
  assert {
    condition     = kie_flux_image.this["icon"].output_path == "test-output/icon.jpg"
    error_message = "A JPEG is not written to a .jpg file."
  }
}

run "refuses_a_name_that_is_no_file_name" {
  command = plan
  variables {
    images = {
      "Hero Image" = { prompt = "A lighthouse" }
    }
  }
  expect_failures = [var.images]
}
