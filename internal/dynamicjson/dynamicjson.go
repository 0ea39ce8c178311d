// Package dynamicjson converts between the plugin framework's dynamic values and JSON, for attributes
// that carry an API's free-form object (kie_image's input): HCL objects and tuples become JSON objects
// and arrays, and JSON read back from the API becomes the value the same HCL would have produced.
package dynamicjson

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// ToGo turns a framework value into what encoding/json decodes JSON into: map[string]any, []any,
// string, json.Number, bool, nil. A value not known yet becomes unknown (which may be nil too).
func ToGo(v attr.Value, unknown any) (any, error) {
	if v == nil || v.IsNull() {
		return nil, nil
	}
	if v.IsUnknown() {
		return unknown, nil
	}
	switch v := v.(type) {
	case basetypes.DynamicValue:
		return ToGo(v.UnderlyingValue(), unknown)
	case basetypes.StringValue:
		return v.ValueString(), nil
	case basetypes.BoolValue:
		return v.ValueBool(), nil
	case basetypes.NumberValue:
		return number(v.ValueBigFloat()), nil
	case basetypes.Int64Value:
		return json.Number(fmt.Sprint(v.ValueInt64())), nil
	case basetypes.Float64Value:
		return number(big.NewFloat(v.ValueFloat64())), nil
	case basetypes.ObjectValue:
		return mapToGo(v.Attributes(), unknown)
	case basetypes.MapValue:
		return mapToGo(v.Elements(), unknown)
	case basetypes.TupleValue:
		return listToGo(v.Elements(), unknown)
	case basetypes.ListValue:
		return listToGo(v.Elements(), unknown)
	case basetypes.SetValue:
		return listToGo(v.Elements(), unknown)
	}
	return nil, fmt.Errorf("values of type %s are not supported", v.Type(context.Background()))
}

func mapToGo(elems map[string]attr.Value, unknown any) (map[string]any, error) {
	out := make(map[string]any, len(elems))
	for k, e := range elems {
		g, err := ToGo(e, unknown)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if e == nil || e.IsNull() {
			continue // an absent field and a null one mean the same to the API
		}
		out[k] = g
	}
	return out, nil
}

func listToGo(elems []attr.Value, unknown any) ([]any, error) {
	out := make([]any, len(elems))
	for i, e := range elems {
		g, err := ToGo(e, unknown)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = g
	}
	return out, nil
}

// number writes integers without a fraction or exponent, as the API expects them.
func number(f *big.Float) json.Number {
	if f.IsInt() {
		i, _ := f.Int(nil)
		return json.Number(i.String())
	}
	return json.Number(f.Text('g', -1))
}

// FromGo turns decoded JSON (as from encoding/json with UseNumber, or float64 numbers) into the
// dynamic value HCL would give for the same literal: objects, tuples, strings, numbers and bools.
// Null members of an object are left out, like ToGo does.
func FromGo(v any) (types.Dynamic, error) {
	val, err := fromGo(v)
	if err != nil {
		return types.DynamicNull(), err
	}
	if val == nil {
		return types.DynamicNull(), nil
	}
	return types.DynamicValue(val), nil
}

func fromGo(v any) (attr.Value, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return types.StringValue(v), nil
	case bool:
		return types.BoolValue(v), nil
	case json.Number:
		f, _, err := big.ParseFloat(string(v), 10, 512, big.ToNearestEven)
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", v, err)
		}
		return types.NumberValue(f), nil
	case float64:
		return types.NumberValue(big.NewFloat(v)), nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrTypes := map[string]attr.Type{}
		attrs := map[string]attr.Value{}
		for _, k := range keys {
			e, err := fromGo(v[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if e == nil {
				continue
			}
			attrTypes[k], attrs[k] = e.Type(context.Background()), e
		}
		obj, diags := types.ObjectValue(attrTypes, attrs)
		if diags.HasError() {
			return nil, fmt.Errorf("%v", diags)
		}
		return obj, nil
	case []any:
		elemTypes := make([]attr.Type, 0, len(v))
		elems := make([]attr.Value, 0, len(v))
		for i, x := range v {
			e, err := fromGo(x)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if e == nil {
				e = types.DynamicNull()
			}
			elemTypes, elems = append(elemTypes, e.Type(context.Background())), append(elems, e)
		}
		tuple, diags := types.TupleValue(elemTypes, elems)
		if diags.HasError() {
			return nil, fmt.Errorf("%v", diags)
		}
		return tuple, nil
	}
	return nil, fmt.Errorf("JSON value of type %T is not supported", v)
}

// Decode reads JSON into what FromGo takes, keeping numbers exact.
func Decode(b []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
