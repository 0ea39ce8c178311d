# Flux 2 Pro image to image from a local file: it is uploaded for free and added to the model's
# image field (input_urls). Editing the file generates a new image.
resource "kie_image" "logo_winter" {
  model = "flux-2/pro-image-to-image"
  input = {
    prompt       = "Cover the logo in fresh snow, keeping its shapes and colors"
    aspect_ratio = "1:1"
    resolution   = "1K"
  }
  input_image_files = ["${path.module}/assets/logo.png"]
  output_path       = "${path.module}/images/logo-winter.png"

  # Bump the version to pay for a fresh take with the same arguments.
  triggers = {
    version = "1"
  }
}
