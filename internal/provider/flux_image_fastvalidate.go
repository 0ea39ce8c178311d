package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// Terraform validates every resource's configuration on every plan. For a kie_flux_image the answer
// is nearly always "valid", and the framework's generic walk over the schema costs several times what
// the checks themselves do. validConfig runs the schema's own validators and the resource's own rule
// directly on the raw values; only when every one of them passes does the fast path answer "valid"
// itself. Anything else (a failing or warning check, an unknown value, the timeouts block, an argument
// the shortcut does not check) goes to the framework, whose answer is the one users see.
// flux_image_fastvalidate_test.go holds both paths to the same answers.
type fastValidation struct {
	schema  schema.Schema
	strings map[string][]validator.String
	int64s  map[string][]validator.Int64
	// required arguments, and attributes that send the configuration to the framework when set:
	// computed-only ones (Terraform rejects them) and deprecated ones (the framework warns).
	required, delegate []string
}

func newFastValidation(s schema.Schema) (*fastValidation, error) {
	if _, ok := any(&fluxImageResource{}).(resource.ResourceWithConfigValidators); ok {
		return nil, fmt.Errorf("the resource has config validators, which the fast path does not run")
	}
	v := &fastValidation{schema: s, strings: map[string][]validator.String{}, int64s: map[string][]validator.Int64{}}
	for name, a := range s.Attributes {
		if a.IsRequired() {
			v.required = append(v.required, name)
		}
		if a.GetDeprecationMessage() != "" || (a.IsComputed() && !a.IsOptional()) {
			v.delegate = append(v.delegate, name)
		}
		switch a := a.(type) {
		case schema.StringAttribute:
			if len(a.Validators) > 0 && a.CustomType != nil {
				return nil, fmt.Errorf("attribute %s: validators of a custom type are not run by the fast path", name)
			}
			v.strings[name] = a.Validators
		case schema.Int64Attribute:
			if len(a.Validators) > 0 && a.CustomType != nil {
				return nil, fmt.Errorf("attribute %s: validators of a custom type are not run by the fast path", name)
			}
			v.int64s[name] = a.Validators
		case schema.BoolAttribute:
			if len(a.Validators) > 0 {
				return nil, fmt.Errorf("attribute %s: bool validators are not run by the fast path", name)
			}
		case schema.MapAttribute:
			if len(a.Validators) > 0 {
				return nil, fmt.Errorf("attribute %s: map validators are not run by the fast path", name)
			}
		default:
			return nil, fmt.Errorf("attribute %s: %T is not checked by the fast path", name, a)
		}
	}
	// Blocks (timeouts) are the framework's to validate whenever they are set.
	for name := range s.Blocks {
		v.delegate = append(v.delegate, name)
	}
	return v, nil
}

// ValidateResourceConfig answers "valid" for a configuration that passes every check; anything else
// is the framework's.
func (s *fastPathServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if !s.disabled && s.validation != nil && req.TypeName == fluxImageTypeName && s.validConfig(ctx, req.Config) {
		return &tfprotov6.ValidateResourceConfigResponse{}, nil
	}
	return s.ProviderServer.ValidateResourceConfig(ctx, req)
}

// validConfig reports whether the framework would find no problem at all with the configuration.
func (s *fastPathServer) validConfig(ctx context.Context, dv *tfprotov6.DynamicValue) bool {
	v, ok := s.unmarshal(dv) // unknown values (known only at apply) are the framework's
	if !ok || v.IsNull() {
		return false
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return false
	}
	val := s.validation
	for _, name := range val.delegate {
		if !isNull(attrs[name]) {
			return false
		}
	}
	for _, name := range val.required {
		if isNull(attrs[name]) {
			return false
		}
	}
	config := tfsdk.Config{Raw: v, Schema: val.schema}
	for name, validators := range val.strings {
		value := types.StringNull()
		if sv, set := stringOf(attrs[name]); set {
			value = types.StringValue(sv)
		}
		for _, check := range validators {
			var resp validator.StringResponse
			check.ValidateString(ctx, validator.StringRequest{Path: path.Root(name), PathExpression: path.MatchRoot(name),
				Config: config, ConfigValue: value}, &resp)
			if len(resp.Diagnostics) > 0 {
				return false
			}
		}
	}
	for name, validators := range val.int64s {
		value := types.Int64Null()
		if !isNull(attrs[name]) {
			n, exact := int64Of(attrs[name])
			if !exact {
				return false
			}
			value = types.Int64Value(n)
		}
		for _, check := range validators {
			var resp validator.Int64Response
			check.ValidateInt64(ctx, validator.Int64Request{Path: path.Root(name), PathExpression: path.MatchRoot(name),
				Config: config, ConfigValue: value}, &resp)
			if len(resp.Diagnostics) > 0 {
				return false
			}
		}
	}
	editing := !isNull(attrs["input_image"]) || !isNull(attrs["input_image_file"])
	tolerance := types.Int64Null()
	if n, set := int64Of(attrs["safety_tolerance"]); set {
		tolerance = types.Int64Value(n)
	}
	return toleranceProblem(editing, tolerance) == ""
}
