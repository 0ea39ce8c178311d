# Text to image with nano-banana, downloaded next to the configuration.
resource "kie_image" "hero" {
  model = "google/nano-banana"
  input = {
    prompt        = "A serene mountain landscape at sunset with a lake reflecting the orange sky"
    aspect_ratio  = "16:9"
    output_format = "png"
  }
  output_path = "${path.module}/images/hero.png"

  timeouts {
    create = "20m"
  }
}
