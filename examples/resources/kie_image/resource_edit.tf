# Edit another image's result with nano-banana-edit: the link goes into the model's image field.
resource "kie_image" "hero_balloons" {
  model = "google/nano-banana-edit"
  input = {
    prompt        = "Add colorful hot air balloons floating in the sky"
    image_urls    = [kie_image.hero.results[0].url]
    aspect_ratio  = "16:9"
    output_format = "png"
  }
  output_path = "${path.module}/images/hero-balloons.png"
}
