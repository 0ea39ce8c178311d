variable "images" {
  description = "The images of the set, by name. The name becomes the file name, so it must be one."
  type = map(object({
    prompt       = string
    aspect_ratio = optional(string, "1:1")
  }))

  validation {
    condition     = alltrue([for name in keys(var.images) : can(regex("^[a-z0-9][a-z0-9-]*$", name))])
    error_message = "Image names become file names: use lower-case letters, digits and dashes."
  }
}

variable "style" {
  description = "Added to every prompt, so that the images of the set look alike."
  type        = string
  default     = ""
}

variable "model" {
  description = "flux-kontext-pro or flux-kontext-max."
  type        = string
  default     = "flux-kontext-pro"
}

variable "output_format" {
  description = "png or jpeg."
  type        = string
  default     = "png"

  validation {
    condition     = contains(["png", "jpeg"], var.output_format)
    error_message = "output_format must be png or jpeg."
  }
}

variable "output_dir" {
  description = "Directory the image files are written to."
  type        = string
}
