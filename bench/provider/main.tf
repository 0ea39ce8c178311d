# The benchmark's provider configuration: N kie_flux_image resources, each downloaded to out_dir.
# scripts/bench.sh adds dev_override.tf (the locally built version) and, when the provider has a
# create-window option, provider_override.tf; the API key comes from KIE_API_KEY. With
# callback_listen set, the provider receives kie-mock's task-end callbacks instead of polling
# (callback_receiver block; the URL is derived from the loopback listener).

terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

variable "n" {
  type        = number
  description = "Number of images."
}

variable "out_dir" {
  type        = string
  description = "Folder the images are downloaded to; empty: no download (no output_path)."
}

variable "output_format" {
  type    = string
  default = "png"
}

variable "prompt_tag" {
  type        = string
  default     = ""
  description = "Prefix of every prompt, such as a kie-mock [mock:tag=NAME] marker that tells runs sharing one key apart."
}

variable "base_url" {
  type = string
}

variable "request_timeout" {
  type = string
}

variable "poll_min_interval" {
  type = string
}

variable "poll_max_interval" {
  type = string
}

variable "create_rate_limit" {
  type = number
}

variable "status_query_rate" {
  type = number
}

variable "callback_listen" {
  type        = string
  default     = ""
  description = "Loopback address of the provider's callback receiver, such as 127.0.0.1:0; empty: polling only."
}

variable "callback_hmac_key" {
  type      = string
  default   = ""
  sensitive = true
}

variable "callback_safety_poll_interval" {
  type    = string
  default = "60s"
}

provider "kie" {
  base_url          = var.base_url
  request_timeout   = var.request_timeout
  poll_min_interval = var.poll_min_interval
  poll_max_interval = var.poll_max_interval
  create_rate_limit = var.create_rate_limit
  status_query_rate = var.status_query_rate

  callback_receiver = var.callback_listen == "" ? null : {
    listen_address       = var.callback_listen
    hmac_key             = var.callback_hmac_key
    safety_poll_interval = var.callback_safety_poll_interval
  }
}

resource "kie_flux_image" "img" {
  count = var.n

  prompt        = "${var.prompt_tag}benchmark image ${count.index}: a lighthouse on a cliff at dusk, oil painting"
  output_format = var.output_format
  output_path   = var.out_dir == "" ? null : "${var.out_dir}/img-${count.index}.${var.output_format == "jpeg" ? "jpg" : "png"}"
}
