terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}

# The API key comes from KIE_API_KEY unless set here; keep it out of version control.
provider "kie" {
  # api_key  = var.kie_api_key
  # base_url = "http://127.0.0.1:8787" # a local kie-mock, to test without paying

  # Stop a typo in count or for_each from buying a thousand images.
  max_new_images = 50
}
