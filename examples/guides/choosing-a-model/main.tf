# The JSON example of google/nano-banana-edit's page, written as HCL.
resource "kie_image" "night" {
  model = "google/nano-banana-edit"
  input = {
    prompt        = "Turn the sky into a starry night"
    image_urls    = ["https://example.com/photos/street.png"]
    aspect_ratio  = "auto"
    output_format = "jpeg"
  }
  output_path = "${path.module}/images/night.jpg"
}

# num_images is a number that KIE takes as a string. image_url holds one link, not a list:
# the uploaded file becomes its value.
resource "kie_image" "jacket" {
  model = "qwen/image-edit"
  input = {
    prompt        = "Make the jacket red"
    num_images    = "2"
    output_format = "png"
  }
  input_image_files = ["${path.module}/photos/jacket.jpg"]
  output_path       = "${path.module}/images/jacket.png" # and jacket-2.png
}

# A utility takes no prompt: upscale the edit four times.
resource "kie_image" "night_large" {
  model = "topaz/image-upscale"
  input = {
    image_url      = kie_image.night.results[0].url
    upscale_factor = "4"
  }
  output_path = "${path.module}/images/night-4x.jpg"
}
