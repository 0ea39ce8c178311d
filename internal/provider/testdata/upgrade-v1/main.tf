# The configuration whose state (terraform.tfstate) the provider of commit f47b7aa wrote; see
# README.md. Paths are relative so the state works in any directory.

terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

variable "kie_base_url" {
  type = string
}

provider "kie" {
  api_key            = "mock-key"
  base_url           = var.kie_base_url
  upload_base_url    = var.kie_base_url
  poll_initial_delay = "100ms"
  poll_min_interval  = "50ms"
  poll_max_interval  = "200ms"
}

# Every argument left to its default.
resource "kie_flux_image" "defaults" {
  prompt = "a lighthouse on a cliff at dawn"
}

# Every argument set.
resource "kie_flux_image" "everything" {
  prompt             = "a paper boat on a puddle, macro photo"
  model              = "flux-kontext-max"
  aspect_ratio       = "1:1"
  output_format      = "png"
  prompt_upsampling  = true
  safety_tolerance   = 4
  enable_translation = false
  watermark          = "KIE-TEST"
  upload_cn          = true
  callback_url       = "http://127.0.0.1:9/kie-callback"
  triggers = {
    batch = "2026-q1"
  }
  output_path = "${path.module}/out/everything.png"

  timeouts {
    create = "20m"
    update = "5m"
    delete = "2m"
  }
}

# An edit chain: edits the result of the image above.
resource "kie_flux_image" "edit" {
  prompt       = "add a small red flag to the boat"
  input_image  = kie_flux_image.everything.result_image_url
  aspect_ratio = "4:3"
  output_path  = "out/edit.jpeg"
}

# An edit of a local file, uploaded by the provider.
resource "kie_flux_image" "from_file" {
  prompt           = "turn the squares into tiles of stained glass"
  input_image_file = "${path.module}/input/logo.png"
  aspect_ratio     = "16:21"
  output_path      = "out/from_file.jpeg"
}

# A task started outside Terraform and imported by id.
resource "kie_flux_image" "imported" {
  prompt        = "a brass compass on an old map"
  model         = "flux-kontext-max"
  aspect_ratio  = "21:9"
  output_format = "png"
  watermark     = "ACME"
}
