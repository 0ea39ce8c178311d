# Adopt an image generated outside Terraform by its KIE task id. The arguments come back from the task.
terraform import kie_flux_image.hero fluxkontext_0123456789abcdef
