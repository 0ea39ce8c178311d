variable "products" {
  type = map(string)
  default = {
    mug    = "a ceramic mug"
    tote   = "a canvas tote bag"
    poster = "a framed poster"
  }
}

resource "kie_flux_image" "product" {
  for_each = var.products

  prompt       = "Studio photo of ${each.value} with a minimalist mountain print, white background"
  aspect_ratio = "1:1"
  output_path  = "${path.module}/catalogue/${each.key}.jpg"
}

output "catalogue" {
  value = { for k, img in kie_flux_image.product : k => img.output_path }
}
