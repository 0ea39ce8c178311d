package provider

// Address is the provider's source address; main, examples, docs and the release config use the same one.
const Address = "registry.terraform.io/kie-community/kie"
