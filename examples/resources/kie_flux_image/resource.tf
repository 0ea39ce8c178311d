# Text to image, downloaded next to the configuration.
resource "kie_flux_image" "hero" {
  prompt        = "A serene mountain landscape at sunset with a lake reflecting the orange sky"
  aspect_ratio  = "16:9"
  model         = "flux-kontext-pro"
  output_format = "png"
  output_path   = "${path.module}/images/hero.png"

  timeouts {
    create = "20m"
  }
}

# Edit the result of another image: describe what to change.
resource "kie_flux_image" "hero_balloons" {
  prompt           = "Add colorful hot air balloons floating in the sky"
  input_image      = kie_flux_image.hero.result_image_url
  aspect_ratio     = "16:9"
  model            = "flux-kontext-max"
  safety_tolerance = 2
  output_path      = "${path.module}/images/hero-balloons.png"
  output_format    = "png"
}

# Edit a file from the repository; editing the file generates a new image.
resource "kie_flux_image" "logo_winter" {
  prompt           = "Cover the logo in fresh snow"
  input_image_file = "${path.module}/assets/logo.png"
  aspect_ratio     = "1:1"
  output_path      = "${path.module}/images/logo-winter.jpg"

  # Bump the version to pay for a fresh take with the same arguments.
  triggers = {
    version = "1"
  }
}
