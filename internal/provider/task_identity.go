package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// A paid resource is identified by its KIE task id: Terraform and OpenTofu 1.12 and later store it as the
// resource's identity and import by it (import { identity = { task_id = "..." } }). Every path that
// writes state sets it, as the framework requires; older CLIs simply do not ask for it.

var (
	_ resource.ResourceWithIdentity = (*fluxImageResource)(nil)
	_ resource.ResourceWithIdentity = (*imageResource)(nil)
)

// setIdentity records the task id as the identity, when the framework asks for one.
func setIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity, taskID types.String, diags *diag.Diagnostics) {
	if identity == nil || taskID.IsNull() || taskID.IsUnknown() {
		return
	}
	diags.Append(identity.SetAttribute(ctx, path.Root("task_id"), taskID)...)
}

// identityOf builds the protocol identity of a stored object for the fast path, which answers without
// the framework; nil when the state has no task id.
func identityOf(attrs map[string]tftypes.Value) *tfprotov6.ResourceIdentityData {
	id, ok := stringOf(attrs["task_id"])
	if !ok {
		return nil
	}
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"task_id": tftypes.String}}
	dv, err := tfprotov6.NewDynamicValue(typ, tftypes.NewValue(typ, map[string]tftypes.Value{"task_id": tftypes.NewValue(tftypes.String, id)}))
	if err != nil {
		return nil
	}
	return &tfprotov6.ResourceIdentityData{IdentityData: &dv}
}
