package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The local-file attributes (output_sha256, output_size) keep their recorded value while the file is where
// state says and intact. Read clears the hash when the file went missing or changed; then, or when
// output_path changes, both become unknown, which plans an in-place update that downloads the same image
// again.
type fileOutcome int

const (
	fileKeep fileOutcome = iota
	fileNull
	fileUnknown
)

func planLocalFile(ctx context.Context, plan tfsdk.Plan, state tfsdk.State, stateValueNull bool) fileOutcome {
	if state.Raw.IsNull() || plan.Raw.IsNull() {
		return fileUnknown
	}
	var planned, prior, priorSHA types.String
	plan.GetAttribute(ctx, path.Root("output_path"), &planned)
	state.GetAttribute(ctx, path.Root("output_path"), &prior)
	state.GetAttribute(ctx, path.Root("output_sha256"), &priorSHA)
	switch {
	case planned.IsNull():
		return fileNull
	case planned.IsUnknown() || !planned.Equal(prior) || stateValueNull || priorSHA.IsNull():
		return fileUnknown
	default:
		return fileKeep
	}
}

type localFileStringModifier struct{}

func localFileString() planmodifier.String { return localFileStringModifier{} }

func (localFileStringModifier) Description(context.Context) string {
	return "keeps the recorded value while the local file is unchanged"
}

func (m localFileStringModifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (localFileStringModifier) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	switch planLocalFile(ctx, req.Plan, req.State, req.StateValue.IsNull()) {
	case fileKeep:
		resp.PlanValue = req.StateValue
	case fileNull:
		resp.PlanValue = basetypes.NewStringNull()
	case fileUnknown:
		resp.PlanValue = basetypes.NewStringUnknown()
	}
}

type localFileInt64Modifier struct{}

func localFileInt64() planmodifier.Int64 { return localFileInt64Modifier{} }

func (localFileInt64Modifier) Description(context.Context) string {
	return "keeps the recorded value while the local file is unchanged"
}

func (m localFileInt64Modifier) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (localFileInt64Modifier) PlanModifyInt64(ctx context.Context, req planmodifier.Int64Request, resp *planmodifier.Int64Response) {
	switch planLocalFile(ctx, req.Plan, req.State, req.StateValue.IsNull()) {
	case fileKeep:
		resp.PlanValue = req.StateValue
	case fileNull:
		resp.PlanValue = basetypes.NewInt64Null()
	case fileUnknown:
		resp.PlanValue = basetypes.NewInt64Unknown()
	}
}
