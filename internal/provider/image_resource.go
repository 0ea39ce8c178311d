package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/catalog"
	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localfile"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

const imageTypeName = "kie_image"

// marketWireToAttribute points KIE's validation messages (which name input.<field> or model) at the
// attribute to fix; a refused prompt is in input too.
var marketWireToAttribute = [][2]string{{"input", "input"}, {"model", "model"}, {"callBackUrl", "callback_url"}, {"prompt", "input"}}

var (
	_ resource.Resource                   = (*imageResource)(nil)
	_ resource.ResourceWithConfigure      = (*imageResource)(nil)
	_ resource.ResourceWithImportState    = (*imageResource)(nil)
	_ resource.ResourceWithValidateConfig = (*imageResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*imageResource)(nil)
	_ resource.ResourceWithIdentity       = (*imageResource)(nil)
)

type imageResource struct {
	taskResource
}

func newImageResource() resource.Resource {
	return &imageResource{taskResource{typeName: imageTypeName}}
}

func (r *imageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_image"
}

func (r *imageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = imageSchema(ctx)
}

// ValidateConfig checks input against the catalogue of KIE's Market models, before anything is paid.
func (r *imageResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m imageModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Model.IsUnknown() || m.Model.IsNull() {
		return
	}
	checkImageInput(&m, &resp.Diagnostics)
}

// checkImageInput validates input for a known model (and warns of an unknown one), counting the
// uploaded files in the model's image field.
func checkImageInput(m *imageModel, diags *diag.Diagnostics) {
	id := m.Model.ValueString()
	model, known := catalog.Lookup(id)
	files := m.InputImageFiles
	if !known {
		diags.AddAttributeWarning(path.Root("model"), "Model not in the provider's catalogue", fmt.Sprintf(
			"%q is not one of the Market image models this provider knows, so input is sent to KIE unchecked. "+
				"Check the model id and input against KIE's page for the model.", id))
		if !files.IsNull() {
			diags.AddAttributeError(path.Root("input_image_files"), "input_image_files needs a known model", fmt.Sprintf(
				"The provider does not know which input field of %q takes images. Upload the files yourself and "+
					"put their URLs into input, or use a model from the catalogue.", id))
		}
		return
	}
	input, err := m.inputJSON(catalog.Unknown)
	if errors.Is(err, errInputUnknown) {
		return
	}
	if err != nil {
		diags.AddAttributeError(path.Root("input"), "Invalid input", err.Error())
		return
	}
	if !files.IsNull() {
		placeholders := make([]string, len(files.Elements()))
		for i := range placeholders {
			placeholders[i] = fmt.Sprintf("https://upload.invalid/input-image-%d", i+1)
		}
		if model.ImageField == "" {
			diags.AddAttributeError(path.Root("input_image_files"), "Model takes no input image",
				fmt.Sprintf("%s takes no image, so input_image_files cannot be used with it.", id))
			return
		}
		if with, err := catalog.WithImages(model, input, placeholders); err == nil {
			input = with
		} else if !files.IsUnknown() {
			diags.AddAttributeError(path.Root("input_image_files"), "Input images do not fit the model", err.Error())
			return
		}
	}
	for _, p := range catalog.Validate(model, input) {
		detail := strings.TrimSuffix(p.Detail, ".") + ". See " + model.DocURL + "."
		if p.Severity == catalog.SeverityWarning {
			diags.AddAttributeWarning(path.Root("input"), p.Path+": "+p.Summary, detail)
		} else {
			diags.AddAttributeError(path.Root("input"), p.Path+": "+p.Summary, detail)
		}
	}
}

func (r *imageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan imageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	d, ok := requireProviderData(r.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	ctx = d.logContext(ctx)
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	if plan.InputImageSHA256s.IsUnknown() {
		// The paths were unknown at plan time: hash now, so an identical earlier task can be found.
		plan.InputImageSHA256s = hashImageFiles(plan.InputImageFiles, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	taskID, resumed, err := d.tasks.Obtain(ctx, plan.resumeKey(), d.applyWalk(), func(ctx context.Context) (string, error) {
		return r.startTask(ctx, d, &plan, &resp.Diagnostics)
	})
	if err != nil {
		addCreateError(&resp.Diagnostics, err, marketWireToAttribute)
		return
	}
	if resumed {
		d.client.Notify(taskID)
	}
	plan.ID, plan.TaskID = types.StringValue(taskID), types.StringValue(taskID)
	plan.State = types.StringValue(string(kie.MarketWaiting))
	plan.clearUnknownComputed()
	if err := r.finishTask(ctx, d, &plan, resumed); err != nil {
		addTaskError(&resp.Diagnostics, err)
		if paidtask.IsLost(err) {
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	setIdentity(ctx, resp.Identity, plan.TaskID, &resp.Diagnostics)
}

// startTask sends the one paid request: uploads the input files (free), puts them into the model's
// image field, and creates the task.
func (r *imageResource) startTask(ctx context.Context, d *providerData, plan *imageModel, diags *diag.Diagnostics) (string, error) {
	input, err := plan.inputJSON(nil)
	if err != nil {
		return "", err
	}
	if files := stringList(plan.InputImageFiles); len(files) > 0 {
		model, _ := catalog.Lookup(plan.Model.ValueString())
		want := stringList(plan.InputImageSHA256s)
		urls := make([]string, len(files))
		for i, p := range files {
			sum, err := inspectImageFile("input_image_files", p)
			if err == nil && i < len(want) && want[i] != sum {
				err = fmt.Errorf("input_image_files %q changed after the plan was made; plan again", p)
			}
			if err != nil {
				return "", &inputFileError{err: err}
			}
			up, err := d.client.UploadFile(ctx, p, inputImageUploadPath)
			if err != nil {
				return "", &inputFileError{err: fmt.Errorf("input_image_files %q: %w", p, err)}
			}
			urls[i] = up.DownloadURL
		}
		plan.InputImageUploadURLs = stringListValue(urls)
		if input, err = catalog.WithImages(model, input, urls); err != nil {
			return "", &inputFileError{err: err}
		}
	}
	body, err := encodeJSON(input)
	if err != nil {
		return "", fmt.Errorf("encoding input: %w", err)
	}
	cb, err := d.callbackURL(ctx, plan.CallbackURL.ValueString(), diags)
	if err != nil {
		return "", err
	}
	return d.client.CreateMarketTask(ctx, kie.MarketRequest{Model: plan.Model.ValueString(), CallBackURL: cb, Input: body})
}

// finishTask waits for the task and downloads every result to its path.
func (r *imageResource) finishTask(ctx context.Context, d *providerData, m *imageModel, resumed bool) error {
	var diags diag.Diagnostics
	err := paidtask.Finish(ctx, d.tasks, m.TaskID.ValueString(), resumed, paidtask.Steps[*kie.MarketTask]{
		Wait: func(ctx context.Context, taskID string) (*kie.MarketTask, error) {
			task, err := d.client.WaitMarketTask(ctx, taskID)
			if task != nil {
				m.applyTask(ctx, task, &diags)
			}
			return task, err
		},
		Store: func(ctx context.Context, task *kie.MarketTask) error {
			return r.storeResults(ctx, d, m, task, nil)
		},
	})
	if diags.HasError() && err == nil {
		return fmt.Errorf("recording task %s: %v", m.TaskID.ValueString(), diags)
	}
	return err
}

// storeResults makes every result's file what state says, downloading only what is missing or
// altered; prior holds the results recorded before (an update), whose intact files are kept or moved.
func (r *imageResource) storeResults(ctx context.Context, d *providerData, m *imageModel, task *kie.MarketTask, prior []imageResult) error {
	rs := m.results(ctx)
	if m.OutputPath.IsNull() {
		for i := range rs {
			rs[i].Path, rs[i].SHA256, rs[i].Size = types.StringNull(), types.StringNull(), types.Int64Null()
		}
		var diags diag.Diagnostics
		m.setResults(ctx, rs, &diags)
		return nil
	}
	if len(task.ResultURLs) == 0 {
		return errors.New("KIE reported success but no result URL")
	}
	for i := range rs {
		dest := resultPath(m.OutputPath.ValueString(), i)
		var old *imageResult
		if i < len(prior) && !prior[i].Path.IsNull() && !prior[i].SHA256.IsNull() &&
			localstate.Intact(prior[i].Path.ValueString(), prior[i].SHA256.ValueString(), prior[i].Size.ValueInt64()) {
			old = &prior[i]
		}
		switch {
		case old != nil && old.Path.ValueString() == dest:
			rs[i].Path, rs[i].SHA256, rs[i].Size = old.Path, old.SHA256, old.Size
			continue
		case old != nil:
			if err := localfile.CopyAtomic(old.Path.ValueString(), dest); err != nil {
				return fmt.Errorf("result %d: %w", i+1, err)
			}
			rs[i].Path, rs[i].SHA256, rs[i].Size = types.StringValue(dest), old.SHA256, old.Size
			continue
		}
		res, err := d.client.DownloadMarketResult(ctx, task, i, dest)
		if err != nil {
			return fmt.Errorf("output_path %q, result %d: %w", dest, i+1, err)
		}
		rs[i].Path, rs[i].SHA256, rs[i].Size = types.StringValue(dest), types.StringValue(res.SHA256), types.Int64Value(res.Size)
	}
	var diags diag.Diagnostics
	m.setResults(ctx, rs, &diags)
	if diags.HasError() {
		return fmt.Errorf("%v", diags)
	}
	return nil
}

// hashImageFiles hashes every input file; unknown while any path is.
func hashImageFiles(files types.List, diags *diag.Diagnostics) types.List {
	if files.IsNull() {
		return types.ListNull(types.StringType)
	}
	if files.IsUnknown() {
		return types.ListUnknown(types.StringType)
	}
	var sums []string
	for i, v := range files.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			return types.ListUnknown(types.StringType)
		}
		sum, err := inspectImageFile("input_image_files", s.ValueString())
		if err != nil {
			diags.AddAttributeError(path.Root("input_image_files").AtListIndex(i), "Invalid input image", err.Error())
			continue
		}
		sums = append(sums, sum)
	}
	return stringListValue(sums)
}

// ModifyPlan hashes the input files (a changed file pays for a new task, a bad one fails the plan),
// and makes the plan tell the truth about money and files: a new task is announced as finishing an
// earlier one or counted against max_new_images; an imported task still running plans an update that
// finishes it; one that failed plans a replacement; missing or moved files plan a free update.
func (r *imageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var plan imageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sums := hashImageFiles(plan.InputImageFiles, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("input_image_sha256s"), sums)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var prior types.String
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("task_id"), &prior)...)
	}
	walk := r.data.planWalk(req.ClientCapabilities.DeferralAllowed, prior.ValueString())
	r.data.planOutputFiles(walk, plan.plannedFiles(ctx), &fileWriter{
		who: plan.writerName(), config: configID(req.Config.Raw.String()), prior: !req.State.Raw.IsNull(),
	}, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() {
		plan.InputImageSHA256s = sums
		planNewTask(r.data, walk, plan.resumeKey(), req.Config.Raw.IsFullyKnown(), &resp.Diagnostics)
		return
	}
	var state imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !state.InputImageSHA256s.Equal(sums) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("input_image_sha256s"))
	}
	if plan.OutputPath.Equal(state.OutputPath) && state.settled(ctx) {
		return
	}
	switch {
	case state.failed():
		detail := "KIE gave no message"
		if msg := state.FailMessage.ValueString(); msg != "" {
			detail = "KIE's message: " + msg
		}
		resp.Diagnostics.AddWarning("The task in state failed: this plan pays for a new one", fmt.Sprintf(
			"Task %s ended with state fail (%s). This plan replaces it with a new paid task. To keep the failed "+
				"task instead, remove the resource from the configuration or from state.", state.TaskID.ValueString(), detail))
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("state"), types.StringUnknown())...)
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("state"))
	case state.State.ValueString() != string(kie.MarketSuccess):
		// An imported task still running: the update waits for it and downloads, without a new task.
		if !r.data.requireAPIKey("Finishing task "+state.TaskID.ValueString()+", still running at KIE,", &resp.Diagnostics) {
			return
		}
		for _, name := range []string{"state", "fail_code", "fail_message"} {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), types.StringUnknown())...)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("results"), types.ListUnknown(imageResultType))...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("cost_time"), types.Int64Unknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("credits_consumed"), types.Float64Unknown())...)
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("completed_at"), timetypes.NewRFC3339Unknown())...)
	default:
		// Files to restore or move: the update downloads or copies them, at no cost.
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("results"), types.ListUnknown(imageResultType))...)
	}
}

func (r *imageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	setIdentity(ctx, resp.Identity, state.TaskID, &resp.Diagnostics)
	r.data.noteUnfinishedImage(ctx, &state)
	if state.State.IsNull() {
		// Only an import leaves the state unknown: fetch the task once to fill in everything else.
		d, ok := requireProviderData(r.data, &resp.Diagnostics)
		if !ok {
			return
		}
		if !d.requireAPIKey("Importing task "+state.TaskID.ValueString(), &resp.Diagnostics) {
			return
		}
		ctx = d.logContext(ctx)
		task, err := d.client.GetMarketTask(ctx, state.TaskID.ValueString())
		if err != nil {
			resp.Diagnostics.AddError("Reading the task failed", fmt.Sprintf("task %s: %s", state.TaskID.ValueString(), err))
			return
		}
		state.fillFromImport(ctx, task, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}
	// A finished task costs no API call to refresh: only the local files are checked.
	rs := state.results(ctx)
	drifted := false
	for i, res := range rs {
		if !res.Path.IsNull() && !res.SHA256.IsNull() && !r.data.fileIntact(res.Path.ValueString(), res.SHA256.ValueString(), res.Size.ValueInt64()) {
			tflog.Info(ctx, "local result file is missing or changed; planning a download of the same image",
				map[string]any{"task_id": state.TaskID.ValueString(), "path": res.Path.ValueString()})
			rs[i].SHA256, drifted = types.StringNull(), true
		}
	}
	if drifted {
		state.setResults(ctx, rs, &resp.Diagnostics)
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("results"), state.Results)...)
	}
}

// Update only finishes or moves the same task's results: every argument that shapes them replaces.
func (r *imageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state imageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	d, ok := requireProviderData(r.data, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || !ok {
		return
	}
	ctx = d.logContext(ctx)
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Update, defaultUpdateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	plan.copyTaskFrom(&state)
	if state.State.ValueString() != string(kie.MarketSuccess) {
		if err := r.finishTask(ctx, d, &plan, false); err != nil {
			addTaskError(&resp.Diagnostics, err)
		}
	} else {
		task := &kie.MarketTask{TaskID: state.TaskID.ValueString(), State: kie.MarketSuccess}
		for _, res := range state.results(ctx) {
			task.ResultURLs = append(task.ResultURLs, res.URL.ValueString())
		}
		prior := state.results(ctx)
		if err := r.storeResults(ctx, d, &plan, task, prior); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("output_path"), "Restoring the result files failed",
				fmt.Sprintf("task %s: %s", state.TaskID.ValueString(), err))
			return
		}
		d.tasks.Forget(ctx, state.TaskID.ValueString())
		removeMovedResults(ctx, prior, plan.results(ctx), &resp.Diagnostics)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	setIdentity(ctx, resp.Identity, plan.TaskID, &resp.Diagnostics)
}

// copyTaskFrom carries over what the task produced; the plan holds copies of most of it already.
func (m *imageModel) copyTaskFrom(s *imageModel) {
	m.ID, m.TaskID, m.State = s.ID, s.TaskID, s.State
	m.InputImageSHA256s, m.InputImageUploadURLs = s.InputImageSHA256s, s.InputImageUploadURLs
	m.Results, m.FailCode, m.FailMessage = s.Results, s.FailCode, s.FailMessage
	m.CostTime, m.CreditsConsumed = s.CostTime, s.CreditsConsumed
	m.CreatedAt, m.CompletedAt = s.CreatedAt, s.CompletedAt
}

// removeMovedResults deletes the files the provider wrote at paths no longer used.
func removeMovedResults(ctx context.Context, prior, now []imageResult, diags *diag.Diagnostics) {
	kept := map[string]bool{}
	for _, r := range now {
		kept[r.Path.ValueString()] = true
	}
	for _, r := range prior {
		if p := r.Path.ValueString(); p != "" && !kept[p] && !r.SHA256.IsNull() {
			removeOwnedFile(ctx, diags, p, r.SHA256.ValueString(), r.Size.ValueInt64())
		}
	}
}

// Delete removes the local files the provider wrote; KIE has no delete.
func (r *imageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state imageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	// A replaced unfinished object hands its task on to the create that follows.
	r.data.noteUnfinishedImage(ctx, &state)
	removeMovedResults(ctx, state.results(ctx), nil, &resp.Diagnostics)
}
