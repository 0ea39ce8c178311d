terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

provider "kie" {
  max_new_images = 10
}

resource "kie_flux_image" "hero" {
  prompt       = "A serene mountain landscape at sunset with a lake reflecting the orange sky"
  aspect_ratio = "16:9"
  output_path  = "${path.module}/images/hero.png"
  # PNG keeps the file lossless; the default is jpeg.
  output_format = "png"
}

output "hero_task_id" {
  value = kie_flux_image.hero.task_id
}
