package provider

import (
	"bytes"
	"context"
	"fmt"
	"math/big"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

const fluxImageTypeName = "kie_flux_image"

// NewServer returns the protocol server that main serves and the acceptance tests use: the framework's
// server, with a shortcut for the unchanged image (see fastPathServer).
func NewServer(version, commit string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		p := &kieProvider{version: version, commit: commit}
		next := providerserver.NewProtocol6(p)()
		fast, err := newFastPath(context.Background())
		if err != nil {
			// The schema grew something the shortcut does not understand: serve the framework with only
			// the resume hook.
			fast = &fastPathServer{disabled: true}
		}
		fast.ProviderServer, fast.provider = next, p
		return fast
	}
}

// fastPathServer answers ReadResource and PlanResourceChange of a finished kie_flux_image whose
// configuration and local file are unchanged, which is what every image of a large configuration asks
// on every plan. The framework spends milliseconds per resource on its per-attribute machinery to
// conclude "nothing to do"; here the same answer is reached from the raw values. Whenever a request is
// anything but that case (a changed argument, a drifted file, a pending task, an input file to hash,
// a default that changed), it goes to the framework unchanged. The differential tests in
// flux_image_fastpath_test.go hold both paths to the same answers. ValidateResourceConfig has a
// shortcut of the same kind (flux_image_fastvalidate.go).
type fastPathServer struct {
	tfprotov6.ProviderServer

	// provider is the instance behind ProviderServer; UpgradeResourceState reads its configuration.
	provider *kieProvider
	// disabled turns the shortcut off (the schema has something it does not understand).
	disabled bool

	objType tftypes.Object
	// defaults are the values the framework plans for an attribute left out of the configuration.
	defaults map[string]tftypes.Value
	// validation checks a configuration without the framework; nil turns only that shortcut off.
	validation *fastValidation
}

func newFastPath(ctx context.Context) (*fastPathServer, error) {
	s := fluxImageSchema(ctx)
	objType, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return nil, fmt.Errorf("schema type is %T, not an object", s.Type().TerraformType(ctx))
	}
	defs, err := schemaDefaults(ctx, s)
	if err != nil {
		return nil, err
	}
	fs := &fastPathServer{objType: objType, defaults: defs}
	if fs.validation, err = newFastValidation(s); err != nil {
		tflog.Debug(ctx, "configurations are validated by the framework alone", map[string]any{"reason": err.Error()})
	}
	return fs, nil
}

// schemaDefaults collects each attribute's static default as a protocol value. An attribute kind it
// does not know is an error, so a schema change can only turn the shortcut off, never make it wrong.
func schemaDefaults(ctx context.Context, s schema.Schema) (map[string]tftypes.Value, error) {
	out := map[string]tftypes.Value{}
	for name, a := range s.Attributes {
		var (
			v interface {
				ToTerraformValue(context.Context) (tftypes.Value, error)
			}
			bad bool
		)
		switch a := a.(type) {
		case schema.StringAttribute:
			if a.Default != nil {
				var resp defaults.StringResponse
				a.Default.DefaultString(ctx, defaults.StringRequest{}, &resp)
				v, bad = resp.PlanValue, resp.Diagnostics.HasError()
			}
		case schema.BoolAttribute:
			if a.Default != nil {
				var resp defaults.BoolResponse
				a.Default.DefaultBool(ctx, defaults.BoolRequest{}, &resp)
				v, bad = resp.PlanValue, resp.Diagnostics.HasError()
			}
		case schema.Int64Attribute:
			if a.Default != nil {
				var resp defaults.Int64Response
				a.Default.DefaultInt64(ctx, defaults.Int64Request{}, &resp)
				v, bad = resp.PlanValue, resp.Diagnostics.HasError()
			}
		case schema.MapAttribute:
			bad = a.Default != nil
		default:
			bad = true
		}
		if bad {
			return nil, fmt.Errorf("attribute %s: default not supported by the fast path", name)
		}
		if v == nil {
			continue
		}
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		out[name] = tv
	}
	return out, nil
}

func (s *fastPathServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if s.disabled || req.TypeName != fluxImageTypeName || len(req.Private) != 0 {
		return s.ProviderServer.ReadResource(ctx, req)
	}
	if attrs, ok := s.decode(req.CurrentState); ok && s.readIsNoop(attrs) {
		tflog.Trace(ctx, "kie_flux_image unchanged: refreshed without the framework")
		identity := req.CurrentIdentity
		if identity == nil {
			identity = identityOf(attrs)
		}
		return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private, NewIdentity: identity}, nil
	}
	return s.ProviderServer.ReadResource(ctx, req)
}

// readIsNoop reports whether Read would return the state with these attributes as it is: a finished
// image (status set; an import has none yet) whose local file, if any, still has the recorded size
// and hash.
func (s *fastPathServer) readIsNoop(attrs map[string]tftypes.Value) bool {
	if !finishedStatus(attrs["status"]) {
		return false
	}
	p, hasPath := stringOf(attrs["output_path"])
	sum, hasSum := stringOf(attrs["output_sha256"])
	if !hasPath || !hasSum {
		return true // Read checks no file then
	}
	size, ok := int64Of(attrs["output_size"])
	return ok && s.data().fileIntact(p, sum, size)
}

func (s *fastPathServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if !s.disabled && req.TypeName == fluxImageTypeName && len(req.PriorPrivate) == 0 && s.planIsNoop(req) {
		tflog.Trace(ctx, "kie_flux_image unchanged: planned without the framework")
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate,
			PlannedIdentity: req.PriorIdentity}, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

// planIsNoop reports whether the framework would plan no change: Terraform's proposed state equals the
// prior state, no default would overwrite a prior value, there is no input file to hash again, and the
// local-file attributes are recorded consistently with output_path.
func (s *fastPathServer) planIsNoop(req *tfprotov6.PlanResourceChangeRequest) bool {
	if req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil {
		return false
	}
	prior, ok := s.unmarshal(req.PriorState)
	if !ok || prior.IsNull() {
		return false
	}
	// Terraform encodes both the same way, so equal bytes are equal values; otherwise compare values.
	if len(req.PriorState.MsgPack) == 0 || !bytes.Equal(req.ProposedNewState.MsgPack, req.PriorState.MsgPack) {
		proposed, ok := s.unmarshal(req.ProposedNewState)
		if !ok || !proposed.Equal(prior) {
			return false
		}
	}
	config, ok := s.decode(req.Config)
	if !ok {
		return false
	}
	var attrs map[string]tftypes.Value
	if err := prior.As(&attrs); err != nil || !finishedStatus(attrs["status"]) {
		return false
	}
	for name, def := range s.defaults {
		if isNull(config[name]) && !attrs[name].Equal(def) {
			return false
		}
	}
	if !isNull(config["input_image_file"]) || !isNull(attrs["input_image_sha256"]) {
		return false
	}
	hasPath := !isNull(attrs["output_path"])
	return hasPath != isNull(attrs["output_sha256"]) && hasPath != isNull(attrs["output_size"])
}

func (s *fastPathServer) unmarshal(dv *tfprotov6.DynamicValue) (tftypes.Value, bool) {
	if dv == nil {
		return tftypes.Value{}, false
	}
	v, err := dv.Unmarshal(s.objType)
	if err != nil || !v.IsFullyKnown() {
		return tftypes.Value{}, false
	}
	return v, true
}

// decode unmarshals a known, non-null object into its attributes.
func (s *fastPathServer) decode(dv *tfprotov6.DynamicValue) (map[string]tftypes.Value, bool) {
	v, ok := s.unmarshal(dv)
	if !ok || v.IsNull() {
		return nil, false
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return nil, false
	}
	return attrs, true
}

// finishedStatus: only a task that succeeded can be unchanged; one still generating or failed is the
// framework's (and ModifyPlan's) to plan.
func finishedStatus(v tftypes.Value) bool {
	s, ok := stringOf(v)
	return ok && s == "SUCCESS"
}

// data is what the provider's last Configure produced; nil before.
func (s *fastPathServer) data() *providerData {
	if s.provider == nil {
		return nil
	}
	return s.provider.configured.Load()
}

func isNull(v tftypes.Value) bool { return v.IsKnown() && v.IsNull() }

func stringOf(v tftypes.Value) (string, bool) {
	var s string
	if !v.IsKnown() || v.IsNull() || v.As(&s) != nil {
		return "", false
	}
	return s, true
}

func int64Of(v tftypes.Value) (int64, bool) {
	n := new(big.Float)
	if !v.IsKnown() || v.IsNull() || v.As(&n) != nil {
		return 0, false
	}
	i, acc := n.Int64()
	return i, acc == big.Exact
}
