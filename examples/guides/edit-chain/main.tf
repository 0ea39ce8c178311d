resource "kie_flux_image" "room" {
  prompt       = "An empty Scandinavian living room, morning light, wide angle"
  aspect_ratio = "4:3"
  output_path  = "${path.module}/chain/1-room.jpg"
}

resource "kie_flux_image" "furnished" {
  prompt       = "Add a grey sofa and a wooden coffee table"
  input_image  = kie_flux_image.room.result_image_url
  aspect_ratio = "4:3"
  output_path  = "${path.module}/chain/2-furnished.jpg"
}

resource "kie_flux_image" "evening" {
  prompt       = "Make it evening with warm lamp light"
  input_image  = kie_flux_image.furnished.result_image_url
  aspect_ratio = "4:3"
  model        = "flux-kontext-max"
  output_path  = "${path.module}/chain/3-evening.jpg"
}
