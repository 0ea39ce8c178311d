package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

var _ datasource.DataSourceWithConfigure = (*marketTaskDataSource)(nil)

// marketTaskDataSource looks up any Market task by id, including ones started outside Terraform.
type marketTaskDataSource struct {
	data *providerData
}

func newMarketTaskDataSource() datasource.DataSource { return &marketTaskDataSource{} }

type marketTaskModel struct {
	TaskID          types.String      `tfsdk:"task_id"`
	ID              types.String      `tfsdk:"id"`
	Model           types.String      `tfsdk:"model"`
	State           types.String      `tfsdk:"state"`
	InputJSON       types.String      `tfsdk:"input_json"`
	CallbackURL     types.String      `tfsdk:"callback_url"`
	ResultURLs      types.List        `tfsdk:"result_urls"`
	FailCode        types.String      `tfsdk:"fail_code"`
	FailMessage     types.String      `tfsdk:"fail_message"`
	CostTime        types.Int64       `tfsdk:"cost_time"`
	CreditsConsumed types.Float64     `tfsdk:"credits_consumed"`
	CreatedAt       timetypes.RFC3339 `tfsdk:"created_at"`
	CompletedAt     timetypes.RFC3339 `tfsdk:"completed_at"`
}

func (d *marketTaskDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_market_task"
}

func (d *marketTaskDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{MarkdownDescription: desc, Computed: true}
	}
	computedTime := func(desc string) schema.StringAttribute {
		a := computed(desc)
		a.CustomType = timetypes.RFC3339Type{}
		return a
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Looks up a task of KIE's Market API (the API of `kie_image`: nano-banana, Seedream, " +
			"Flux-2, GPT Image, Imagen 4, ...) by id: its model, state, the input it was started with, result links, " +
			"times and cost. Use it for images generated outside Terraform. Costs one status query, no generation. " +
			"Flux Kontext tasks have their own API: read them with `kie_flux_task`.",
		Attributes: map[string]schema.Attribute{
			"task_id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id to look up.",
				Required:            true,
				Validators:          []validator.String{notBlank()},
			},
			"id":    computed("Same as `task_id`."),
			"model": computed("The Market model id the task ran, such as `google/nano-banana`."),
			"state": computed("KIE's state of the task: `waiting`, `queuing`, `generating`, `success` or `fail` " +
				"(any other value is passed on as KIE sent it)."),
			"input_json": computed("The `input` object the task was started with, as KIE stored it: a JSON string " +
				"with sorted keys, no spaces and numbers as KIE wrote them; read it with `jsondecode()`. Null when " +
				"KIE returned no readable input."),
			"callback_url": computed("The task's callback URL; null for none."),
			"result_urls": schema.ListAttribute{
				MarkdownDescription: "Links to the generated images, in KIE's order, once the task succeeded; empty " +
					"otherwise. KIE keeps results for 14 days, and links may expire sooner.",
				ElementType: types.StringType,
				Computed:    true,
			},
			"fail_code":    computed("KIE's failure code (such as `500`) for a failed task; null otherwise."),
			"fail_message": computed("KIE's failure message for a failed task; null otherwise."),
			"cost_time": schema.Int64Attribute{
				MarkdownDescription: "The task's processing time as KIE reports it (its docs say milliseconds for " +
					"this query); null until the task has ended.",
				Computed: true,
			},
			"credits_consumed": schema.Float64Attribute{
				MarkdownDescription: "Credits KIE reports the task consumed (0 for a failed task); null when KIE " +
					"does not report it.",
				Computed: true,
			},
			"created_at":   computedTime("When the task was created (RFC 3339)."),
			"completed_at": computedTime("When the task ended (RFC 3339); null while it runs."),
		},
	}
}

func (d *marketTaskDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataSourceProviderData(req, resp)
}

func (d *marketTaskDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m marketTaskModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || d.data == nil {
		return
	}
	id := strings.TrimSpace(m.TaskID.ValueString())
	if !d.data.requireAPIKey("Reading task "+id, &resp.Diagnostics) {
		return
	}
	ctx = d.data.logContext(ctx)
	task, err := d.data.client.GetMarketTask(ctx, id)
	switch {
	case kie.IsNotFound(err):
		resp.Diagnostics.AddError("Task not found", fmt.Sprintf("KIE's Market API has no task with id %q: %s. "+
			"Flux Kontext tasks are read with the kie_flux_task data source.", id, err))
		return
	case kie.IsUnauthorized(err):
		resp.Diagnostics.AddError("Task not readable with this API key", fmt.Sprintf("task %s: %s", id, err))
		return
	case err != nil:
		resp.Diagnostics.AddError("Reading the task failed", fmt.Sprintf("task %s: %s", id, err))
		return
	}

	m.ID = types.StringValue(id)
	m.Model = optionalString(task.Model)
	m.State = optionalString(string(task.State))
	m.InputJSON = marketTaskInputJSON(task)
	m.CallbackURL = types.StringNull()
	if task.Params != nil {
		m.CallbackURL = optionalString(task.Params.CallBackURL)
	}
	urls, diags := types.ListValueFrom(ctx, types.StringType, append([]string{}, task.ResultURLs...))
	resp.Diagnostics.Append(diags...)
	m.ResultURLs = urls
	m.FailCode = optionalString(task.FailCode)
	m.FailMessage = optionalString(task.FailMsg) // redacted by the client
	m.CostTime = types.Int64Null()
	if task.State.Terminal() {
		m.CostTime = types.Int64Value(task.CostTime)
	}
	m.CreditsConsumed = types.Float64PointerValue(task.CreditsConsumed)
	m.CreatedAt, m.CompletedAt = optionalTime(task.CreateTime), optionalTime(task.CompleteTime)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// marketTaskInputJSON renders param's input with sorted keys and numbers exactly as KIE stored them
// (a seed above 2^53 survives), falling back to the client's parsed copy.
func marketTaskInputJSON(task *kie.MarketTask) types.String {
	if task.Params == nil || task.Params.Input == nil {
		return types.StringNull()
	}
	var v any = task.Params.Input
	if raw := marketTaskRawInput(task.ParamJSON); raw != nil {
		v = raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // prompts read as written
	if err := enc.Encode(v); err != nil {
		return types.StringNull()
	}
	return types.StringValue(strings.TrimSpace(buf.String()))
}

// marketTaskRawInput decodes param's input with json.Number, accepting param (and input) as an object
// or as a string holding one, as the client does; nil when that fails.
func marketTaskRawInput(param string) map[string]any {
	var p map[string]json.RawMessage
	if marketTaskDecode([]byte(param), &p) != nil {
		return nil
	}
	var in map[string]any
	if marketTaskDecode(p["input"], &in) != nil {
		return nil
	}
	return in
}

// marketTaskDecode decodes raw into v with json.Number, unwrapping one level of JSON string first.
func marketTaskDecode(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		raw = []byte(s)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
