package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// The unchanged-image shortcut must give exactly the framework's answer whenever it answers at all.
// These tests send finished-image states, configurations and proposed states to both and compare; they
// also pin down which cases the shortcut must take and which it must hand to the framework.

type fastPathFixture struct {
	t       testing.TB
	fast    *protocolServer
	fw      tfprotov6.ProviderServer
	schema  schema.Schema
	file    string
	fileSHA string
	size    int64
}

func newFastPathFixture(t testing.TB) *fastPathFixture {
	t.Helper()
	ctx := context.Background()
	shortcut, err := newUnchangedImageShortcut(ctx)
	if err != nil {
		t.Fatalf("the shortcut is off for the current schema: %v", err)
	}
	fw := providerserver.NewProtocol6(New("test", "none")())()
	if _, err := fw.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{}); err != nil {
		t.Fatal(err)
	}
	fast := &protocolServer{ProviderServer: fw, shortcut: shortcut}
	content := []byte("\x89PNG not really, but the provider only hashes it")
	file := filepath.Join(t.TempDir(), "img.png")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	return &fastPathFixture{t: t, fast: fast, fw: fw, schema: fluxImageSchema(ctx), file: file,
		fileSHA: hex.EncodeToString(sum[:]), size: int64(len(content))}
}

func str(s string) tftypes.Value   { return tftypes.NewValue(tftypes.String, s) }
func num(n int64) tftypes.Value    { return tftypes.NewValue(tftypes.Number, n) }
func boolean(b bool) tftypes.Value { return tftypes.NewValue(tftypes.Bool, b) }

// finishedState is the state Create leaves for a generated image downloaded to the fixture's file.
func (f *fastPathFixture) finishedState() map[string]tftypes.Value {
	return map[string]tftypes.Value{
		"id": str("fluxkontext_1"), "task_id": str("fluxkontext_1"), "status": str("SUCCESS"),
		"prompt": str("a lighthouse"), "model": str(modelPro), "aspect_ratio": str(defaultAspectRatio),
		"output_format": str("png"), "prompt_upsampling": boolean(false), "safety_tolerance": num(defaultTolerance),
		"enable_translation": boolean(true), "upload_cn": boolean(false),
		"result_image_url": str("https://example.test/r.png"), "origin_image_url": str("https://example.test/o.png"),
		"created_at": str("2026-11-25T10:00:00Z"), "completed_at": str("2026-11-25T10:00:20Z"),
		"output_path": str(f.file), "output_sha256": str(f.fileSHA), "output_size": num(f.size),
	}
}

// configOf is the configuration that produced a state: the arguments the user wrote (here: prompt,
// output_format, output_path), everything else left out.
func configOf(state map[string]tftypes.Value) map[string]tftypes.Value {
	c := map[string]tftypes.Value{}
	for _, name := range []string{"prompt", "output_format", "output_path"} {
		c[name] = state[name]
	}
	return c
}

// object fills the attributes not given with nulls.
func (f *fastPathFixture) object(attrs map[string]tftypes.Value) tftypes.Value {
	typ := f.fast.shortcut.objType
	full := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		if v, ok := attrs[name]; ok {
			full[name] = v
		} else {
			full[name] = tftypes.NewValue(at, nil)
		}
	}
	return tftypes.NewValue(typ, full)
}

// proposed is Terraform's proposed new state: configured values where the configuration has them,
// the prior value for computed attributes the configuration leaves null.
func (f *fastPathFixture) proposed(prior, config map[string]tftypes.Value) map[string]tftypes.Value {
	out := map[string]tftypes.Value{}
	for name := range f.fast.shortcut.objType.AttributeTypes {
		cv, set := config[name]
		set = set && !(cv.IsKnown() && cv.IsNull())
		a, isAttr := f.schema.Attributes[name]
		switch {
		case set:
			out[name] = cv
		case isAttr && a.IsComputed():
			if v, ok := prior[name]; ok {
				out[name] = v
			}
		}
	}
	return out
}

func (f *fastPathFixture) dv(v tftypes.Value) *tfprotov6.DynamicValue {
	d, err := tfprotov6.NewDynamicValue(f.fast.shortcut.objType, v)
	if err != nil {
		f.t.Fatal(err)
	}
	return &d
}

func (f *fastPathFixture) planRequest(prior, config map[string]tftypes.Value, private []byte) *tfprotov6.PlanResourceChangeRequest {
	return &tfprotov6.PlanResourceChangeRequest{
		TypeName:         fluxImageTypeName,
		PriorState:       f.dv(f.object(prior)),
		ProposedNewState: f.dv(f.object(f.proposed(prior, config))),
		Config:           f.dv(f.object(config)),
		PriorPrivate:     private,
	}
}

// comparePlans sends req to both servers and fails unless they answer alike; it reports whether the
// shortcut answered by itself.
func (f *fastPathFixture) comparePlans(req *tfprotov6.PlanResourceChangeRequest) bool {
	f.t.Helper()
	took := len(req.PriorPrivate) == 0 && f.fast.shortcut.planIsNoop(req)
	got, want := ask(f.t, req, f.fast.PlanResourceChange, f.fw.PlanResourceChange)
	f.sameValue("planned state", got.PlannedState, want.PlannedState)
	if g, w := pathNames(got.RequiresReplace), pathNames(want.RequiresReplace); !slices.Equal(g, w) {
		f.t.Errorf("requires replace: shortcut %v, framework %v", g, w)
	}
	f.sameRest(got.PlannedPrivate, want.PlannedPrivate, got.Diagnostics, want.Diagnostics)
	return took
}

// compareReads is comparePlans for a Read of state.
func (f *fastPathFixture) compareReads(state map[string]tftypes.Value, private []byte) bool {
	f.t.Helper()
	req := &tfprotov6.ReadResourceRequest{TypeName: fluxImageTypeName, CurrentState: f.dv(f.object(state)), Private: private}
	attrs, decoded := f.fast.shortcut.decode(req.CurrentState)
	took := len(private) == 0 && decoded && f.fast.shortcut.fileIntact(attrs, nil)
	got, want := ask(f.t, req, f.fast.ReadResource, f.fw.ReadResource)
	f.sameValue("new state", got.NewState, want.NewState)
	f.sameRest(got.Private, want.Private, got.Diagnostics, want.Diagnostics)
	return took
}

// ask sends req to the shortcut and to the framework alone.
func ask[Req, Resp any](t testing.TB, req Req, fast, fw func(context.Context, Req) (Resp, error)) (got, want Resp) {
	t.Helper()
	got, err := fast(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = fw(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	return got, want
}

// sameRest compares the private state and the diagnostics of two answers.
func (f *fastPathFixture) sameRest(gotPrivate, wantPrivate []byte, got, want []*tfprotov6.Diagnostic) {
	f.t.Helper()
	if string(gotPrivate) != string(wantPrivate) {
		f.t.Errorf("private state: shortcut %q, framework %q", gotPrivate, wantPrivate)
	}
	if len(got) != len(want) {
		f.t.Errorf("diagnostics: shortcut %v, framework %v", got, want)
	}
}

func (f *fastPathFixture) sameValue(what string, got, want *tfprotov6.DynamicValue) {
	f.t.Helper()
	if (got == nil) != (want == nil) {
		f.t.Fatalf("%s: shortcut %v, framework %v", what, got, want)
	}
	if got == nil {
		return
	}
	g, err := got.Unmarshal(f.fast.shortcut.objType)
	if err != nil {
		f.t.Fatal(err)
	}
	w, err := want.Unmarshal(f.fast.shortcut.objType)
	if err != nil {
		f.t.Fatal(err)
	}
	if !g.Equal(w) {
		diffs, _ := g.Diff(w)
		f.t.Errorf("%s differs between shortcut and framework: %v", what, diffs)
	}
}

func pathNames(ps []*tftypes.AttributePath) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	sort.Strings(out)
	return out
}

func with(m map[string]tftypes.Value, kv ...any) map[string]tftypes.Value {
	out := maps.Clone(m)
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1].(tftypes.Value)
	}
	return out
}

type planCase struct {
	name          string
	prior, config map[string]tftypes.Value
	private       []byte
	wantFast      bool // the shortcut must answer by itself (else: must hand it to the framework)
}

func TestUnchangedImageShortcutPlan(t *testing.T) {
	f := newFastPathFixture(t)
	state := f.finishedState()
	noFile := with(state, "output_path", tftypes.NewValue(tftypes.String, nil),
		"output_sha256", tftypes.NewValue(tftypes.String, nil), "output_size", tftypes.NewValue(tftypes.Number, nil))
	timeoutsType := f.fast.shortcut.objType.AttributeTypes["timeouts"]
	timeouts := tftypes.NewValue(timeoutsType, map[string]tftypes.Value{
		"create": str("30m"), "update": tftypes.NewValue(tftypes.String, nil), "delete": tftypes.NewValue(tftypes.String, nil)})
	marker := []byte(`{"pending_task":"eyJ0YXNrX2lkIjoiZmx1eGtvbnRleHRfMSJ9"}`)

	cases := []planCase{
		{"unchanged image with a local file", state, configOf(state), nil, true},
		{"unchanged image without a local file", noFile, configOf(noFile), nil, true},
		{"defaults written out in the configuration", state,
			with(configOf(state), "aspect_ratio", str(defaultAspectRatio), "model", str(modelPro), "safety_tolerance", num(defaultTolerance)), nil, true},
		{"unchanged timeouts", with(state, "timeouts", timeouts), with(configOf(state), "timeouts", timeouts), nil, true},
		{"unchanged triggers", with(state, "triggers", tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("1")})),
			with(configOf(state), "triggers", tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("1")})), nil, true},
		{"changed prompt", state, with(configOf(state), "prompt", str("a harbour")), nil, false},
		{"prompt not known yet", state, with(configOf(state), "prompt", tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), nil, false},
		{"changed output_path", state, with(configOf(state), "output_path", str(f.file+".2")), nil, false},
		{"output_path removed", state, with(configOf(state), "output_path", tftypes.NewValue(tftypes.String, nil)), nil, false},
		{"file drifted (Read cleared its hash)", with(state, "output_sha256", tftypes.NewValue(tftypes.String, nil),
			"output_size", tftypes.NewValue(tftypes.Number, nil)), configOf(state), nil, false},
		{"a default the prior state does not have", with(state, "aspect_ratio", str("1:1")), configOf(state), nil, false},
		{"changed triggers", state, with(configOf(state), "triggers",
			tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("2")})), nil, false},
		{"input_image_file to hash", state, with(configOf(state), "input_image_file", str(f.file)), nil, false},
		{"pending task marker", state, configOf(state), marker, false},
		{"hash without output_path", with(noFile, "output_sha256", str(f.fileSHA)), configOf(noFile), nil, false},
	}
	// An edit from a local file: its content is hashed at plan time, so even an unchanged configuration
	// is the framework's to plan (a changed file replaces the image).
	input := filepath.Join(t.TempDir(), "in.png")
	writeTestImage(t, input, "png", 1)
	inputSHA, err := inspectInputImage(input)
	if err != nil {
		t.Fatal(err)
	}
	edit := with(state, "input_image_file", str(input), "input_image_sha256", str(inputSHA))
	editConfig := with(configOf(state), "input_image_file", str(input))
	cases = append(cases,
		planCase{"edit, input file unchanged", edit, editConfig, nil, false},
		planCase{"edit, input file changed since", with(edit, "input_image_sha256", str(f.fileSHA)), editConfig, nil, false},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.t = t
			if took := f.comparePlans(f.planRequest(tc.prior, tc.config, tc.private)); took != tc.wantFast {
				t.Errorf("shortcut took the request: %v, want %v", took, tc.wantFast)
			}
		})
	}
}

// TestUnchangedImageShortcutPlanEveryArgument changes each configurable attribute in turn: the shortcut must hand
// every such plan to the framework (or agree with it), whatever attributes the schema grows.
func TestUnchangedImageShortcutPlanEveryArgument(t *testing.T) {
	f := newFastPathFixture(t)
	state := f.finishedState()
	for name, a := range f.schema.Attributes {
		if !a.IsRequired() && !a.IsOptional() {
			continue
		}
		var changed tftypes.Value
		switch typ := f.fast.shortcut.objType.AttributeTypes[name]; {
		case typ.Is(tftypes.String):
			changed = str("changed")
		case typ.Is(tftypes.Bool):
			changed = boolean(state[name].IsNull() || !mustBool(t, state[name]))
		case typ.Is(tftypes.Number):
			changed = num(1)
		case typ.Is(tftypes.Map{ElementType: tftypes.String}):
			changed = tftypes.NewValue(typ, map[string]tftypes.Value{"k": str("v")})
		default:
			t.Fatalf("attribute %s: no changed value for type %s", name, typ)
		}
		if name == "input_image_file" || name == "output_path" {
			changed = str(f.file + ".other")
		}
		t.Run(name, func(t *testing.T) {
			f.t = t
			if f.comparePlans(f.planRequest(state, with(configOf(state), name, changed), nil)) {
				t.Errorf("shortcut took a plan that changes %s", name)
			}
		})
	}
}

func mustBool(t *testing.T, v tftypes.Value) bool {
	var b bool
	if v.IsNull() {
		return false
	}
	if err := v.As(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestUnchangedImageShortcutRead(t *testing.T) {
	f := newFastPathFixture(t)
	state := f.finishedState()
	null := tftypes.NewValue(tftypes.String, nil)

	if !f.compareReads(state, nil) {
		t.Error("shortcut did not take the read of an intact image")
	}
	if !f.compareReads(with(state, "output_path", null, "output_sha256", null, "output_size", tftypes.NewValue(tftypes.Number, nil)), nil) {
		t.Error("shortcut did not take the read of an image without a local file")
	}
	for name, st := range map[string]map[string]tftypes.Value{
		"other size":           with(state, "output_size", num(f.size+1)),
		"other hash":           with(state, "output_sha256", str(hex.EncodeToString(make([]byte, 32)))),
		"missing file":         with(state, "output_path", str(f.file+".missing")),
		"size not recorded":    with(state, "output_size", tftypes.NewValue(tftypes.Number, nil)),
		"imported (no status)": with(state, "status", null),
	} {
		t.Run(name, func(t *testing.T) {
			f.t = t
			if f.compareReads(st, nil) {
				t.Error("shortcut took the read of a drifted file")
			}
		})
	}
	t.Run("pending task marker", func(t *testing.T) {
		f.t = t
		if f.compareReads(state, []byte(`{"pending_task":"e30="}`)) {
			t.Error("shortcut took the read of a pending task")
		}
	})
	t.Run("file changed on disk", func(t *testing.T) {
		f.t = t
		if err := os.WriteFile(f.file, []byte("\x89PNG not really, but the provider only HASHES it"), 0o600); err != nil {
			t.Fatal(err)
		}
		if f.compareReads(state, nil) {
			t.Error("shortcut took the read of a file whose content changed")
		}
	})
}

func TestUnchangedImageShortcutDefaultsCoverSchema(t *testing.T) {
	shortcut, err := newUnchangedImageShortcut(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range shortcut.defaults {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"aspect_ratio", "enable_translation", "model", "output_format", "prompt_upsampling", "safety_tolerance", "upload_cn"}
	if !slices.Equal(names, want) {
		t.Errorf("defaults found: %v, want %v", names, want)
	}
}
