package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localfile"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

const (
	defaultCreateTimeout = 15 * time.Minute
	defaultUpdateTimeout = 15 * time.Minute
	defaultDeleteTimeout = 2 * time.Minute

	// privateTaskError keeps KIE's error message of an imported failed task for the plan that replaces it.
	privateTaskError = "task_error"
)

var (
	_ resource.Resource                   = (*fluxImageResource)(nil)
	_ resource.ResourceWithConfigure      = (*fluxImageResource)(nil)
	_ resource.ResourceWithImportState    = (*fluxImageResource)(nil)
	_ resource.ResourceWithValidateConfig = (*fluxImageResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*fluxImageResource)(nil)
)

type fluxImageResource struct {
	taskResource
}

func newFluxImageResource() resource.Resource {
	return &fluxImageResource{taskResource{typeName: fluxImageTypeName}}
}

type fluxImageModel struct {
	ID                types.String      `tfsdk:"id"`
	TaskID            types.String      `tfsdk:"task_id"`
	Prompt            types.String      `tfsdk:"prompt"`
	Model             types.String      `tfsdk:"model"`
	AspectRatio       types.String      `tfsdk:"aspect_ratio"`
	InputImage        types.String      `tfsdk:"input_image"`
	InputImageFile    types.String      `tfsdk:"input_image_file"`
	InputImageSHA256  types.String      `tfsdk:"input_image_sha256"`
	InputImageUpload  types.String      `tfsdk:"input_image_upload_url"`
	OutputFormat      types.String      `tfsdk:"output_format"`
	PromptUpsampling  types.Bool        `tfsdk:"prompt_upsampling"`
	SafetyTolerance   types.Int64       `tfsdk:"safety_tolerance"`
	EnableTranslation types.Bool        `tfsdk:"enable_translation"`
	Watermark         types.String      `tfsdk:"watermark"`
	UploadCn          types.Bool        `tfsdk:"upload_cn"`
	CallbackURL       types.String      `tfsdk:"callback_url"`
	Triggers          types.Map         `tfsdk:"triggers"`
	OutputPath        types.String      `tfsdk:"output_path"`
	Status            types.String      `tfsdk:"status"`
	ResultImageURL    types.String      `tfsdk:"result_image_url"`
	OriginImageURL    types.String      `tfsdk:"origin_image_url"`
	CreatedAt         timetypes.RFC3339 `tfsdk:"created_at"`
	CompletedAt       timetypes.RFC3339 `tfsdk:"completed_at"`
	OutputSHA256      types.String      `tfsdk:"output_sha256"`
	OutputSize        types.Int64       `tfsdk:"output_size"`
	Timeouts          timeouts.Value    `tfsdk:"timeouts"`
}

func (r *fluxImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flux_image"
}

func (r *fluxImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = fluxImageSchema(ctx)
}

// ValidateConfig checks what single-attribute validators cannot: edits allow a lower safety_tolerance.
// The validation shortcut (flux_image_fastvalidate.go) applies the same rule through toleranceProblem;
// a new rule here must be added there too, or the shortcut would call such a configuration valid.
func (r *fluxImageResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	// Only the three attributes involved are read: this runs for every resource on every plan.
	var input, inputFile types.String
	var tolerance types.Int64
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("input_image"), &input)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("input_image_file"), &inputFile)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("safety_tolerance"), &tolerance)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if problem := toleranceProblem(!input.IsNull() || !inputFile.IsNull(), tolerance); problem != "" {
		resp.Diagnostics.AddAttributeError(path.Root("safety_tolerance"), "safety_tolerance out of range for an edit", problem)
	}
}

// toleranceProblem says what is wrong with safety_tolerance for an edit (editing) or a generation;
// "" when nothing is. Single-attribute validators already bound it for a generation.
func toleranceProblem(editing bool, tolerance types.Int64) string {
	if editing && !tolerance.IsNull() && !tolerance.IsUnknown() && tolerance.ValueInt64() > maxToleranceEdit {
		return fmt.Sprintf("safety_tolerance must be between 0 and %d when input_image or input_image_file is set (edit mode); got %d.",
			maxToleranceEdit, tolerance.ValueInt64())
	}
	return ""
}

func (r *fluxImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan fluxImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, ok := requireProviderData(r.data, &resp.Diagnostics)
	if !ok {
		return
	}
	ctx = d.logContext(ctx)
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Create, defaultCreateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	taskID, resumed, ok := r.obtainTask(ctx, d, &plan, &resp.Diagnostics)
	if !ok {
		return
	}

	// From here on the task is paid for: whatever happens, its id goes into state (and is in the ledger).
	plan.ID = types.StringValue(taskID)
	plan.TaskID = types.StringValue(taskID)
	plan.Status = types.StringValue(kie.FlagGenerating.String())
	plan.clearUnknownComputed()
	if err := r.finishTask(ctx, d, &plan, resumed); err != nil {
		addTaskError(&resp.Diagnostics, err)
		if paidtask.IsLost(err) {
			return // a resumed task KIE does not know: nothing to keep
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	setIdentity(ctx, resp.Identity, plan.TaskID, &resp.Diagnostics)
}

// finishTask waits for the model's task and downloads its image, recording the outcome in the model.
// Create and Update (of an imported task still generating) both end here.
func (r *fluxImageResource) finishTask(ctx context.Context, d *providerData, m *fluxImageModel, resumed bool) error {
	return paidtask.Finish(ctx, d.tasks, m.TaskID.ValueString(), resumed, paidtask.Steps[*kie.Task]{
		Wait: func(ctx context.Context, taskID string) (*kie.Task, error) {
			task, err := d.client.WaitTask(ctx, taskID)
			if task != nil {
				m.applyTask(task)
			}
			return task, err
		},
		Store: func(ctx context.Context, task *kie.Task) error {
			if m.OutputPath.IsNull() {
				return nil
			}
			res, err := d.client.DownloadTaskImage(ctx, task, m.OutputPath.ValueString())
			if err != nil {
				return fmt.Errorf("output_path %q: %w", m.OutputPath.ValueString(), err)
			}
			m.OutputSHA256 = types.StringValue(res.SHA256)
			m.OutputSize = types.Int64Value(res.Size)
			return nil
		},
	})
}

// obtainTask returns the task this Create waits for: an unfinished one with the same arguments, or a
// new paid generation (after starting the callback receiver and uploading a local input image).
func (r *fluxImageResource) obtainTask(ctx context.Context, d *providerData, plan *fluxImageModel, diags *diag.Diagnostics) (string, bool, bool) {
	if !plan.InputImageFile.IsNull() && plan.InputImageSHA256.IsUnknown() {
		// The path was unknown at plan time: hash now, so an identical earlier task can be found.
		if sha, err := inspectInputImage(plan.InputImageFile.ValueString()); err == nil {
			plan.InputImageSHA256 = types.StringValue(sha)
		}
	}
	taskID, resumed, err := d.tasks.Obtain(ctx, plan.resumeKey(), d.applyWalk(), func(ctx context.Context) (string, error) {
		genReq := plan.generateRequest()
		url, err := d.callbackURL(ctx, genReq.CallBackURL, diags)
		if err != nil {
			return "", err
		}
		genReq.CallBackURL = url
		if !plan.InputImageFile.IsNull() {
			url, err := r.uploadInputImage(ctx, d, plan)
			if err != nil {
				return "", &inputFileError{err: err}
			}
			genReq.InputImage = url
		}
		return d.client.Generate(ctx, genReq)
	})
	if err != nil {
		addCreateError(diags, err, fluxWireToAttribute)
		return "", false, false
	}
	if resumed {
		d.client.Notify(taskID) // it may be long finished: ask for its status at once
	}
	return taskID, resumed, true
}

// uploadInputImage checks the local input image is still what the plan hashed, then uploads it (free).
func (r *fluxImageResource) uploadInputImage(ctx context.Context, d *providerData, plan *fluxImageModel) (string, error) {
	p := plan.InputImageFile.ValueString()
	sha, err := inspectInputImage(p)
	if err != nil {
		return "", err
	}
	if !plan.InputImageSHA256.IsUnknown() && plan.InputImageSHA256.ValueString() != sha {
		return "", fmt.Errorf("input_image_file %q changed after the plan was made; plan again", p)
	}
	plan.InputImageSHA256 = types.StringValue(sha)
	up, err := d.client.UploadFile(ctx, p, inputImageUploadPath)
	if err != nil {
		return "", fmt.Errorf("input_image_file %q: %w", p, err)
	}
	plan.InputImageUpload = types.StringValue(up.DownloadURL)
	return up.DownloadURL, nil
}

// ModifyPlan hashes input_image_file at plan time (a changed file replaces the image, a bad file fails
// the plan, an unchanged one costs nothing), and makes the plan tell the truth about money: a new image
// is announced as finishing an earlier task or counted against max_new_images, an imported task that is
// still generating plans an update that finishes it, and one that failed at KIE plans a replacement.
func (r *fluxImageResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var file types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("input_image_file"), &file)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sha := types.StringNull()
	switch {
	case file.IsUnknown():
		sha = types.StringUnknown()
	case !file.IsNull():
		sum, err := inspectInputImage(file.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("input_image_file"), "Invalid input image", err.Error())
			return
		}
		sha = types.StringValue(sum)
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("input_image_sha256"), sha)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var prior types.String
	if !req.State.Raw.IsNull() {
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("task_id"), &prior)...)
	}
	walk := r.data.planWalk(req.ClientCapabilities.DeferralAllowed, prior.ValueString())
	if r.planFile(ctx, req, walk, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() {
		// Every new image, replacements and tainted objects included, is planned here with a null prior.
		r.planNewImage(ctx, req, resp, walk)
		return
	}
	var priorSHA types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("input_image_sha256"), &priorSHA)...)
	if !priorSHA.Equal(sha) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("input_image_sha256"))
	}
	var state fluxImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.settled() {
		return
	}
	switch {
	case state.failed():
		r.planFailedTask(ctx, req, resp, &state)
	case state.Status.ValueString() == kie.FlagGenerating.String():
		// An imported task still generating: the update waits for it and downloads, without a new task.
		if !r.data.requireAPIKey("Finishing task "+state.TaskID.ValueString()+", still generating at KIE,", &resp.Diagnostics) {
			return
		}
		for _, name := range []string{"status", "result_image_url", "origin_image_url"} {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root(name), types.StringUnknown())...)
		}
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("completed_at"), timetypes.NewRFC3339Unknown())...)
	}
}

// planNewImage announces a create that will finish an unfinished task, or counts a new paid generation
// against max_new_images, failing the plan before anything is paid.
func (r *fluxImageResource) planNewImage(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, walk *planWalk) {
	if r.data == nil {
		return // unconfigured (validation): the apply-time guard still holds
	}
	var m fluxImageModel
	if diags := resp.Plan.Get(ctx, &m); diags.HasError() {
		return
	}
	planNewTask(r.data, walk, m.resumeKey(), req.Config.Raw.IsFullyKnown(), &resp.Diagnostics)
}

// planFile checks the file a planned image writes: one that can be created, and no other's.
func (r *fluxImageResource) planFile(ctx context.Context, req resource.ModifyPlanRequest, walk *planWalk, diags *diag.Diagnostics) {
	var out, prompt, model types.String
	diags.Append(req.Plan.GetAttribute(ctx, path.Root("output_path"), &out)...)
	diags.Append(req.Plan.GetAttribute(ctx, path.Root("prompt"), &prompt)...)
	diags.Append(req.Plan.GetAttribute(ctx, path.Root("model"), &model)...)
	if diags.HasError() || out.IsNull() || out.IsUnknown() {
		return
	}
	r.data.planOutputFiles(walk, []string{out.ValueString()}, &fileWriter{
		who:    describeWriter(fluxImageTypeName, "prompt", prompt.ValueString(), "model", model.ValueString()),
		config: configID(req.Config.Raw.String()),
		prior:  !req.State.Raw.IsNull(),
	}, diags)
}

// planFailedTask replaces an object whose task failed at KIE (an imported failed task), saying so.
func (r *fluxImageResource) planFailedTask(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, state *fluxImageModel) {
	detail := "KIE gave no error message"
	if b, diags := req.Private.GetKey(ctx, privateTaskError); !diags.HasError() && len(b) > 0 {
		var msg string
		if json.Unmarshal(b, &msg) == nil && msg != "" {
			detail = "KIE's error: " + msg
		}
	}
	resp.Diagnostics.AddWarning("The task in state failed: this plan generates a new image", fmt.Sprintf(
		"Task %s ended with status %s (%s). It produced no image, so this plan replaces it with a new "+
			"generation (a new paid task). To keep the failed task instead, remove the resource from the "+
			"configuration or from state (terraform state rm).", state.TaskID.ValueString(), state.Status.ValueString(), detail))
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
}

func (r *fluxImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state fluxImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	setIdentity(ctx, resp.Identity, state.TaskID, &resp.Diagnostics)
	r.data.noteUnfinished(ctx, &state)
	if state.Status.IsNull() {
		// Only an import leaves the status unknown: fetch the task once to fill in everything else.
		d, ok := requireProviderData(r.data, &resp.Diagnostics)
		if !ok {
			return
		}
		if !d.requireAPIKey("Importing task "+state.TaskID.ValueString(), &resp.Diagnostics) {
			return
		}
		ctx = d.logContext(ctx)
		task, err := d.client.GetTask(ctx, state.TaskID.ValueString())
		if err != nil {
			if kie.IsNotFound(err) {
				resp.Diagnostics.AddError("Task not found",
					fmt.Sprintf("KIE has no task with id %q: %s", state.TaskID.ValueString(), err))
				return
			}
			resp.Diagnostics.AddError("Reading the task failed", fmt.Sprintf("task %s: %s", state.TaskID.ValueString(), err))
			return
		}
		state.fillFromImport(task)
		if task.SuccessFlag.Terminal() && task.SuccessFlag != kie.FlagSuccess {
			// Kept for the plan, which names KIE's error when it replaces the failed task.
			msg, _ := json.Marshal(task.ErrorMessage)
			resp.Diagnostics.Append(resp.Private.SetKey(ctx, privateTaskError, msg)...)
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}

	// A finished image costs no API call to refresh: only the local file is checked, by size then hash.
	// resp.State already holds the prior state, so it is only written when the file drifted. The size
	// stays: a null hash with a size means "written once, restore it"; both null mean the download never
	// completed (see fluxImageModel.unfinished).
	if !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() &&
		!r.data.fileIntact(state.OutputPath.ValueString(), state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64()) {
		tflog.Info(ctx, "local image file is missing or changed; planning a download of the same image",
			map[string]any{"task_id": state.TaskID.ValueString(), "output_path": state.OutputPath.ValueString()})
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("output_sha256"), types.StringNull())...)
	}
}

// Update only ever finishes or moves the same image: every generation argument forces a replacement.
// It waits for an imported task that is still generating, and downloads a missing or moved file.
func (r *fluxImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state fluxImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, plan.Timeouts.Update, defaultUpdateTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()

	// Carry over what the task produced; the plan holds those as copies of state already.
	plan.copyComputedFrom(&state)
	if state.Status.ValueString() != kie.FlagSuccess.String() {
		d, ok := requireProviderData(r.data, &resp.Diagnostics)
		if !ok {
			return
		}
		ctx = d.logContext(ctx)
		plan.OutputSHA256, plan.OutputSize = types.StringNull(), types.Int64Null()
		if err := r.finishTask(ctx, d, &plan, false); err != nil {
			addTaskError(&resp.Diagnostics, err)
		}
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		setIdentity(ctx, resp.Identity, plan.TaskID, &resp.Diagnostics)
		return
	}
	oldPath, newPath := state.OutputPath.ValueString(), plan.OutputPath.ValueString()
	oldIntact := !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() &&
		localstate.Intact(oldPath, state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())

	switch {
	case plan.OutputPath.IsNull():
		plan.OutputSHA256, plan.OutputSize = types.StringNull(), types.Int64Null()
	case oldIntact && oldPath == newPath:
		plan.OutputSHA256, plan.OutputSize = state.OutputSHA256, state.OutputSize
	case oldIntact:
		if err := localfile.CopyAtomic(oldPath, newPath); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("output_path"), "Moving the image failed",
				fmt.Sprintf("task %s: %s", state.TaskID.ValueString(), err))
			return
		}
		plan.OutputSHA256, plan.OutputSize = state.OutputSHA256, state.OutputSize
	default:
		d, ok := requireProviderData(r.data, &resp.Diagnostics)
		if !ok {
			return
		}
		ctx = d.logContext(ctx)
		res, err := d.client.DownloadTaskImage(ctx, state.task(), newPath)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("output_path"), "Downloading the image failed",
				fmt.Sprintf("task %s, output_path %q: %s", state.TaskID.ValueString(), newPath, err))
			return
		}
		plan.OutputSHA256, plan.OutputSize = types.StringValue(res.SHA256), types.Int64Value(res.Size)
		d.tasks.Forget(ctx, state.TaskID.ValueString())
	}

	if oldIntact && oldPath != newPath {
		removeOwnedFile(ctx, &resp.Diagnostics, oldPath, state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
	setIdentity(ctx, resp.Identity, plan.TaskID, &resp.Diagnostics)
}

// Delete removes the local file the provider wrote; KIE has no delete. timeouts.delete bounds it.
func (r *fluxImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state fluxImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, ok := withTimeout(ctx, state.Timeouts.Delete, defaultDeleteTimeout, &resp.Diagnostics)
	if !ok {
		return
	}
	defer cancel()
	// A replaced unfinished object hands its task on to the Create that follows (see flux_image_resume.go).
	r.data.noteUnfinished(ctx, &state)
	if !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() {
		removeOwnedFile(ctx, &resp.Diagnostics, state.OutputPath.ValueString(), state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())
	}
}
