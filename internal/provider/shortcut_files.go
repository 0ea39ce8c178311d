package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// claimFile records the file of an unchanged kie_flux_image the shortcut plans, as the framework's
// ModifyPlan would (planFile), so that a new instance writing the same file is refused either way.
// The diagnostics are the framework's, in protocol form.
func (u *unchangedImageShortcut) claimFile(req *tfprotov6.PlanResourceChangeRequest, d *providerData) []*tfprotov6.Diagnostic {
	attrs, ok := u.decode(req.PriorState)
	if !ok || d == nil {
		return nil
	}
	out, hasPath := stringOf(attrs["output_path"])
	config, ok := u.unmarshal(req.Config)
	if !hasPath || !ok {
		return nil
	}
	prompt, _ := stringOf(attrs["prompt"])
	model, _ := stringOf(attrs["model"])
	applying := req.ClientCapabilities != nil && req.ClientCapabilities.DeferralAllowed
	var diags diag.Diagnostics
	taskID, _ := stringOf(attrs["task_id"])
	d.planOutputFiles(d.planWalk(applying, taskID), []string{out}, &fileWriter{
		who:    describeWriter(fluxImageTypeName, "prompt", prompt, "model", model),
		config: configID(config.String()),
		prior:  true,
	}, &diags)
	var out6 []*tfprotov6.Diagnostic
	for _, e := range diags {
		out6 = append(out6, &tfprotov6.Diagnostic{
			Severity:  tfprotov6.DiagnosticSeverityError,
			Summary:   e.Summary(),
			Detail:    e.Detail(),
			Attribute: tftypes.NewAttributePath().WithAttributeName("output_path"),
		})
	}
	return out6
}
