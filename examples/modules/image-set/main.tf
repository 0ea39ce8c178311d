# A set of images in one style, written to one directory: the module that tests/ exercises with
# `terraform test` against kie-mock, and tests/plan-only/ with a mocked provider.

locals {
  extension = var.output_format == "png" ? "png" : "jpg"
}

resource "kie_flux_image" "this" {
  for_each = var.images

  prompt        = var.style == "" ? each.value.prompt : "${each.value.prompt}, ${var.style}"
  model         = var.model
  aspect_ratio  = each.value.aspect_ratio
  output_format = var.output_format
  output_path   = "${var.output_dir}/${each.key}.${local.extension}"
}
