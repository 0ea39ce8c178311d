package provider

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// What the provider spends per finished, unchanged image on each call Terraform makes while planning:
// UpgradeResourceState, ValidateResourceConfig, ReadResource and PlanResourceChange, through the
// unchanged-image shortcut and through the framework alone, side by side. make bench measures whole
// plans; these split the provider's share of them by call.

func benchFixture(b *testing.B) (*fastPathFixture, map[string]tftypes.Value) {
	f := newFastPathFixture(b)
	return f, f.finishedState()
}

func BenchmarkPlanUpgradeResourceState(b *testing.B) {
	f, state := benchFixture(b)
	raw, err := json.Marshal(plainValues(b, state))
	if err != nil {
		b.Fatal(err)
	}
	req := &tfprotov6.UpgradeResourceStateRequest{TypeName: fluxImageTypeName, Version: 0,
		RawState: &tfprotov6.RawState{JSON: raw}}
	ctx := context.Background()
	for b.Loop() {
		resp, err := f.fast.UpgradeResourceState(ctx, req)
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("upgrade: %v %v", err, resp.Diagnostics)
		}
	}
}

func BenchmarkPlanValidateResourceConfig(b *testing.B) {
	f, state := benchFixture(b)
	req := &tfprotov6.ValidateResourceConfigRequest{TypeName: fluxImageTypeName, Config: f.dv(f.object(configOf(state)))}
	ctx := context.Background()
	for b.Loop() {
		resp, err := f.fast.ValidateResourceConfig(ctx, req)
		if err != nil || len(resp.Diagnostics) > 0 {
			b.Fatalf("validate: %v %v", err, resp.Diagnostics)
		}
	}
}

func BenchmarkPlanReadResource(b *testing.B) {
	f, state := benchFixture(b)
	req := &tfprotov6.ReadResourceRequest{TypeName: fluxImageTypeName, CurrentState: f.dv(f.object(state))}
	ctx := context.Background()
	for name, server := range f.paths() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := server.ReadResource(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPlanPlanResourceChange(b *testing.B) {
	f, state := benchFixture(b)
	req := f.planRequest(state, configOf(state), nil)
	if !f.fast.shortcut.planIsNoop(req) {
		b.Fatal("the unchanged image did not take the shortcut")
	}
	ctx := context.Background()
	for name, server := range f.paths() {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := server.PlanResourceChange(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// paths are the two servers compared: with the shortcut, and the framework alone.
func (f *fastPathFixture) paths() map[string]tfprotov6.ProviderServer {
	return map[string]tfprotov6.ProviderServer{"shortcut": f.fast, "framework": f.fw}
}
