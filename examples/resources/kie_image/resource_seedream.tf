# Several images from one task: Seedream 4.0 makes up to 6 (max_images). The first goes to
# output_path, the others beside it: mug.png, mug-2.png, mug-3.png.
resource "kie_image" "mug" {
  model = "bytedance/seedream-v4-text-to-image"
  input = {
    prompt           = "Studio photo of a ceramic mug with a minimalist mountain print, white background"
    image_size       = "square_hd"
    image_resolution = "2K"
    max_images       = 3
  }
  output_path = "${path.module}/catalogue/mug.png"
}

output "mug_files" {
  value = kie_image.mug.results[*].path
}
