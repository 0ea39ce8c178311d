// Command terraform-provider-kie serves the KIE Flux Kontext provider to Terraform and OpenTofu.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

// Set by the release build (goreleaser ldflags).
var (
	version = "dev"
	commit  = "none"
)

// Address is the provider's source address; examples, docs and release config use the same one.
const address = "registry.terraform.io/kie-community/kie"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version, commit), providerserver.ServeOpts{
		Address:         address,
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
