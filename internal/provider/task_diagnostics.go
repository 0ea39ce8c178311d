package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

// Diagnostics every resource that buys images shares: what became of a paid task, and why a create
// request was refused.

// inputFileError is a local input image that could not be uploaded: nothing was paid.
type inputFileError struct{ err error }

func (e *inputFileError) Error() string { return e.err.Error() }
func (e *inputFileError) Unwrap() error { return e.err }

// addTaskError explains a paid task that did not end with its results stored (a *paidtask.Error).
func addTaskError(diags *diag.Diagnostics, err error) {
	var te *paidtask.Error
	if !errors.As(err, &te) {
		diags.AddError("The task did not finish", err.Error())
		return
	}
	switch te.Kind {
	case paidtask.Failed:
		diags.AddError("Image generation failed", fmt.Sprintf(
			"%s\nNo image was produced. The failed task stays in state; the next apply starts a new generation.", te.Err))
	case paidtask.Lost:
		diags.AddError("Kept task unknown to KIE", fmt.Sprintf(
			"%s\nIt was kept from an interrupted run and can never finish; the next terraform apply starts a new generation.", te))
	case paidtask.Unreadable:
		diags.AddError("Kept task not readable with this API key", fmt.Sprintf(
			"%s\nConfigure the key of the account that owns it and apply again, or change any argument "+
				"(for example triggers) to pay for a new image instead.", te))
	default:
		summary := "Waiting for the image did not finish"
		if te.Stored {
			summary = "Downloading the image failed"
		}
		diags.AddError(summary, fmt.Sprintf("Task %s was accepted by KIE (and is paid for) but did not complete here: %s\n"+
			"Run terraform apply again to finish this same task without a new generation, as long as its arguments stay the same.", te.TaskID, te.Err))
	}
}

// addCreateError explains a create request that did not lead to a task; wire maps the API's field
// names, as its validation messages use them, to the resource's attributes.
func addCreateError(diags *diag.Diagnostics, err error, wire [][2]string) {
	var uncertain *kie.UncertainCreateError
	var input *inputFileError
	switch {
	case errors.As(err, &input):
		diags.AddAttributeError(path.Root("input_image_file"), "Uploading the input image failed",
			fmt.Sprintf("%s. No generation was started.", input.err))
	case errors.Is(err, kie.ErrMissingAPIKey):
		diags.AddError("Missing KIE API key",
			"Set api_key in the kie provider block or the KIE_API_KEY environment variable. No task was created.")
	case errors.As(err, &uncertain):
		diags.AddError("Generation request outcome unknown", fmt.Sprintf("%s\n\n"+
			"Such a request is never retried, so you are never charged twice. Check your KIE account's task "+
			"history before applying again: the next apply starts a new generation.", err))
	case errors.Is(err, paidtask.ErrSpendLimit):
		diags.AddError("Spend guard: max_new_images reached", err.Error())
	case kie.IsUnauthorized(err):
		diags.AddError("KIE rejected the API key", fmt.Sprintf("%s\nCheck api_key or KIE_API_KEY. No task was created.", err))
	case kie.IsInsufficientCredits(err):
		diags.AddError("Insufficient KIE credits", fmt.Sprintf("%s\nTop up the account and apply again. No task was created.", err))
	case kie.IsValidation(err):
		for _, pair := range wire {
			if name, attr := pair[0], pair[1]; strings.Contains(err.Error(), name) {
				diags.AddAttributeError(path.Root(attr), "KIE rejected "+attr, fmt.Sprintf("%s: %s. No task was created.", attr, err))
				return
			}
		}
		diags.AddError("KIE rejected the generation request", fmt.Sprintf("%s. No task was created.", err))
	case kie.IsRefusedForNow(err):
		diags.AddError("KIE refused the generation request for now", fmt.Sprintf("%s\nNo task was created and nothing was "+
			"charged. Apply again later; if other runs share the account, give this resource a longer create "+
			"timeout or split the account between the runs (create_rate_limit, status_query_rate).", err))
	case kie.IsUsageLimited(err):
		diags.AddError("KIE refused the API key's usage", fmt.Sprintf("%s\nNo task was created.", err))
	case kie.IsFeatureDisabled(err):
		diags.AddError("KIE has switched this model off", fmt.Sprintf("%s\nNo task was created. Use another model, "+
			"or apply again once KIE enables it.", err))
	case apiCode(err) == 501:
		// A definite refusal, not a server fault: the request was answered and no task id given.
		diags.AddError("KIE could not create the task", fmt.Sprintf("%s\nNo task was created.", err))
	default:
		diags.AddError("Starting the generation failed", err.Error())
	}
}

// apiCode is the code of an API answer in err; 0 when there is none.
func apiCode(err error) int {
	var e *kie.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// planNewTask is the plan of a new paid image in walk: it announces finishing an earlier task, or
// counts a new generation against max_new_images (known says whether the configuration is fully
// known, so the key is complete).
func planNewTask(d *providerData, walk *planWalk, key string, known bool, diags *diag.Diagnostics) {
	if d == nil || walk == nil {
		return // unconfigured (validation): the apply-time guard still holds
	}
	if !d.requireAPIKey("Creating this image (a paid generation, or finishing an earlier task)", diags) {
		return
	}
	id, err := d.tasks.PlanNew(key, known, &walk.spend)
	switch {
	case err != nil:
		diags.AddError("Spend guard: max_new_images exceeded by this plan", err.Error())
	case id != "":
		diags.AddWarning("Finishing an earlier task instead of paying again", fmt.Sprintf(
			"KIE accepted task %s for these same arguments in an earlier run that did not complete. This apply "+
				"finishes that task instead of starting a new paid generation. To pay for a new image instead, "+
				"change any argument, for example triggers.", id))
	}
}

// callbackURL is the callBackUrl a new task is created with: the provider's own receiver when one is
// configured (started on first use), else the resource's callback_url.
func (d *providerData) callbackURL(ctx context.Context, configured string, diags *diag.Diagnostics) (string, error) {
	if d.receiver == nil {
		return configured, nil
	}
	url, err := d.receiver.start(ctx)
	if err != nil {
		return "", fmt.Errorf("starting the callback receiver: %w", err)
	}
	if configured != "" {
		diags.AddAttributeWarning(path.Root("callback_url"), "callback_url replaced",
			"The provider's callback_receiver is configured, so KIE calls it instead of callback_url.")
	}
	return url, nil
}
