package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/dynamicplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// imageResultType is one element of kie_image's results.
var imageResultType = types.ObjectType{AttrTypes: map[string]attr.Type{
	"url": types.StringType, "path": types.StringType, "sha256": types.StringType, "size": types.Int64Type,
}}

func imageSchema(ctx context.Context) schema.Schema {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		MarkdownDescription: "Generates or edits images with any of KIE's Market image models (nano-banana, Seedream, " +
			"Flux-2, GPT Image, Imagen 4, Ideogram, Qwen, ...): `model` names the model and `input` is KIE's input " +
			"object for it, as on the model's page. On create the provider starts one paid task, waits until it " +
			"ends, and records every result; with `output_path` it downloads each result and records its path, " +
			"SHA-256 and size. Images never enter the state.\n\n" +
			"Changing `model`, `input`, `input_image_files` or `triggers` pays for a new task. Changing only " +
			"`output_path`, or losing or altering a local file, downloads the same results again at no cost.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id (same as `task_id`).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"task_id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id, kept in state from the moment KIE accepts the task.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"model": schema.StringAttribute{
				MarkdownDescription: "A KIE Market model id, such as `google/nano-banana` or `seedream/4.5-edit`. Known " +
					"models have their `input` checked at plan time; others get a warning and go to KIE unchecked." + regenerates,
				Required:      true,
				Validators:    []validator.String{notBlank()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"input": schema.DynamicAttribute{
				MarkdownDescription: "KIE's `input` object for the model, written as an HCL object with KIE's field names, " +
					"for example `{ prompt = \"...\", aspect_ratio = \"16:9\" }`." + regenerates,
				Required:      true,
				PlanModifiers: []planmodifier.Dynamic{dynamicplanmodifier.RequiresReplace()},
			},
			"input_image_files": schema.ListAttribute{
				MarkdownDescription: "Local PNG, JPEG or GIF images (at most 50 MiB each), uploaded to KIE's free temporary " +
					"storage and added after any URLs in the model's image field (`image_urls`, `image_input`, ...). " +
					"Hashed at plan time: changing a file's content pays for a new task.",
				ElementType: types.StringType,
				Optional:    true,
				Validators:  []validator.List{listvalidator.SizeAtLeast(1), listvalidator.ValueStringsAre(notBlank())},
			},
			"input_image_sha256s": schema.ListAttribute{
				MarkdownDescription: "Hex SHA-256 of each of `input_image_files` when the task was created.",
				ElementType:         types.StringType,
				Computed:            true,
			},
			"input_image_upload_urls": schema.ListAttribute{
				MarkdownDescription: "Links to the uploaded copies of `input_image_files` (temporary on KIE's side).",
				ElementType:         types.StringType,
				Computed:            true,
				PlanModifiers:       []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"callback_url": schema.StringAttribute{
				MarkdownDescription: "URL that KIE POSTs to when the task ends. Only used when a task is created.",
				Optional:            true,
				Validators:          []validator.String{httpURL()},
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values; changing any of them pays for a new task.",
				ElementType:         types.StringType,
				Optional:            true,
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"output_path": schema.StringAttribute{
				MarkdownDescription: "Local file for the first result; further results go beside it with `-2`, `-3`, ... " +
					"before the extension (`out/cat.png`, `out/cat-2.png`). Changing it moves the files; missing or " +
					"altered files are restored on the next apply, at no cost. Unset: nothing is downloaded. The plan " +
					"fails, before anything is paid, when a result's file is a directory or under a regular file, or " +
					"when another image of the configuration writes it (with `count`, put `count.index` in it).",
				Optional:   true,
				Validators: []validator.String{notBlank()},
			},
			"state": schema.StringAttribute{
				MarkdownDescription: "KIE's task state: `waiting`, `queuing`, `generating`, `success` or `fail`.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"results": schema.ListAttribute{
				MarkdownDescription: "One object per result image: `url` (KIE's link, kept 14 days), and with `output_path` " +
					"the local `path`, its `sha256` and `size`. `sha256` is null while a file is missing or altered.",
				ElementType:   imageResultType,
				Computed:      true,
				PlanModifiers: []planmodifier.List{listplanmodifier.UseStateForUnknown()},
			},
			"fail_code": schema.StringAttribute{
				MarkdownDescription: "KIE's failure code when the task failed.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"fail_message": schema.StringAttribute{
				MarkdownDescription: "KIE's failure message when the task failed (secrets removed).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"cost_time": schema.Int64Attribute{
				MarkdownDescription: "KIE's `costTime` for the task, as KIE reports it (its unit differs between KIE's pages).",
				Computed:            true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
			},
			"credits_consumed": schema.Float64Attribute{
				MarkdownDescription: "Credits the task cost, when KIE reports it.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Float64{float64planmodifier.UseStateForUnknown()},
			},
			"created_at": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When KIE created the task (RFC 3339).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"completed_at": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When the task ended (RFC 3339).",
				Computed:            true,
				PlanModifiers:       keep,
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
