package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Every configuration goes to both the fast path and the framework: where the fast path answers by
// itself ("valid"), the framework must find nothing either; every invalid configuration must reach the
// framework, and the framework must indeed find it invalid (else the case proves nothing).
func TestFastPathValidate(t *testing.T) {
	f := newFastPathFixture(t)
	if f.fast.validation == nil {
		t.Fatal("the validation shortcut is off for the current schema")
	}
	base := map[string]tftypes.Value{"prompt": str("a lighthouse"), "output_path": str("out/a.png")}
	null := func(typ tftypes.Type) tftypes.Value { return tftypes.NewValue(typ, nil) }
	timeouts := tftypes.NewValue(f.fast.objType.AttributeTypes["timeouts"], map[string]tftypes.Value{
		"create": str("30m"), "update": null(tftypes.String), "delete": null(tftypes.String)})
	badTimeouts := tftypes.NewValue(f.fast.objType.AttributeTypes["timeouts"], map[string]tftypes.Value{
		"create": str("soon"), "update": null(tftypes.String), "delete": null(tftypes.String)})
	triggers := tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("2")})

	for _, tc := range []struct {
		name           string
		config         map[string]tftypes.Value
		wantFast, want bool // the fast path answers by itself; the configuration is valid
	}{
		{"prompt only", map[string]tftypes.Value{"prompt": str("a lighthouse")}, true, true},
		{"prompt and file", base, true, true},
		{"every argument of a generation", with(base, "model", str(modelMax), "aspect_ratio", str("1:1"),
			"output_format", str("jpeg"), "prompt_upsampling", boolean(true), "safety_tolerance", num(maxToleranceGen),
			"enable_translation", boolean(false), "watermark", str("w"), "upload_cn", boolean(true), "triggers", triggers), true, true},
		{"an edit within its tolerance", with(base, "input_image", str("https://example.test/in.png"),
			"safety_tolerance", num(maxToleranceEdit)), true, true},
		{"an edit of a file", with(base, "input_image_file", str("in.png")), true, true},
		{"callback url", with(base, "callback_url", str("https://example.test/cb")), true, true},
		{"timeouts (the framework's)", with(base, "timeouts", timeouts), false, true},

		{"blank prompt", map[string]tftypes.Value{"prompt": str("  ")}, false, false},
		{"unknown model", with(base, "model", str("flux-kontext-mini")), false, false},
		{"unknown aspect ratio", with(base, "aspect_ratio", str("2:1")), false, false},
		{"unknown output format", with(base, "output_format", str("gif")), false, false},
		{"tolerance above a generation's", with(base, "safety_tolerance", num(maxToleranceGen+1)), false, false},
		{"negative tolerance", with(base, "safety_tolerance", num(-1)), false, false},
		{"tolerance above an edit's", with(base, "input_image", str("https://example.test/in.png"),
			"safety_tolerance", num(maxToleranceEdit+1)), false, false},
		{"tolerance above an edit's, file", with(base, "input_image_file", str("in.png"),
			"safety_tolerance", num(maxToleranceEdit+1)), false, false},
		{"input image not a URL", with(base, "input_image", str("in.png")), false, false},
		{"both inputs", with(base, "input_image", str("https://example.test/in.png"), "input_image_file", str("in.png")), false, false},
		{"blank input file", with(base, "input_image_file", str(" ")), false, false},
		{"callback url not http", with(base, "callback_url", str("ftp://example.test/cb")), false, false},
		{"blank output path", with(base, "output_path", str("")), false, false},
		{"bad timeouts", with(base, "timeouts", badTimeouts), false, false},
		{"unknown prompt (known at apply)", with(base, "prompt", tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &tfprotov6.ValidateResourceConfigRequest{TypeName: fluxImageTypeName, Config: f.dv(f.object(tc.config))}
			fast := f.fast.validConfig(context.Background(), req.Config)
			if fast != tc.wantFast {
				t.Errorf("fast path answered by itself: %v, want %v", fast, tc.wantFast)
			}
			got, want := ask(t, req, f.fast.ValidateResourceConfig, f.fw.ValidateResourceConfig)
			f.sameRest(nil, nil, got.Diagnostics, want.Diagnostics)
			if valid := len(want.Diagnostics) == 0; valid != tc.want {
				t.Errorf("the framework found the configuration valid: %v, want %v (%v)", valid, tc.want, want.Diagnostics)
			}
			if fast && len(want.Diagnostics) > 0 {
				t.Errorf("the fast path called valid what the framework does not: %v", want.Diagnostics)
			}
		})
	}
}

// Every argument the schema validates is checked by the shortcut: its validators are the schema's own.
func TestFastPathValidateCoversSchema(t *testing.T) {
	f := newFastPathFixture(t)
	for name, a := range f.schema.Attributes {
		_, s := f.fast.validation.strings[name]
		_, n := f.fast.validation.int64s[name]
		if !a.IsComputed() || a.IsOptional() {
			if kind := a.GetType().String(); (kind == "basetypes.StringType" && !s) || (kind == "basetypes.Int64Type" && !n) {
				t.Errorf("argument %s (%s) is not checked by the validation shortcut", name, kind)
			}
		}
	}
}
