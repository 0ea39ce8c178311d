package provider

import (
	"bytes"
	"context"
	"fmt"
	"math/big"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"
)

// The protocol server main serves: the framework's, with three parts added at the protocol level.
//
//   - The resume hook (always on): Terraform hands every stored object to UpgradeResourceState on
//     every plan and apply, refreshing or not, tainted or not. An unfinished paid task seen there is
//     recorded in the resume ledger, so the create that replaces it finishes it instead of paying again.
//   - The unchanged-image shortcut (optional): a finished kie_flux_image whose configuration and local
//     file are unchanged is refreshed and planned from the raw values, without the framework's
//     per-attribute machinery. Anything else goes to the framework. Off with KIE_UNCHANGED_SHORTCUT=off.
//   - Request contexts (always on): each per-resource call runs in a context the framework cannot keep
//     alive after the call, with the loggers off when no TF_LOG* setting asks for them.

const fluxImageTypeName = "kie_flux_image"

// envShortcut turns the unchanged-image shortcut off ("off" or "0"), to check it against the framework.
const envShortcut = "KIE_UNCHANGED_SHORTCUT"

// NewServer returns the protocol server of one provider instance.
func NewServer(version, commit string) func() tfprotov6.ProviderServer {
	return func() tfprotov6.ProviderServer {
		s := &protocolServer{}
		p := &kieProvider{version: version, commit: commit, onConfigure: s.configured.Store}
		s.ProviderServer = providerserver.NewProtocol6(p)()
		if v := os.Getenv(envShortcut); v != "off" && v != "0" {
			var err error
			if s.shortcut, err = newUnchangedImageShortcut(context.Background()); err != nil {
				tflog.Debug(context.Background(), "unchanged images are planned by the framework", map[string]any{"reason": err.Error()})
			}
		}
		return newRequestContexts(s) // see Request contexts below
	}
}

// protocolServer is the framework's server with the resume hook and the unchanged-image shortcut.
type protocolServer struct {
	tfprotov6.ProviderServer
	// configured is what the provider's Configure produced; nil before.
	configured atomic.Pointer[providerData]
	// shortcut is nil when it is off.
	shortcut *unchangedImageShortcut
}

// --- The resume hook ---

// UpgradeResourceState records an unfinished task of any stored image, then lets the framework upgrade
// the object as usual.
func (s *protocolServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if d := s.configured.Load(); d != nil && req.RawState != nil && len(req.RawState.JSON) > 0 {
		ctx = d.logContext(ctx)
		var err error
		switch req.TypeName {
		case fluxImageTypeName:
			var m fluxImageModel
			if err = decodeStored(ctx, fluxImageSchema(ctx), req.RawState.JSON, &m); err == nil {
				d.noteUnfinished(ctx, &m)
			}
		case imageTypeName:
			var m imageModel
			if err = decodeStored(ctx, imageSchema(ctx), req.RawState.JSON, &m); err == nil {
				d.noteUnfinishedImage(ctx, &m)
			}
		}
		if err != nil {
			tflog.Debug(ctx, "stored object not understood; not checked for an unfinished task",
				map[string]any{"type": req.TypeName, "error": err.Error()})
		}
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

// decodeStored reads a stored object's JSON through the resource's own schema into its model.
func decodeStored(ctx context.Context, sch schema.Schema, raw []byte, model any) error {
	v, err := tftypes.ValueFromJSONWithOpts(raw, sch.Type().TerraformType(ctx), tftypes.ValueFromJSONOpts{IgnoreUndefinedAttributes: true})
	if err != nil {
		return err
	}
	if diags := (tfsdk.State{Schema: sch, Raw: v}).Get(ctx, model); diags.HasError() {
		return fmt.Errorf("%v", diags)
	}
	return nil
}

// --- The unchanged-image shortcut ---

// unchangedImageShortcut answers ReadResource and PlanResourceChange of a settled kie_flux_image (see
// fluxImageSettled) whose arguments and local file are unchanged, which is what every image of a large
// configuration asks on every plan. protocol_test.go holds it to the framework's answers.
type unchangedImageShortcut struct {
	objType tftypes.Object
	// defaults are the values the framework plans for an attribute left out of the configuration.
	defaults map[string]tftypes.Value
}

func newUnchangedImageShortcut(ctx context.Context) (*unchangedImageShortcut, error) {
	s := fluxImageSchema(ctx)
	objType, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return nil, fmt.Errorf("schema type is %T, not an object", s.Type().TerraformType(ctx))
	}
	defs, err := schemaDefaults(ctx, s)
	if err != nil {
		return nil, err
	}
	return &unchangedImageShortcut{objType: objType, defaults: defs}, nil
}

func (s *protocolServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	if s.shortcut != nil && req.TypeName == fluxImageTypeName && len(req.Private) == 0 {
		if attrs, ok := s.shortcut.decode(req.CurrentState); ok && s.shortcut.fileIntact(attrs, s.configured.Load()) {
			tflog.Trace(ctx, "kie_flux_image unchanged: refreshed without the framework")
			identity := req.CurrentIdentity
			if identity == nil {
				identity = identityOf(attrs)
			}
			return &tfprotov6.ReadResourceResponse{NewState: req.CurrentState, Private: req.Private, NewIdentity: identity}, nil
		}
	}
	return s.ProviderServer.ReadResource(ctx, req)
}

func (s *protocolServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if s.shortcut != nil && req.TypeName == fluxImageTypeName && len(req.PriorPrivate) == 0 && s.shortcut.planIsNoop(req) {
		if diags := s.shortcut.claimFile(req, s.configured.Load()); len(diags) > 0 {
			return &tfprotov6.PlanResourceChangeResponse{Diagnostics: diags}, nil
		}
		tflog.Trace(ctx, "kie_flux_image unchanged: planned without the framework")
		return &tfprotov6.PlanResourceChangeResponse{PlannedState: req.ProposedNewState, PlannedPrivate: req.PriorPrivate,
			PlannedIdentity: req.PriorIdentity}, nil
	}
	return s.ProviderServer.PlanResourceChange(ctx, req)
}

// fileIntact reports whether Read would return a stored object as it is: a settled image whose
// local file, if any, still has the recorded size and hash.
func (u *unchangedImageShortcut) fileIntact(attrs map[string]tftypes.Value, d *providerData) bool {
	if !u.settled(attrs) {
		return false
	}
	p, hasPath := stringOf(attrs["output_path"])
	if !hasPath {
		return true
	}
	sum, _ := stringOf(attrs["output_sha256"])
	size, ok := int64Of(attrs["output_size"])
	return ok && d.fileIntact(p, sum, size)
}

// planIsNoop reports whether the framework would plan no change: Terraform's proposed state equals the
// prior state, no default would overwrite a prior value, and the image is settled.
func (u *unchangedImageShortcut) planIsNoop(req *tfprotov6.PlanResourceChangeRequest) bool {
	if req.PriorState == nil || req.ProposedNewState == nil || req.Config == nil {
		return false
	}
	prior, ok := u.unmarshal(req.PriorState)
	if !ok || prior.IsNull() {
		return false
	}
	// Terraform encodes both the same way, so equal bytes are equal values; otherwise compare values.
	if len(req.PriorState.MsgPack) == 0 || !bytes.Equal(req.ProposedNewState.MsgPack, req.PriorState.MsgPack) {
		proposed, ok := u.unmarshal(req.ProposedNewState)
		if !ok || !proposed.Equal(prior) {
			return false
		}
	}
	config, ok := u.decode(req.Config)
	if !ok {
		return false
	}
	var attrs map[string]tftypes.Value
	if err := prior.As(&attrs); err != nil || !u.settled(attrs) || !isNull(config["input_image_file"]) {
		return false
	}
	for name, def := range u.defaults {
		if isNull(config[name]) && !attrs[name].Equal(def) {
			return false
		}
	}
	return true
}

// settled applies the resource's own rule (fluxImageSettled) to raw values.
func (u *unchangedImageShortcut) settled(attrs map[string]tftypes.Value) bool {
	status, _ := stringOf(attrs["status"])
	return fluxImageSettled(status, !isNull(attrs["input_image_sha256"]),
		!isNull(attrs["output_path"]), !isNull(attrs["output_sha256"]), !isNull(attrs["output_size"]))
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
			return nil, fmt.Errorf("attribute %s: default not supported by the shortcut", name)
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

func (u *unchangedImageShortcut) unmarshal(dv *tfprotov6.DynamicValue) (tftypes.Value, bool) {
	if dv == nil {
		return tftypes.Value{}, false
	}
	v, err := dv.Unmarshal(u.objType)
	if err != nil || !v.IsFullyKnown() {
		return tftypes.Value{}, false
	}
	return v, true
}

// decode unmarshals a known, non-null object into its attributes.
func (u *unchangedImageShortcut) decode(dv *tfprotov6.DynamicValue) (map[string]tftypes.Value, bool) {
	v, ok := u.unmarshal(dv)
	if !ok || v.IsNull() {
		return nil, false
	}
	var attrs map[string]tftypes.Value
	if err := v.As(&attrs); err != nil {
		return nil, false
	}
	return attrs, true
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

// --- Request contexts ---

// requestContexts runs each per-resource call in a context the framework cannot keep alive (it keeps
// every call's cancel function, and so its ~40 KB of loggers: 225 MB after an apply of 5,000 images),
// with the loggers off when nobody reads them (the framework's trace lines were 20-30% of our CPU).
type requestContexts struct {
	tfprotov6.ProviderServer
	quiet bool
}

func withRequestContexts(s tfprotov6.ProviderServer, quiet bool) *requestContexts {
	return &requestContexts{ProviderServer: s, quiet: quiet}
}

// providerLogsRead reports whether anyone reads the provider's log lines: Terraform and OpenTofu show
// them only with TF_LOG or TF_LOG_PROVIDER set, and acceptance tests write them with TF_ACC_LOG_PATH
// or TF_LOG_PATH_MASK. Any variable of those families set counts, so a doubt keeps the logs.
func providerLogsRead(environ []string) bool {
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if value != "" && (strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "TOFU_LOG") ||
			strings.HasPrefix(name, "TF_ACC_LOG")) {
			return true
		}
	}
	return false
}

func newRequestContexts(s tfprotov6.ProviderServer) *requestContexts {
	return withRequestContexts(s, !providerLogsRead(os.Environ()))
}

// callContext is one call's context until release, then an ended context without values. Whatever
// keeps it after the call (the framework's list of cancel functions) keeps only this.
type callContext struct {
	inner atomic.Pointer[context.Context]
	// live is the call's context until release, for what must outlive the call (durableContext).
	live atomic.Pointer[context.Context]
}

// endedContext is what a released call context answers with: cancelled, no values.
var endedContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

type callContextKey struct{}

func (c *callContext) ctx() context.Context                    { return *c.inner.Load() }
func (c *callContext) Deadline() (deadline time.Time, ok bool) { return c.ctx().Deadline() }
func (c *callContext) Done() <-chan struct{}                   { return c.ctx().Done() }
func (c *callContext) Err() error                              { return c.ctx().Err() }

func (c *callContext) Value(key any) any {
	if key == (callContextKey{}) {
		return c
	}
	return c.ctx().Value(key)
}

func (c *callContext) release() {
	c.inner.Store(&endedContext)
	c.live.Store(nil)
}

// durableContext is the context of the call ctx belongs to, for work that starts during the call,
// outlives it and logs through its loggers (the callback receiver); ctx itself when it belongs to no
// call, or to one that has ended.
func durableContext(ctx context.Context) context.Context {
	if c, ok := ctx.Value(callContextKey{}).(*callContext); ok {
		if live := c.live.Load(); live != nil {
			return *live
		}
	}
	return ctx
}

func (s *requestContexts) begin(ctx context.Context) *callContext {
	if s.quiet {
		// The framework's loggers derive from the SDK's root logger, the provider's own from its root.
		ctx = tfsdklog.NewRootSDKLogger(ctx, tfsdklog.WithLevel(hclog.Off))
		ctx = tfsdklog.NewRootProviderLogger(ctx, tfsdklog.WithLevel(hclog.Off))
	}
	c := &callContext{}
	c.inner.Store(&ctx)
	c.live.Store(&ctx)
	return c
}

// call runs one call of the server below in a call context.
func call[Req, Resp any](s *requestContexts, ctx context.Context, req Req, f func(context.Context, Req) (Resp, error)) (Resp, error) {
	c := s.begin(ctx)
	defer c.release()
	return f(c, req)
}

// The calls Terraform makes once per resource or data source; the others are few whatever the size.

func (s *requestContexts) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ValidateResourceConfig)
}

func (s *requestContexts) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	return call(s, ctx, req, s.ProviderServer.UpgradeResourceState)
}

func (s *requestContexts) UpgradeResourceIdentity(ctx context.Context, req *tfprotov6.UpgradeResourceIdentityRequest) (*tfprotov6.UpgradeResourceIdentityResponse, error) {
	return call(s, ctx, req, s.ProviderServer.UpgradeResourceIdentity)
}

func (s *requestContexts) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ReadResource)
}

func (s *requestContexts) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	return call(s, ctx, req, s.ProviderServer.PlanResourceChange)
}

func (s *requestContexts) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ApplyResourceChange)
}

func (s *requestContexts) ImportResourceState(ctx context.Context, req *tfprotov6.ImportResourceStateRequest) (*tfprotov6.ImportResourceStateResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ImportResourceState)
}

func (s *requestContexts) MoveResourceState(ctx context.Context, req *tfprotov6.MoveResourceStateRequest) (*tfprotov6.MoveResourceStateResponse, error) {
	return call(s, ctx, req, s.ProviderServer.MoveResourceState)
}

func (s *requestContexts) ValidateDataResourceConfig(ctx context.Context, req *tfprotov6.ValidateDataResourceConfigRequest) (*tfprotov6.ValidateDataResourceConfigResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ValidateDataResourceConfig)
}

func (s *requestContexts) ReadDataSource(ctx context.Context, req *tfprotov6.ReadDataSourceRequest) (*tfprotov6.ReadDataSourceResponse, error) {
	return call(s, ctx, req, s.ProviderServer.ReadDataSource)
}
