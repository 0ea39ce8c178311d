package provider

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"
)

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
