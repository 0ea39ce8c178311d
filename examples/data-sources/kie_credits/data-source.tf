# Refuse to plan a batch the account cannot pay for.
data "kie_credits" "account" {}

locals {
  products = toset(["mug", "shirt", "poster", "tote"])
  # flux-kontext-pro costs about 5 credits per image; keep a margin.
  credits_needed = length(local.products) * 5 * 1.2
}

resource "kie_flux_image" "product" {
  for_each = local.products

  prompt       = "Studio photo of a ${each.key} with a minimalist mountain print"
  aspect_ratio = "1:1"
  output_path  = "${path.module}/catalogue/${each.key}.jpg"

  lifecycle {
    precondition {
      condition     = data.kie_credits.account.credits >= local.credits_needed
      error_message = "The KIE account has ${data.kie_credits.account.credits} credits; this catalogue needs about ${local.credits_needed}."
    }
  }
}
