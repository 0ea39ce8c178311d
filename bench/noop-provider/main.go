// Command noop-provider serves the real provider with ValidateResourceConfig, ReadResource and
// PlanResourceChange answered at once, unchanged. make bench plans the same 1,000 finished images with
// it as with the real provider: what remains is what Terraform itself spends on resources of
// kie_flux_image's schema, the floor below which no implementation of the provider can plan them.
// It is a measuring tool only; it validates nothing and must never serve real work.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

type instant struct {
	tfprotov6.ProviderServer
}

func (instant) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (instant) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (instant) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, nil
}

func main() {
	server := provider.NewServer("noop", "none")
	err := tf6server.Serve(provider.Address, func() tfprotov6.ProviderServer {
		return instant{server()}
	})
	if err != nil {
		log.Fatal(err)
	}
}
