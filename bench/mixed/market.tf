# The mixed-account scenario of scripts/bench.sh copies this file beside bench/provider/*.tf: besides
# the n kie_flux_image resources (Flux Kontext API), market_n kie_image resources on KIE's Market API,
# all through one provider and one key, so both APIs draw on the account's one create window.

variable "market_n" {
  type        = number
  default     = 0
  description = "Number of kie_image resources."
}

variable "market_model" {
  type    = string
  default = "google/nano-banana"
}

resource "kie_image" "img" {
  count = var.market_n

  model = var.market_model
  input = {
    prompt        = "${var.prompt_tag}benchmark market image ${count.index}: a harbour at dawn, watercolour"
    aspect_ratio  = "16:9"
    output_format = var.output_format
  }
  output_path = var.out_dir == "" ? null : "${var.out_dir}/market-${count.index}.${var.output_format == "jpeg" ? "jpg" : "png"}"
}
