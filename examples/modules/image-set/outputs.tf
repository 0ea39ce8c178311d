output "files" {
  description = "Image files by name."
  value       = { for name, img in kie_flux_image.this : name => img.output_path }
}

output "sha256" {
  description = "SHA-256 of each file, by name."
  value       = { for name, img in kie_flux_image.this : name => img.output_sha256 }
}

output "sizes" {
  description = "Size of each file in bytes, by name."
  value       = { for name, img in kie_flux_image.this : name => img.output_size }
}

output "task_ids" {
  description = "KIE task ids, by name."
  value       = { for name, img in kie_flux_image.this : name => img.task_id }
}

output "result_urls" {
  description = "Where KIE hosts each result, by name."
  value       = { for name, img in kie_flux_image.this : name => img.result_image_url }
}
