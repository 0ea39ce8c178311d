package main

import (
	"context"
	"math/big"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

// planned is a planned new kie_flux_image as Terraform sends it: arguments known, computed values
// unknown unless the plan set them.
func planned(t *testing.T, typ tftypes.Object, outputPath *string) tftypes.Value {
	t.Helper()
	attrs := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		attrs[name] = tftypes.NewValue(at, tftypes.UnknownValue)
	}
	for name, v := range map[string]any{"prompt": "a lighthouse", "model": "flux-kontext-pro", "output_format": "png"} {
		attrs[name] = tftypes.NewValue(tftypes.String, v)
	}
	for _, name := range []string{"input_image", "input_image_file", "input_image_sha256", "watermark", "callback_url"} {
		attrs[name] = tftypes.NewValue(typ.AttributeTypes[name], nil)
	}
	attrs["triggers"] = tftypes.NewValue(typ.AttributeTypes["triggers"], nil)
	attrs["timeouts"] = tftypes.NewValue(typ.AttributeTypes["timeouts"], nil)
	var p any
	if outputPath != nil {
		p = *outputPath
	}
	attrs["output_path"] = tftypes.NewValue(tftypes.String, p)
	return tftypes.NewValue(typ, attrs)
}

func TestInstantApplyFillsUnknowns(t *testing.T) {
	ctx := context.Background()
	s := newInstantApply(provider.NewServer("test", "none")())
	schemas, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	typ := schemas.ResourceSchemas["kie_flux_image"].ValueType().(tftypes.Object)
	path := "out/img-0.png"
	for _, out := range []*string{&path, nil} {
		plan := planned(t, typ, out)
		dv, err := tfprotov6.NewDynamicValue(typ, plan)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := s.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: "kie_flux_image", PlannedState: &dv})
		if err != nil || len(resp.Diagnostics) > 0 {
			t.Fatalf("apply: %v %v", err, resp.Diagnostics)
		}
		got, err := resp.NewState.Unmarshal(typ)
		if err != nil {
			t.Fatal(err)
		}
		if !got.IsFullyKnown() {
			t.Fatalf("unknown values remain: %v", got)
		}
		var attrs, want map[string]tftypes.Value
		_ = got.As(&attrs)
		_ = plan.As(&want)
		for name, v := range want {
			if v.IsKnown() && !v.Equal(attrs[name]) {
				t.Errorf("%s: planned %v, got %v", name, v, attrs[name])
			}
		}
		var id, taskID, status string
		_ = attrs["id"].As(&id)
		_ = attrs["task_id"].As(&taskID)
		_ = attrs["status"].As(&status)
		if !strings.HasPrefix(id, "fluxkontext_") || id != taskID || status != "SUCCESS" {
			t.Errorf("id %q, task_id %q, status %q", id, taskID, status)
		}
		for _, name := range []string{"result_image_url", "origin_image_url", "created_at", "completed_at"} {
			if attrs[name].IsNull() {
				t.Errorf("%s is null", name)
			}
		}
		if !attrs["input_image_upload_url"].IsNull() {
			t.Errorf("input_image_upload_url = %v, want null", attrs["input_image_upload_url"])
		}
		// A finished image has a hash and size exactly when it has a file (the resource's settled rule).
		var size big.Float
		_ = attrs["output_size"].As(&size)
		hasFile := !attrs["output_sha256"].IsNull() && !attrs["output_size"].IsNull() && size.Sign() > 0
		if hasFile != (out != nil) || attrs["output_sha256"].IsNull() != attrs["output_size"].IsNull() {
			t.Errorf("output_path %v: output_sha256 %v, output_size %v", out, attrs["output_sha256"], attrs["output_size"])
		}
	}
	// Two images get two task ids.
	a, b := newFinished(tftypes.Value{}), newFinished(tftypes.Value{})
	if a.taskID == b.taskID {
		t.Error("task ids repeat")
	}
}
