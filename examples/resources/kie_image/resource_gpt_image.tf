# GPT Image 1.5 text to image; its page requires aspect_ratio (1:1, 2:3 or 3:2) and quality.
resource "kie_image" "poster" {
  model = "gpt-image/1.5-text-to-image"
  input = {
    prompt       = "A retro travel poster of a mountain railway, with the words \"Summit Line\" in bold letters"
    aspect_ratio = "2:3"
    quality      = "high"
  }
  output_path = "${path.module}/images/poster.png"
}
