package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

const (
	defaultCreateTimeout = 15 * time.Minute
	defaultUpdateTimeout = 15 * time.Minute
	defaultDeleteTimeout = 2 * time.Minute

	// privatePending marks a task that KIE accepted but whose Create did not finish; see resumePool.
	privatePending = "pending_task"
)

var (
	_ resource.Resource                   = (*fluxImageResource)(nil)
	_ resource.ResourceWithConfigure      = (*fluxImageResource)(nil)
	_ resource.ResourceWithImportState    = (*fluxImageResource)(nil)
	_ resource.ResourceWithValidateConfig = (*fluxImageResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*fluxImageResource)(nil)
)

type fluxImageResource struct {
	data *providerData
}

func newFluxImageResource() resource.Resource { return &fluxImageResource{} }

type fluxImageModel struct {
	ID                types.String   `tfsdk:"id"`
	TaskID            types.String   `tfsdk:"task_id"`
	Prompt            types.String   `tfsdk:"prompt"`
	Model             types.String   `tfsdk:"model"`
	AspectRatio       types.String   `tfsdk:"aspect_ratio"`
	InputImage        types.String   `tfsdk:"input_image"`
	InputImageFile    types.String   `tfsdk:"input_image_file"`
	InputImageSHA256  types.String   `tfsdk:"input_image_sha256"`
	InputImageUpload  types.String   `tfsdk:"input_image_upload_url"`
	OutputFormat      types.String   `tfsdk:"output_format"`
	PromptUpsampling  types.Bool     `tfsdk:"prompt_upsampling"`
	SafetyTolerance   types.Int64    `tfsdk:"safety_tolerance"`
	EnableTranslation types.Bool     `tfsdk:"enable_translation"`
	Watermark         types.String   `tfsdk:"watermark"`
	UploadCn          types.Bool     `tfsdk:"upload_cn"`
	CallbackURL       types.String   `tfsdk:"callback_url"`
	Triggers          types.Map      `tfsdk:"triggers"`
	OutputPath        types.String   `tfsdk:"output_path"`
	Status            types.String   `tfsdk:"status"`
	ResultImageURL    types.String   `tfsdk:"result_image_url"`
	OriginImageURL    types.String   `tfsdk:"origin_image_url"`
	CreatedAt         types.String   `tfsdk:"created_at"`
	CompletedAt       types.String   `tfsdk:"completed_at"`
	OutputSHA256      types.String   `tfsdk:"output_sha256"`
	OutputSize        types.Int64    `tfsdk:"output_size"`
	Timeouts          timeouts.Value `tfsdk:"timeouts"`
}

func (r *fluxImageResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flux_image"
}

func (r *fluxImageResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = fluxImageSchema(ctx)
}

func (r *fluxImageResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
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

// ValidateConfig checks what single-attribute validators cannot: edits allow a lower safety_tolerance.
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
	editing := !input.IsNull() || !inputFile.IsNull()
	if editing && !tolerance.IsNull() && !tolerance.IsUnknown() && tolerance.ValueInt64() > maxToleranceEdit {
		resp.Diagnostics.AddAttributeError(path.Root("safety_tolerance"), "safety_tolerance out of range for an edit",
			fmt.Sprintf("safety_tolerance must be between 0 and %d when input_image or input_image_file is set (edit mode); got %d.",
				maxToleranceEdit, tolerance.ValueInt64()))
	}
}

func (r *fluxImageResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan fluxImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	d, ok := r.requireData(&resp.Diagnostics)
	if !ok {
		return
	}
	ctx = d.logContext(ctx)
	timeout, diags := plan.Timeouts.Create(ctx, defaultCreateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	taskID, ok := r.obtainTask(ctx, d, &plan, &resp.Diagnostics)
	if !ok {
		return
	}

	// From here on the task is paid for: whatever happens, its id goes into state.
	plan.ID = types.StringValue(taskID)
	plan.TaskID = types.StringValue(taskID)
	plan.Status = types.StringValue(kie.FlagGenerating.String())
	plan.clearUnknownComputed()

	task, err := d.client.WaitTask(ctx, taskID)
	if task != nil {
		plan.applyTask(task)
	}
	var failed *kie.TaskFailedError
	switch {
	case errors.As(err, &failed):
		resp.Diagnostics.AddError("Image generation failed",
			fmt.Sprintf("%s\nNo image was produced. The failed task stays in state (tainted); the next apply starts a new generation.", failed))
		resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
		return
	case err != nil:
		r.keepPending(ctx, resp, &plan, taskID, "Waiting for the image did not finish", err)
		return
	}

	if !plan.OutputPath.IsNull() {
		res, err := d.client.DownloadTaskImage(ctx, task, plan.OutputPath.ValueString())
		if err != nil {
			r.keepPending(ctx, resp, &plan, taskID, "Downloading the image failed",
				fmt.Errorf("output_path %q: %w", plan.OutputPath.ValueString(), err))
			return
		}
		plan.OutputSHA256 = types.StringValue(res.SHA256)
		plan.OutputSize = types.Int64Value(res.Size)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// obtainTask returns the task this Create waits for: an interrupted one with the same arguments, or a
// new paid generation (after starting the callback receiver and uploading a local input image).
func (r *fluxImageResource) obtainTask(ctx context.Context, d *providerData, plan *fluxImageModel, diags *diag.Diagnostics) (string, bool) {
	if taskID, resumed := d.pool.take(plan.resumeKey()); resumed {
		tflog.Info(ctx, "resuming an interrupted task instead of generating again", map[string]any{"task_id": taskID})
		d.client.Notify(taskID) // it may be long finished: ask for its status at once
		return taskID, true
	}
	genReq := plan.generateRequest()
	if d.receiver != nil {
		url, err := d.receiver.start(ctx)
		if err != nil {
			diags.AddError("Starting the callback receiver failed", err.Error()+". No generation was started.")
			return "", false
		}
		if genReq.CallBackURL != "" {
			diags.AddAttributeWarning(path.Root("callback_url"), "callback_url replaced",
				"The provider's callback_receiver is configured, so KIE calls it instead of callback_url.")
		}
		genReq.CallBackURL = url
	}
	if !plan.InputImageFile.IsNull() {
		url, err := r.uploadInputImage(ctx, d, plan)
		if err != nil {
			diags.AddAttributeError(path.Root("input_image_file"), "Uploading the input image failed",
				fmt.Sprintf("%s. No generation was started.", err))
			return "", false
		}
		genReq.InputImage = url
	}
	taskID, err := r.startGeneration(ctx, d, genReq)
	if err != nil {
		addGenerateError(diags, err)
		return "", false
	}
	return taskID, true
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

// ModifyPlan hashes input_image_file at plan time: a changed file replaces the image (a new paid edit),
// a bad file fails the plan, and an unchanged one costs nothing.
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
	if req.State.Raw.IsNull() {
		r.carryResumableTask(ctx, resp)
		return
	}
	var prior types.String
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("input_image_sha256"), &prior)...)
	if !prior.Equal(sha) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("input_image_sha256"))
	}
}

// carryResumableTask marks the plan of a new object whose arguments match an interrupted task that
// refresh found. Terraform applies a saved plan in a new process without refreshing again, and hands the
// plan's private state to Delete of the replaced object, which then offers the task to the Create.
func (r *fluxImageResource) carryResumableTask(ctx context.Context, resp *resource.ModifyPlanResponse) {
	if r.data == nil || resp.Diagnostics.HasError() {
		return
	}
	var m fluxImageModel
	if diags := resp.Plan.Get(ctx, &m); diags.HasError() {
		return
	}
	key := m.resumeKey()
	if id, ok := r.data.pool.peek(key); ok {
		marker, _ := json.Marshal(map[string]string{"task_id": id, "key": key})
		resp.Diagnostics.Append(resp.Private.SetKey(ctx, privatePending, marker)...)
	}
}

// startGeneration sends the one paid request, inside the spend guard.
func (r *fluxImageResource) startGeneration(ctx context.Context, d *providerData, genReq kie.GenerateRequest) (string, error) {
	if err := d.spend.reserve(); err != nil {
		return "", err
	}
	taskID, err := d.client.Generate(ctx, genReq)
	if err != nil {
		var uncertain *kie.UncertainCreateError
		if !errors.As(err, &uncertain) {
			d.spend.release() // refused before acceptance: nothing was paid
		}
		return "", err
	}
	tflog.Info(ctx, "KIE accepted the generation task", map[string]any{"task_id": taskID})
	return taskID, nil
}

// keepPending saves an accepted but unfinished task in state, marked so the next apply resumes it.
func (r *fluxImageResource) keepPending(ctx context.Context, resp *resource.CreateResponse, plan *fluxImageModel, taskID, summary string, err error) {
	marker, _ := json.Marshal(map[string]string{"task_id": taskID, "key": plan.resumeKey()})
	resp.Diagnostics.Append(resp.Private.SetKey(ctx, privatePending, marker)...)
	resp.Diagnostics.AddError(summary, fmt.Sprintf(
		"Task %s was accepted by KIE (and is paid for) but did not complete here: %s\n\n"+
			"The task id is kept in state. Run terraform apply again to finish this same task without a new "+
			"generation, as long as the generation arguments stay the same.", taskID, err))
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *fluxImageResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state fluxImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if marker, diags := req.Private.GetKey(ctx, privatePending); !diags.HasError() && len(marker) > 0 && r.data != nil {
		r.offerForResume(ctx, &state)
	}
	if state.Status.IsNull() {
		// Only an import leaves the status unknown: fetch the task once to fill in everything else.
		d, ok := r.requireData(&resp.Diagnostics)
		if !ok {
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
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
		return
	}

	// A finished image costs no API call to refresh: only the local file is checked, by size then hash.
	// resp.State already holds the prior state, so it is only written when the file drifted.
	if !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() &&
		!localFileIntact(state.OutputPath.ValueString(), state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64()) {
		tflog.Info(ctx, "local image file is missing or changed; planning a download of the same image",
			map[string]any{"task_id": state.TaskID.ValueString(), "output_path": state.OutputPath.ValueString()})
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("output_sha256"), types.StringNull())...)
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("output_size"), types.Int64Null())...)
	}
}

// Update only ever touches the local file: every generation argument forces a replacement instead.
func (r *fluxImageResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state fluxImageModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := plan.Timeouts.Update(ctx, defaultUpdateTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// Carry over what the task produced; the plan holds those as copies of state already.
	plan.copyComputedFrom(&state)
	oldPath, newPath := state.OutputPath.ValueString(), plan.OutputPath.ValueString()
	oldIntact := !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() &&
		localFileIntact(oldPath, state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())

	switch {
	case plan.OutputPath.IsNull():
		plan.OutputSHA256, plan.OutputSize = types.StringNull(), types.Int64Null()
	case oldIntact && oldPath == newPath:
		plan.OutputSHA256, plan.OutputSize = state.OutputSHA256, state.OutputSize
	case oldIntact:
		if err := copyFileAtomic(oldPath, newPath); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("output_path"), "Moving the image failed",
				fmt.Sprintf("task %s: %s", state.TaskID.ValueString(), err))
			return
		}
		plan.OutputSHA256, plan.OutputSize = state.OutputSHA256, state.OutputSize
	default:
		d, ok := r.requireData(&resp.Diagnostics)
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
	}

	if oldIntact && oldPath != newPath {
		removeOwnedFile(ctx, &resp.Diagnostics, oldPath, state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *fluxImageResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state fluxImageModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Delete of a replaced object gets the private state of the plan, not of the object: the plan's
	// create carries the marker (see carryResumableTask). A GENERATING status covers -refresh=false.
	marker, _ := req.Private.GetKey(ctx, privatePending)
	if r.data != nil && (len(marker) > 0 || state.Status.ValueString() == kie.FlagGenerating.String()) {
		r.offerForResume(ctx, &state)
	}
	if !state.OutputPath.IsNull() && !state.OutputSHA256.IsNull() {
		removeOwnedFile(ctx, &resp.Diagnostics, state.OutputPath.ValueString(), state.OutputSHA256.ValueString(), state.OutputSize.ValueInt64())
	}
}

// offerForResume hands an interrupted task to a Create with the same arguments in this provider process.
// Terraform replaces a tainted resource by refreshing it, deleting it and creating it again in one apply,
// so the image already paid for is finished instead of bought again. Only Creates that failed after KIE
// accepted the task carry the private marker; an explicit -replace of a finished image does not.
func (r *fluxImageResource) offerForResume(ctx context.Context, state *fluxImageModel) {
	if r.data.pool.put(state.resumeKey(), state.TaskID.ValueString()) {
		tflog.Info(ctx, "an interrupted task is ready to be resumed by a Create with the same arguments",
			map[string]any{"task_id": state.TaskID.ValueString()})
	}
}

func (r *fluxImageResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if req.ID == "" {
		resp.Diagnostics.AddError("Missing task id", "Import a kie_flux_image by its KIE task id.")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("task_id"), req.ID)...)
}

func (r *fluxImageResource) requireData(diags *diag.Diagnostics) (*providerData, bool) {
	if r.data == nil {
		diags.AddError("Provider not configured", "The kie provider was not configured before this resource was used.")
		return nil, false
	}
	return r.data, true
}

// resumeKey identifies the image a configuration asks for: every argument that shapes the image, and
// triggers. A Create whose key matches an interrupted task's may finish that task instead of paying again.
func (m *fluxImageModel) resumeKey() string {
	type keyed struct {
		Req        kie.GenerateRequest
		InputImage string
		Triggers   map[string]string
	}
	k := keyed{Req: m.generateRequest(), InputImage: m.InputImageSHA256.ValueString()}
	k.Req.CallBackURL = "" // the callback does not shape the image
	if !m.Triggers.IsNull() && !m.Triggers.IsUnknown() {
		k.Triggers = map[string]string{}
		for name, v := range m.Triggers.Elements() {
			if s, ok := v.(types.String); ok {
				k.Triggers[name] = s.ValueString()
			}
		}
	}
	b, _ := json.Marshal(k) // maps marshal in sorted key order, so the key is stable
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
