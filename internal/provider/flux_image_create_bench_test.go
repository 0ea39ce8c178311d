package provider

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

// What the provider spends on one new image, from the plan to the stored file, as Terraform asks for
// it (PlanResourceChange, then ApplyResourceChange) against a kie-mock that finishes tasks at once.
// make bench's large apply measures the same work among Terraform's; this isolates it for pprof:
//
//	go test -run '^$' -bench CreateImage -cpuprofile cpu.out ./internal/provider/

// countingWriter counts the bytes of log output, which go to Terraform over the provider's stderr.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

type createFixture struct {
	srv    tfprotov6.ProviderServer
	typ    tftypes.Object
	attrs  map[string]*tfprotov6.SchemaAttribute
	out    string
	logs   *countingWriter
	logCtx func(context.Context) context.Context
}

func newCreateFixture(b *testing.B) *createFixture {
	b.Helper()
	mock, err := kiemock.Start(kiemock.Options{ImageScale: 0.1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mock.Close() })
	b.Setenv(localstate.EnvDir, b.TempDir())
	// The loggers write to stderr, as the provider's go to Terraform: a pipe here, whose bytes are counted.
	logs := &countingWriter{}
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(logs, r)
		close(copied)
	}()
	stderr := os.Stderr
	os.Stderr = w
	b.Cleanup(func() {
		os.Stderr = stderr
		_ = w.Close()
		<-copied
	})
	f := &createFixture{srv: NewServer("bench", "none")(), out: b.TempDir(), logs: logs,
		// As tf6server sets up every call's loggers when Terraform runs the provider without TF_LOG:
		// SDK and provider loggers at their default level (trace), JSON to stderr.
		logCtx: func(ctx context.Context) context.Context {
			ctx = tfsdklog.NewRootSDKLogger(ctx, tfsdklog.WithLevelFromEnv("TF_LOG_SDK"))
			ctx = tfsdklog.NewSubsystem(ctx, "proto", tfsdklog.WithLevelFromEnv("TF_LOG_SDK_PROTO"))
			return tfsdklog.NewRootProviderLogger(ctx)
		}}
	ctx := f.logCtx(context.Background())
	schemas, err := f.srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	rs := schemas.ResourceSchemas[fluxImageTypeName]
	f.typ = rs.ValueType().(tftypes.Object)
	f.attrs = map[string]*tfprotov6.SchemaAttribute{}
	for _, a := range rs.Block.Attributes {
		f.attrs[a.Name] = a
	}
	ptyp := schemas.Provider.ValueType().(tftypes.Object)
	pcfg := map[string]tftypes.Value{}
	for name, at := range ptyp.AttributeTypes {
		pcfg[name] = tftypes.NewValue(at, nil)
	}
	pcfg["base_url"] = str(mock.URL())
	pcfg["api_key"] = str(kiemock.DefaultAPIKey)
	pcfg["poll_initial_delay"] = str("1ms")
	pcfg["poll_min_interval"] = str("1ms")
	pcfg["poll_max_interval"] = str("10ms")
	pcfg["create_rate_limit"] = num(1_000_000)
	pcfg["status_query_rate"] = tftypes.NewValue(tftypes.Number, 1_000_000)
	cfg, err := tfprotov6.NewDynamicValue(ptyp, tftypes.NewValue(ptyp, pcfg))
	if err != nil {
		b.Fatal(err)
	}
	resp, err := f.srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &cfg, TerraformVersion: "1.11.4"})
	if err != nil || len(resp.Diagnostics) > 0 {
		b.Fatalf("configure: %v %v", err, resp.Diagnostics)
	}
	return f
}

// create plans and applies image i as Terraform does for a new resource of bench/provider/main.tf.
func (f *createFixture) create(b *testing.B, i int) {
	ctx := f.logCtx(context.Background())
	config, proposed := map[string]tftypes.Value{}, map[string]tftypes.Value{}
	for name, at := range f.typ.AttributeTypes {
		config[name] = tftypes.NewValue(at, nil)
		proposed[name] = config[name]
		if a := f.attrs[name]; a != nil && a.Computed {
			proposed[name] = tftypes.NewValue(at, tftypes.UnknownValue)
		}
	}
	for name, v := range map[string]tftypes.Value{
		"prompt":        str(fmt.Sprintf("benchmark image %d: a lighthouse on a cliff at dusk, oil painting", i)),
		"output_format": str("png"),
		"output_path":   str(filepath.Join(f.out, fmt.Sprintf("img-%d.png", i))),
	} {
		config[name], proposed[name] = v, v
	}
	dv := func(m map[string]tftypes.Value) *tfprotov6.DynamicValue {
		v, err := tfprotov6.NewDynamicValue(f.typ, tftypes.NewValue(f.typ, m))
		if err != nil {
			b.Fatal(err)
		}
		return &v
	}
	null, err := tfprotov6.NewDynamicValue(f.typ, tftypes.NewValue(f.typ, nil))
	if err != nil {
		b.Fatal(err)
	}
	prior := &null
	plan, err := f.srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: fluxImageTypeName,
		PriorState: prior, ProposedNewState: dv(proposed), Config: dv(config)})
	if err != nil || len(plan.Diagnostics) > 0 {
		b.Fatalf("plan: %v %v", err, plan.Diagnostics)
	}
	apply, err := f.srv.ApplyResourceChange(ctx, &tfprotov6.ApplyResourceChangeRequest{TypeName: fluxImageTypeName,
		PriorState: prior, PlannedState: plan.PlannedState, Config: dv(config), PlannedPrivate: plan.PlannedPrivate})
	if err != nil || len(apply.Diagnostics) > 0 {
		b.Fatalf("apply: %v %v", err, apply.Diagnostics)
	}
}

func BenchmarkCreateImage(b *testing.B) {
	f := newCreateFixture(b)
	i := 0
	for b.Loop() {
		f.create(b, i)
		i++
	}
	b.ReportMetric(float64(f.logs.n.Load())/float64(i), "log-bytes/op")
}
