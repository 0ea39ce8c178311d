package dynamicjson

import (
	"context"
	"encoding/json"
	"math/big"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// hclInput is what Terraform hands the provider for
// { prompt = "a fox", max_images = 3, strength = 0.5, nsfw = false, image_urls = ["u1", "u2"], note = null }.
func hclInput(t *testing.T) types.Dynamic {
	t.Helper()
	urls, d := types.TupleValue([]attr.Type{types.StringType, types.StringType},
		[]attr.Value{types.StringValue("u1"), types.StringValue("u2")})
	if d.HasError() {
		t.Fatal(d)
	}
	obj, d := types.ObjectValue(map[string]attr.Type{
		"prompt": types.StringType, "max_images": types.NumberType, "strength": types.NumberType,
		"nsfw": types.BoolType, "image_urls": urls.Type(context.Background()), "note": types.StringType,
	}, map[string]attr.Value{
		"prompt": types.StringValue("a fox"), "max_images": types.NumberValue(big.NewFloat(3)),
		"strength": types.NumberValue(big.NewFloat(0.5)), "nsfw": types.BoolValue(false), "image_urls": urls,
		"note": types.StringNull(),
	})
	if d.HasError() {
		t.Fatal(d)
	}
	return types.DynamicValue(obj)
}

func TestToGoWritesTheAPIsJSON(t *testing.T) {
	g, err := ToGo(hclInput(t), "?")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"image_urls":["u1","u2"],"max_images":3,"nsfw":false,"prompt":"a fox","strength":0.5}`
	if string(b) != want {
		t.Fatalf("JSON %s, want %s", b, want)
	}
}

// JSON read back from the API (an import) must give the value the same HCL gives, or a matching
// configuration would plan a replacement.
func TestFromGoMatchesHCL(t *testing.T) {
	raw, err := Decode([]byte(`{"prompt":"a fox","max_images":3,"strength":0.5,"nsfw":false,"image_urls":["u1","u2"],"note":null}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromGo(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := hclInput(t)
	// The HCL object has a null "note" attribute; JSON's null is left out, as ToGo leaves it out.
	wantGo, _ := ToGo(want, nil)
	gotGo, _ := ToGo(got, nil)
	a, _ := json.Marshal(wantGo)
	b, _ := json.Marshal(gotGo)
	if string(a) != string(b) {
		t.Fatalf("round trip %s, want %s", b, a)
	}
	obj, ok := got.UnderlyingValue().(types.Object)
	if !ok {
		t.Fatalf("decoded object is %T", got.UnderlyingValue())
	}
	if _, ok := obj.Attributes()["image_urls"].(types.Tuple); !ok {
		t.Fatalf("a JSON array must become a tuple, as an HCL list literal is: %T", obj.Attributes()["image_urls"])
	}
}

func TestToGoMarksUnknownValues(t *testing.T) {
	obj, _ := types.ObjectValue(map[string]attr.Type{"prompt": types.StringType, "seed": types.NumberType},
		map[string]attr.Value{"prompt": types.StringUnknown(), "seed": types.NumberValue(big.NewFloat(7))})
	g, err := ToGo(types.DynamicValue(obj), "UNKNOWN")
	if err != nil {
		t.Fatal(err)
	}
	m := g.(map[string]any)
	if m["prompt"] != "UNKNOWN" || m["seed"] != json.Number("7") {
		t.Fatalf("got %#v", m)
	}
	if g, _ := ToGo(types.DynamicUnknown(), "UNKNOWN"); g != "UNKNOWN" {
		t.Fatalf("an unknown input is %v", g)
	}
}
