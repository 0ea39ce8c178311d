# Adopt an image generated outside Terraform by its KIE task id. The model and input come back from the task.
terraform import kie_image.hero 0123456789abcdef0123456789abcdef
