package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// taskResource is the glue every resource that buys images shares: the provider data, the identity
// (the KIE task id; Terraform 1.12 and later import by it) and import by task id.
type taskResource struct {
	data     *providerData
	typeName string
}

func (r *taskResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T", req.ProviderData))
		return
	}
	r.data = data
}

func (r *taskResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"task_id": identityschema.StringAttribute{RequiredForImport: true, Description: "The KIE task id."},
	}}
}

// ImportState takes the task id from `terraform import` / an import block's id, or from an import
// block's identity.
func (r *taskResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughWithIdentity(ctx, path.Root("task_id"), path.Root("task_id"), req, resp)
	if resp.Diagnostics.HasError() {
		return
	}
	var taskID types.String
	resp.Diagnostics.Append(resp.State.GetAttribute(ctx, path.Root("task_id"), &taskID)...)
	if taskID.IsNull() || taskID.ValueString() == "" {
		resp.Diagnostics.AddError("Missing task id", fmt.Sprintf("Import a %s by its KIE task id.", r.typeName))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), taskID)...)
	setIdentity(ctx, resp.Identity, taskID, &resp.Diagnostics)
}

// withTimeout bounds ctx by a timeouts block's value for one operation (or def); ok is false when the
// block's value is invalid.
func withTimeout(ctx context.Context, get func(context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	def time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc, bool) {
	d, dd := get(ctx, def)
	diags.Append(dd...)
	if dd.HasError() {
		return ctx, func() {}, false
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, true
}

// requireProviderData is the configured provider, or an error saying it is missing.
func requireProviderData(d *providerData, diags *diag.Diagnostics) (*providerData, bool) {
	if d == nil {
		diags.AddError("Provider not configured", "The kie provider was not configured before this resource was used.")
		return nil, false
	}
	return d, true
}
