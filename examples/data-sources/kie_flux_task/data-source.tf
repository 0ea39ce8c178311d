# Look up a task started elsewhere (a script, KIE's playground) by its id.
data "kie_flux_task" "previous" {
  task_id = "fluxkontext_0123456789abcdef"
}

output "previous_image" {
  value = data.kie_flux_task.previous.status == "SUCCESS" ? data.kie_flux_task.previous.result_image_url : null
}
