package provider

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// pinnedAttr is what users' states and plans depend on for one attribute of kie_flux_image.
type pinnedAttr struct {
	// def is the default as Terraform shows it ("16:9", true, 2), "" for none.
	def string
	// replaces: changing the value forces a new (paid) image through the attribute's own plan modifiers.
	replaces bool
}

// pinnedFluxImage pins every attribute of kie_flux_image. Each existing state stores the default of
// every argument its configuration left unset; changing a default therefore changes what the plan of
// each of those resources compares against, and where the attribute forces replacement, re-buys the
// image. Change this table only together with a state upgrader (or on purpose, with a CHANGELOG entry).
//
// The defaults are literals, the values users' states hold, never the schema's own constants: a
// table that reads modelPro would follow a changed modelPro and never fail.
var pinnedFluxImage = map[string]pinnedAttr{
	// Arguments that choose what is generated: each change is a new paid image.
	"prompt":             {replaces: true},
	"model":              {def: "flux-kontext-pro", replaces: true},
	"aspect_ratio":       {def: "16:9", replaces: true},
	"input_image":        {replaces: true},
	"output_format":      {def: "jpeg", replaces: true},
	"prompt_upsampling":  {def: "false", replaces: true},
	"safety_tolerance":   {def: "2", replaces: true},
	"enable_translation": {def: "true", replaces: true},
	"watermark":          {replaces: true},
	"upload_cn":          {def: "false", replaces: true},
	"triggers":           {replaces: true},

	// Arguments that do not regenerate by themselves: input_image_file replaces through the resource's
	// ModifyPlan when the file's content (input_image_sha256) changes, not when its path does;
	// callback_url only matters when a task is created; output_path moves or downloads the same image.
	"input_image_file": {},
	"callback_url":     {},
	"output_path":      {},

	// Computed attributes.
	"id":                     {},
	"task_id":                {},
	"input_image_sha256":     {},
	"input_image_upload_url": {},
	"status":                 {},
	"result_image_url":       {},
	"origin_image_url":       {},
	"created_at":             {},
	"completed_at":           {},
	"output_sha256":          {},
	"output_size":            {},

	// The timeouts block: durations of this run only, never a new image.
	"timeouts.create": {},
	"timeouts.update": {},
	"timeouts.delete": {},
}

// pinnedImage pins every attribute of kie_image, as pinnedFluxImage does for kie_flux_image. It has no
// defaults today: model and input are required, and KIE applies its own defaults inside input. Giving an
// argument that forces replacement a default would re-buy every existing image (their states hold null).
var pinnedImage = map[string]pinnedAttr{
	// Arguments that choose what is generated: each change is a new paid task.
	"model":    {replaces: true},
	"input":    {replaces: true},
	"triggers": {replaces: true},

	// input_image_files replaces through the resource's ModifyPlan when a file's content
	// (input_image_sha256s) changes, not when a path does; callback_url only matters when a task is
	// created; output_path moves or downloads the same results.
	"input_image_files": {},
	"callback_url":      {},
	"output_path":       {},

	// Computed attributes.
	"id":                      {},
	"task_id":                 {},
	"input_image_sha256s":     {},
	"input_image_upload_urls": {},
	"state":                   {},
	"results":                 {},
	"fail_code":               {},
	"fail_message":            {},
	"cost_time":               {},
	"credits_consumed":        {},
	"created_at":              {},
	"completed_at":            {},

	// The timeouts block: durations of this run only, never a new image.
	"timeouts.create": {},
	"timeouts.update": {},
	"timeouts.delete": {},
}

func TestFluxImageDefaultsAndReplacementsArePinned(t *testing.T) {
	ctx := context.Background()
	checkPinnedSchema(t, "kie_flux_image", "pinnedFluxImage", fluxImageSchema(ctx), pinnedFluxImage)
}

func TestImageDefaultsAndReplacementsArePinned(t *testing.T) {
	ctx := context.Background()
	checkPinnedSchema(t, "kie_image", "pinnedImage", imageSchema(ctx), pinnedImage)
}

// costsMoney is how an attribute's description says that changing it pays for a new task.
var costsMoney = regexp.MustCompile(`new paid task|pays for a new task`)

// checkPinnedSchema compares the schema of resource with its table of pinned attributes and reports each
// difference with what it costs the resource's users.
func checkPinnedSchema(t *testing.T, resource, table string, s schema.Schema, pinned map[string]pinnedAttr) {
	t.Helper()
	got, err := describeSchema(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}

	for _, name := range sortedKeys(got) {
		g := got[name]
		want, ok := pinned[name]
		if !ok {
			msg := fmt.Sprintf("new %s attribute %s (default %s, changing it forces a new image: %v) is not in %s: "+
				"decide its default and whether changing it re-buys the image, and add it to the table",
				resource, name, showDef(g.def), g.replaces, table)
			if g.def != "" && g.replaces {
				msg += fmt.Sprintf("; as it is, every existing image holds null for %s, so the next plan of every user "+
					"compares null with %s and re-buys every image: drop the default or the replacement, or add a state "+
					"upgrader that fills in %s", name, showDef(g.def), showDef(g.def))
			}
			t.Error(msg)
			continue
		}
		if g.def != want.def {
			t.Errorf("%s: %s", resource, defaultChangeCost(name, want, g))
		}
		if g.replaces != want.replaces {
			if g.replaces {
				t.Errorf("%s: changing %s now forces a new image: every user who edits %s pays for a new image where "+
					"today the change is applied in place; if that is intended, update %s and say so in the "+
					"CHANGELOG and the attribute's description", resource, name, name, table)
			} else {
				t.Errorf("%s: changing %s no longer forces a new image: an edited %s would be stored without "+
					"generating again, so images would stop matching their configuration; if that is intended, "+
					"update %s and say so in the CHANGELOG", resource, name, name, table)
			}
		}
	}
	for _, name := range sortedKeys(pinned) {
		if _, ok := got[name]; !ok {
			t.Errorf("%s attribute %s is gone from the schema: every configuration that sets it fails, and every "+
				"state that holds it needs a state upgrader to drop it; if that is intended, remove it from %s",
				resource, name, table)
		}
	}

	// The documentation tells users which arguments cost money.
	for name, a := range s.Attributes {
		if got[name].replaces && !costsMoney.MatchString(a.GetMarkdownDescription()) {
			t.Errorf("%s: changing %s forces a new image, but its description does not say so (\"a new paid task\")",
				resource, name)
		}
	}
}

// defaultChangeCost says what a changed default costs users.
func defaultChangeCost(name string, was, now pinnedAttr) string {
	var change string
	switch {
	case was.def == "":
		change = fmt.Sprintf("giving %s a default (%s)", name, showDef(now.def))
	case now.def == "":
		change = fmt.Sprintf("removing the default of %s (%s)", name, showDef(was.def))
	default:
		change = fmt.Sprintf("changing the default of %s from %s to %s", name, showDef(was.def), showDef(now.def))
	}
	if !now.replaces && !was.replaces {
		return change + " changes the plan of every image whose configuration leaves " + name +
			" unset: keep the default or add a state upgrader"
	}
	return change + " re-buys every image of every user who left " + name +
		" unset, on their next apply: keep the default or add a state upgrader"
}

func showDef(d string) string {
	if d == "" {
		return "none"
	}
	return fmt.Sprintf("%q", d)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// describeSchema finds each attribute's default (by calling it) and whether changing its value
// requires replacement (by running its plan modifiers on a prior and a planned value that differ, as
// the framework does during plan). Nested attributes of blocks are named block.attribute.
func describeSchema(ctx context.Context, s schema.Schema) (map[string]pinnedAttr, error) {
	objType, ok := s.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return nil, fmt.Errorf("schema type %T is not an object", s.Type().TerraformType(ctx))
	}
	// Non-null resource objects, so that RequiresReplace sees an update rather than a create or destroy.
	nulls := map[string]tftypes.Value{}
	for name, typ := range objType.AttributeTypes {
		nulls[name] = tftypes.NewValue(typ, nil)
	}
	raw := tftypes.NewValue(objType, nulls)
	env := modifierEnv{
		state:  tfsdk.State{Schema: s, Raw: raw},
		plan:   tfsdk.Plan{Schema: s, Raw: raw},
		config: tfsdk.Config{Schema: s, Raw: raw},
	}

	out := map[string]pinnedAttr{}
	add := func(name string, a schema.Attribute, p path.Path) error {
		d, err := describeAttr(ctx, env, a, p)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out[name] = d
		return nil
	}
	for name, a := range s.Attributes {
		if err := add(name, a, path.Root(name)); err != nil {
			return nil, err
		}
	}
	for bname, b := range s.Blocks {
		nb, ok := b.(schema.SingleNestedBlock)
		if !ok {
			return nil, fmt.Errorf("block %s: kind %T not known to this test; extend describeSchema", bname, b)
		}
		if len(nb.PlanModifiers) > 0 {
			return nil, fmt.Errorf("block %s has plan modifiers; extend describeSchema", bname)
		}
		for name, a := range nb.Attributes {
			if err := add(bname+"."+name, a, path.Root(bname).AtName(name)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

type modifierEnv struct {
	state  tfsdk.State
	plan   tfsdk.Plan
	config tfsdk.Config
}

func describeAttr(ctx context.Context, env modifierEnv, a schema.Attribute, p path.Path) (pinnedAttr, error) {
	var d pinnedAttr
	var def attr.Value
	switch a := a.(type) {
	case schema.StringAttribute:
		if a.Default != nil {
			var resp defaults.StringResponse
			a.Default.DefaultString(ctx, defaults.StringRequest{Path: p}, &resp)
			def = resp.PlanValue
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.StringRequest{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: types.StringValue("before"), PlanValue: types.StringValue("after"), ConfigValue: types.StringValue("after")}
			resp := planmodifier.StringResponse{PlanValue: req.PlanValue}
			m.PlanModifyString(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.BoolAttribute:
		if a.Default != nil {
			var resp defaults.BoolResponse
			a.Default.DefaultBool(ctx, defaults.BoolRequest{Path: p}, &resp)
			def = resp.PlanValue
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.BoolRequest{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: types.BoolValue(false), PlanValue: types.BoolValue(true), ConfigValue: types.BoolValue(true)}
			resp := planmodifier.BoolResponse{PlanValue: req.PlanValue}
			m.PlanModifyBool(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.Int64Attribute:
		if a.Default != nil {
			var resp defaults.Int64Response
			a.Default.DefaultInt64(ctx, defaults.Int64Request{Path: p}, &resp)
			def = resp.PlanValue
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.Int64Request{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: types.Int64Value(1), PlanValue: types.Int64Value(2), ConfigValue: types.Int64Value(2)}
			resp := planmodifier.Int64Response{PlanValue: req.PlanValue}
			m.PlanModifyInt64(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.Float64Attribute:
		if a.Default != nil {
			var resp defaults.Float64Response
			a.Default.DefaultFloat64(ctx, defaults.Float64Request{Path: p}, &resp)
			def = resp.PlanValue
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.Float64Request{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: types.Float64Value(1), PlanValue: types.Float64Value(2), ConfigValue: types.Float64Value(2)}
			resp := planmodifier.Float64Response{PlanValue: req.PlanValue}
			m.PlanModifyFloat64(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.DynamicAttribute:
		if a.Default != nil {
			var resp defaults.DynamicResponse
			a.Default.DefaultDynamic(ctx, defaults.DynamicRequest{Path: p}, &resp)
			def = resp.PlanValue
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.DynamicRequest{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue:  types.DynamicValue(types.StringValue("before")),
				PlanValue:   types.DynamicValue(types.StringValue("after")),
				ConfigValue: types.DynamicValue(types.StringValue("after"))}
			resp := planmodifier.DynamicResponse{PlanValue: req.PlanValue}
			m.PlanModifyDynamic(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.ListAttribute:
		if a.Default != nil {
			return d, fmt.Errorf("list defaults are not known to this test; extend describeAttr")
		}
		// An empty list before, a list of one (null) element after: a change for any element type.
		elem, err := a.ElementType.ValueFromTerraform(ctx, tftypes.NewValue(a.ElementType.TerraformType(ctx), nil))
		if err != nil {
			return d, err
		}
		before := types.ListValueMust(a.ElementType, []attr.Value{})
		after := types.ListValueMust(a.ElementType, []attr.Value{elem})
		for _, m := range a.PlanModifiers {
			req := planmodifier.ListRequest{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: before, PlanValue: after, ConfigValue: after}
			resp := planmodifier.ListResponse{PlanValue: req.PlanValue}
			m.PlanModifyList(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	case schema.MapAttribute:
		if a.Default != nil {
			return d, fmt.Errorf("map defaults are not known to this test; extend describeAttr")
		}
		mapOf := func(v string) types.Map {
			return types.MapValueMust(a.ElementType, map[string]attr.Value{"k": types.StringValue(v)})
		}
		if a.ElementType != types.StringType {
			return d, fmt.Errorf("map of %s not known to this test; extend describeAttr", a.ElementType)
		}
		for _, m := range a.PlanModifiers {
			req := planmodifier.MapRequest{Path: p, State: env.state, Plan: env.plan, Config: env.config,
				StateValue: mapOf("before"), PlanValue: mapOf("after"), ConfigValue: mapOf("after")}
			resp := planmodifier.MapResponse{PlanValue: req.PlanValue}
			m.PlanModifyMap(ctx, req, &resp)
			d.replaces = d.replaces || resp.RequiresReplace
		}
	default:
		return d, fmt.Errorf("attribute kind %T not known to this test; extend describeAttr", a)
	}
	if def != nil && !def.IsNull() {
		d.def = strings.Trim(def.String(), `"`)
	}
	return d, nil
}

// The check itself: a changed default, a new replacement, a new attribute and a removed one are each
// reported with what they cost.
func TestFluxImageDefaultsCostMessages(t *testing.T) {
	msg := defaultChangeCost("aspect_ratio", pinnedAttr{def: "16:9", replaces: true}, pinnedAttr{def: "1:1", replaces: true})
	want := `changing the default of aspect_ratio from "16:9" to "1:1" re-buys every image of every user who left aspect_ratio unset, on their next apply: keep the default or add a state upgrader`
	if msg != want {
		t.Errorf("message:\n got %s\nwant %s", msg, want)
	}
	if msg := defaultChangeCost("watermark", pinnedAttr{replaces: true}, pinnedAttr{def: "x", replaces: true}); !strings.HasPrefix(msg, `giving watermark a default ("x") re-buys`) {
		t.Errorf("message: %s", msg)
	}

	// describeSchema sees a default and a replacement the framework would apply.
	got, err := describeSchema(context.Background(), fluxImageSchema(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if g := got["aspect_ratio"]; g.def != "16:9" || !g.replaces {
		t.Errorf("aspect_ratio described as %+v", g)
	}
	if g := got["output_path"]; g.def != "" || g.replaces {
		t.Errorf("output_path described as %+v", g)
	}
	if !slices.Contains(sortedKeys(got), "timeouts.create") {
		t.Errorf("timeouts block not described: %v", sortedKeys(got))
	}
}
