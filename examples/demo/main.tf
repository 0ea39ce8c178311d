# Demo for `make demo`: generate a landscape, edit it with two model families (Flux Kontext and
# nano-banana on KIE's Market API), and make a small set of icons.
#
# The provider reads KIE_API_KEY and KIE_BASE_URL from the environment; `make demo` points them at
# the local kie-mock server unless KIE_DEMO_REAL=1 is set (then this costs real credits:
# six images, about $0.22).

terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

provider "kie" {}

# Text to image.
resource "kie_flux_image" "landscape" {
  prompt        = "A calm alpine lake at sunrise, snow-capped peaks, mist over the water, photorealistic"
  aspect_ratio  = "16:9"
  model         = "flux-kontext-pro"
  output_format = "png"
  output_path   = "${path.module}/out/landscape.png"
}

# Edit mode: the first image's result URL is the input image.
resource "kie_flux_image" "balloons" {
  prompt        = "Add colorful hot air balloons floating above the lake, keep everything else unchanged"
  input_image   = kie_flux_image.landscape.result_image_url
  model         = "flux-kontext-pro"
  output_format = "png"
  output_path   = "${path.module}/out/balloons.png"
}

# A Market model edits the same landscape: kie_image takes any of KIE's current image models, with
# KIE's input object for it.
resource "kie_image" "winter" {
  model = "google/nano-banana-edit"
  input = {
    prompt        = "Turn the scene into a snowy winter morning, keep the composition"
    image_urls    = [kie_flux_image.landscape.result_image_url]
    output_format = "png"
  }
  output_path = "${path.module}/out/winter.png"
}

locals {
  icons = {
    rocket = "A flat vector icon of a small red rocket on a white background"
    leaf   = "A flat vector icon of a green leaf on a white background"
    cloud  = "A flat vector icon of a blue cloud on a white background"
  }
}

# Several images at once: the CLI creates them in parallel.
resource "kie_flux_image" "icon" {
  for_each = local.icons

  prompt        = each.value
  aspect_ratio  = "1:1"
  output_format = "jpeg"
  output_path   = "${path.module}/out/icons/${each.key}.jpg"
}

output "files" {
  description = "Local image files written by this configuration."
  value = merge(
    {
      landscape = kie_flux_image.landscape.output_path
      balloons  = kie_flux_image.balloons.output_path
      winter    = kie_image.winter.results[0].path
    },
    { for name, img in kie_flux_image.icon : "icon_${name}" => img.output_path },
  )
}

output "task_ids" {
  description = "KIE task ids, useful when talking to KIE support or importing."
  value = merge(
    {
      landscape = kie_flux_image.landscape.task_id
      balloons  = kie_flux_image.balloons.task_id
      winter    = kie_image.winter.task_id
    },
    { for name, img in kie_flux_image.icon : "icon_${name}" => img.task_id },
  )
}

output "sha256" {
  description = "SHA-256 of each downloaded file."
  value = merge(
    {
      landscape = kie_flux_image.landscape.output_sha256
      balloons  = kie_flux_image.balloons.output_sha256
      winter    = kie_image.winter.results[0].sha256
    },
    { for name, img in kie_flux_image.icon : "icon_${name}" => img.output_sha256 },
  )
}

output "result_urls" {
  description = "Where KIE hosts the results (links expire after about 14 days)."
  value = {
    landscape = kie_flux_image.landscape.result_image_url
    balloons  = kie_flux_image.balloons.result_image_url
    winter    = kie_image.winter.results[0].url
  }
}
