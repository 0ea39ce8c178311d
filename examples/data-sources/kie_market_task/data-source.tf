# Look up a Market task started elsewhere (a script, KIE's playground) by its id.
data "kie_market_task" "previous" {
  task_id = "0123456789abcdef0123456789abcdef"
}

output "previous_images" {
  value = data.kie_market_task.previous.result_urls
}

# The input it was made with, to copy into a kie_image.
output "previous_input" {
  value = jsondecode(data.kie_market_task.previous.input_json)
}
