package provider

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestStoredFluxImageKeysLikeThePlan(t *testing.T) {
	raw := []byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","model":"flux-kontext-pro",
		"aspect_ratio":"16:9","output_format":"png","safety_tolerance":2,"enable_translation":true,
		"prompt_upsampling":false,"upload_cn":false,"triggers":{"v":"1"},"output_path":"out/a.png",
		"output_sha256":null,"output_size":null,"watermark":null,"input_image":null,"input_image_sha256":null}`)
	m, err := storedFluxImage(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	if !m.unfinished() {
		t.Fatal("a generating task is unfinished")
	}
	changed, _ := storedFluxImage(context.Background(), []byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","triggers":{"v":"2"}}`))
	same, _ := storedFluxImage(context.Background(), []byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","triggers":{"v":"1"}}`))
	if changed.resumeKey() == same.resumeKey() {
		t.Fatal("a change of triggers must change the key")
	}
	done, _ := storedFluxImage(context.Background(), []byte(`{"task_id":"t1","status":"SUCCESS","output_path":"a.png","output_sha256":null,"output_size":123}`))
	if done.unfinished() {
		t.Fatal("a file that went missing after its download is restored in place, not resumed")
	}
	never, _ := storedFluxImage(context.Background(), []byte(`{"task_id":"t1","status":"SUCCESS","output_path":"a.png","output_sha256":null,"output_size":null}`))
	if !never.unfinished() {
		t.Fatal("a download that never completed is unfinished")
	}
}

// The key recorded from a stored object (UpgradeResourceState sees only its JSON) must equal the key a
// plan computes for the same arguments through the framework.
func TestStoredKeyMatchesFrameworkKey(t *testing.T) {
	f := newFastPathFixture(t)
	triggers := tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("1")})
	state := with(f.finishedState(), "status", str("GENERATING"), "output_sha256", tftypes.NewValue(tftypes.String, nil),
		"output_size", tftypes.NewValue(tftypes.Number, nil), "input_image", str("https://example.test/in.png"),
		"watermark", str("w"), "model", str(modelMax), "prompt_upsampling", boolean(true), "safety_tolerance", num(1),
		"enable_translation", boolean(false), "upload_cn", boolean(true), "input_image_sha256", str("abc"),
		"callback_url", str("https://example.test/cb"), "triggers", triggers)
	// Every argument is set here, so a new one fails this line until the test (and storedImage) know it.
	for name, a := range f.schema.Attributes {
		if (a.IsRequired() || a.IsOptional()) && name != "input_image_file" {
			if v, ok := state[name]; !ok || v.IsNull() {
				t.Fatalf("argument %s is not set in this test: add it here", name)
			}
		}
	}
	raw := f.object(state)

	var fromFramework fluxImageModel
	if diags := (tfsdk.State{Schema: f.schema, Raw: raw}).Get(context.Background(), &fromFramework); diags.HasError() {
		t.Fatal(diags)
	}
	js, err := json.Marshal(plainValues(t, state))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := storedFluxImage(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.resumeKey() != fromFramework.resumeKey() {
		t.Fatalf("the key from stored JSON differs from the plan's key:\nJSON  %+v\nplan  %+v", fromJSON.generateRequest(), fromFramework.generateRequest())
	}
	if !fromJSON.unfinished() {
		t.Fatal("a generating task read from JSON is not unfinished")
	}
}

// plainValues turns state attributes into the JSON Terraform stores (timeouts left out: not an argument).
func plainValues(t testing.TB, attrs map[string]tftypes.Value) map[string]any {
	t.Helper()
	out := map[string]any{}
	for name, v := range attrs {
		if !v.IsKnown() || v.IsNull() {
			out[name] = nil
			continue
		}
		switch {
		case v.Type().Is(tftypes.String):
			var s string
			_ = v.As(&s)
			out[name] = s
		case v.Type().Is(tftypes.Bool):
			var b bool
			_ = v.As(&b)
			out[name] = b
		case v.Type().Is(tftypes.Number):
			n := new(big.Float)
			_ = v.As(&n)
			i, _ := n.Int64()
			out[name] = i
		case v.Type().Is(tftypes.Map{ElementType: tftypes.String}):
			var m map[string]tftypes.Value
			_ = v.As(&m)
			out[name] = plainValues(t, m)
		default:
			t.Fatalf("attribute %s: type %s not handled", name, v.Type())
		}
	}
	return out
}

// storedFluxImage decodes a stored kie_flux_image as the resume hook does.
func storedFluxImage(ctx context.Context, raw []byte) (*fluxImageModel, error) {
	var m fluxImageModel
	if err := decodeStored(ctx, fluxImageSchema(ctx), raw, &m); err != nil {
		return nil, err
	}
	return &m, nil
}
