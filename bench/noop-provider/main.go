// Command noop-provider serves the real provider with some of its answers made instant, to measure
// what Terraform itself spends on resources of kie_flux_image's schema: the floor below which no
// implementation of the provider can go. It is a measuring tool only; it validates nothing, pays for
// nothing and must never serve real work. KIE_NOOP picks what is instant:
//
//   - "plan" (default): ValidateResourceConfig, ReadResource and PlanResourceChange answer at once,
//     unchanged. make bench plans 1,000 finished images with it as with the real provider.
//   - "apply": only ApplyResourceChange answers at once, with the planned state and its unknown
//     values filled in as a finished image would have them (no request, no file). make bench applies
//     5,000 new images with it as with the real provider.
package main

import (
	"context"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

// envMode names the mode (see the package comment).
const envMode = "KIE_NOOP"

type instantPlan struct {
	tfprotov6.ProviderServer
}

func (instantPlan) ValidateResourceConfig(context.Context, *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (instantPlan) ReadResource(_ context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private}, nil
}

func (instantPlan) PlanResourceChange(_ context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate}, nil
}

func main() {
	server := provider.NewServer("noop", "none")
	var wrap func(tfprotov6.ProviderServer) tfprotov6.ProviderServer
	switch mode := os.Getenv(envMode); mode {
	case "", "plan":
		wrap = func(s tfprotov6.ProviderServer) tfprotov6.ProviderServer { return instantPlan{s} }
	case "apply":
		wrap = func(s tfprotov6.ProviderServer) tfprotov6.ProviderServer { return newInstantApply(s) }
	default:
		log.Fatal(envMode + " must be plan or apply")
	}
	if err := tf6server.Serve(provider.Address, func() tfprotov6.ProviderServer { return wrap(server()) }); err != nil {
		log.Fatal(err)
	}
}
