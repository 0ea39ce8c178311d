package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

var _ datasource.DataSourceWithConfigure = (*fluxTaskDataSource)(nil)

// fluxTaskDataSource looks up any Flux Kontext task by id, including ones started outside Terraform.
type fluxTaskDataSource struct {
	data *providerData
}

func newFluxTaskDataSource() datasource.DataSource { return &fluxTaskDataSource{} }

type fluxTaskModel struct {
	TaskID            types.String      `tfsdk:"task_id"`
	ID                types.String      `tfsdk:"id"`
	Status            types.String      `tfsdk:"status"`
	ResultImageURL    types.String      `tfsdk:"result_image_url"`
	OriginImageURL    types.String      `tfsdk:"origin_image_url"`
	CreatedAt         timetypes.RFC3339 `tfsdk:"created_at"`
	CompletedAt       timetypes.RFC3339 `tfsdk:"completed_at"`
	ErrorCode         types.Int64       `tfsdk:"error_code"`
	ErrorMessage      types.String      `tfsdk:"error_message"`
	ParamJSON         types.String      `tfsdk:"param_json"`
	Prompt            types.String      `tfsdk:"prompt"`
	Model             types.String      `tfsdk:"model"`
	AspectRatio       types.String      `tfsdk:"aspect_ratio"`
	InputImage        types.String      `tfsdk:"input_image"`
	OutputFormat      types.String      `tfsdk:"output_format"`
	PromptUpsampling  types.Bool        `tfsdk:"prompt_upsampling"`
	SafetyTolerance   types.Int64       `tfsdk:"safety_tolerance"`
	EnableTranslation types.Bool        `tfsdk:"enable_translation"`
	Watermark         types.String      `tfsdk:"watermark"`
	UploadCn          types.Bool        `tfsdk:"upload_cn"`
	CallbackURL       types.String      `tfsdk:"callback_url"`
}

func (d *fluxTaskDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_flux_task"
}

func (d *fluxTaskDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	computedTime := func(desc string) schema.StringAttribute {
		a := computed(desc)
		a.CustomType = timetypes.RFC3339Type{}
		return a
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a Flux Kontext task by id: its status, result links, times and the arguments it " +
			"was started with. Use it for images generated outside Terraform. Costs one status query, no generation.",
		Attributes: map[string]schema.Attribute{
			"task_id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id to look up.",
				Required:            true,
				Validators:          []validator.String{notBlank()},
			},
			"id":               computed("Same as `task_id`."),
			"status":           computed("`GENERATING`, `SUCCESS`, `CREATE_TASK_FAILED` or `GENERATE_FAILED`."),
			"result_image_url": computed("Link to the generated image, once the task succeeded."),
			"origin_image_url": computed("Link to the unprocessed image, when KIE returns one."),
			"created_at":       computedTime("When the task was created (RFC 3339)."),
			"completed_at":     computedTime("When the task finished (RFC 3339); null while it runs."),
			"error_code": schema.Int64Attribute{
				MarkdownDescription: "KIE's error code for a failed task; null otherwise.", Computed: true,
			},
			"error_message":      computed("KIE's error message for a failed task; null otherwise."),
			"param_json":         computed("The request the task was started with, as KIE stored it (a JSON string)."),
			"prompt":             computed("The task's prompt."),
			"model":              computed("The task's model."),
			"aspect_ratio":       computed("The task's aspect ratio (API default `16:9` when the request left it out)."),
			"input_image":        computed("The image the task edited; null for a generation."),
			"output_format":      computed("The task's output format (`jpeg` when the request left it out)."),
			"prompt_upsampling":  schema.BoolAttribute{MarkdownDescription: "Whether prompt upsampling was on.", Computed: true},
			"safety_tolerance":   schema.Int64Attribute{MarkdownDescription: "The task's safety tolerance.", Computed: true},
			"enable_translation": schema.BoolAttribute{MarkdownDescription: "Whether translation was on.", Computed: true},
			"watermark":          computed("The task's watermark text; null for none."),
			"upload_cn":          schema.BoolAttribute{MarkdownDescription: "Whether the result went to China storage.", Computed: true},
			"callback_url":       computed("The task's callback URL; null for none."),
		},
	}
}

func (d *fluxTaskDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataSourceProviderData(req, resp)
}

func (d *fluxTaskDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m fluxTaskModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	id := m.TaskID.ValueString()
	if !d.data.requireAPIKey("Reading task "+id, &resp.Diagnostics) {
		return
	}
	ctx = d.data.logContext(ctx)
	task, err := d.data.client.GetTask(ctx, id)
	switch {
	case kie.IsNotFound(err):
		resp.Diagnostics.AddError("Task not found", fmt.Sprintf("KIE has no task with id %q: %s", id, err))
		return
	case err != nil:
		resp.Diagnostics.AddError("Reading the task failed", fmt.Sprintf("task %s: %s", id, err))
		return
	}

	// The resource's import already recovers arguments from paramJson; reuse it for the same mapping.
	var img fluxImageModel
	img.fillFromImport(task)
	m.ID = types.StringValue(id)
	m.Status, m.ResultImageURL, m.OriginImageURL = img.Status, img.ResultImageURL, img.OriginImageURL
	m.CreatedAt, m.CompletedAt = img.CreatedAt, img.CompletedAt
	m.Prompt, m.Model, m.AspectRatio, m.InputImage = img.Prompt, img.Model, img.AspectRatio, img.InputImage
	m.OutputFormat, m.PromptUpsampling, m.SafetyTolerance = img.OutputFormat, img.PromptUpsampling, img.SafetyTolerance
	m.EnableTranslation, m.Watermark, m.UploadCn, m.CallbackURL = img.EnableTranslation, img.Watermark, img.UploadCn, img.CallbackURL
	m.ParamJSON = optionalString(task.ParamJSON)
	m.ErrorMessage = optionalString(task.ErrorMessage)
	m.ErrorCode = types.Int64Null()
	if task.ErrorCode != 0 {
		m.ErrorCode = types.Int64Value(int64(task.ErrorCode))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// dataSourceProviderData unpacks what Configure handed over, shared by every data source.
func dataSourceProviderData(req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) *providerData {
	if req.ProviderData == nil {
		return nil
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T", req.ProviderData))
		return nil
	}
	return data
}
