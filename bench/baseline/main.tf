# Baseline for the benchmark: what users write today without a KIE provider. Each image is a
# terraform_data resource whose local-exec provisioner runs generate.sh (POST, poll, download).
# KIE_API_KEY, KIE_BASE_URL, POLL_INTERVAL and RETRY_SLEEP come from the environment of terraform.

variable "n" {
  type        = number
  description = "Number of images."
}

variable "out_dir" {
  type        = string
  description = "Folder the images are downloaded to."
}

resource "terraform_data" "img" {
  count = var.n

  input = {
    prompt = "benchmark image ${count.index}: a lighthouse on a cliff at dusk, oil painting"
    output = "${var.out_dir}/img-${count.index}.png"
  }

  provisioner "local-exec" {
    command = "${path.module}/generate.sh"
    environment = {
      PROMPT = self.input.prompt
      OUTPUT = self.input.output
    }
  }
}
