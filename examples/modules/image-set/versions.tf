terraform {
  required_providers {
    kie = {
      source = "kie-community/kie"
    }
  }
}
