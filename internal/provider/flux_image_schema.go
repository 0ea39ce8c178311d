package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// API values and defaults, as KIE documents them.
const (
	modelPro           = "flux-kontext-pro"
	modelMax           = "flux-kontext-max"
	defaultAspectRatio = "16:9"
	defaultFormat      = "jpeg"
	defaultTolerance   = 2
	maxToleranceGen    = 6
	maxToleranceEdit   = 2
)

var aspectRatios = []string{"21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "16:21"}

const regenerates = " Changing it generates a new image (a new paid task)."

func fluxImageSchema(ctx context.Context) schema.Schema {
	replaceString := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceBool := []planmodifier.Bool{boolplanmodifier.RequiresReplace()}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}

	return schema.Schema{
		MarkdownDescription: "Generates an image with KIE's Flux Kontext API, or edits one when `input_image` is set. " +
			"On create the provider starts one paid task, waits until it finishes, and records the task id, " +
			"status and result URL; with `output_path` it also downloads the image and records its SHA-256 and size. " +
			"The image itself never enters the state.\n\n" +
			"Changing any generation argument (or `triggers`) replaces the resource and pays for a new image. " +
			"Changing only `output_path`, or losing or altering the local file, downloads the same image again " +
			"in place, at no cost. Destroying removes the local file the provider wrote; KIE has no delete, so " +
			"the image stays on KIE's side until its links expire (14 days).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id (same as `task_id`).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"task_id": schema.StringAttribute{
				MarkdownDescription: "The KIE task id. Kept in state from the moment KIE accepts the task, even if waiting fails.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"prompt": schema.StringAttribute{
				MarkdownDescription: "What to generate, or for an edit what to change. English works best (see `enable_translation`)." + regenerates,
				Required:            true,
				Validators:          []validator.String{notBlank()},
				PlanModifiers:       replaceString,
			},
			"model": schema.StringAttribute{
				MarkdownDescription: "`" + modelPro + "` (default; standard, about $0.04) or `" + modelMax + "` (higher quality, about $0.08)." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(modelPro),
				Validators:          []validator.String{stringvalidator.OneOf(modelPro, modelMax)},
				PlanModifiers:       replaceString,
			},
			"aspect_ratio": schema.StringAttribute{
				MarkdownDescription: "One of `21:9`, `16:9` (default), `4:3`, `1:1`, `3:4`, `9:16`, `16:21`. Images are about one megapixel." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultAspectRatio),
				Validators:          []validator.String{stringvalidator.OneOf(aspectRatios...)},
				PlanModifiers:       replaceString,
			},
			"input_image": schema.StringAttribute{
				MarkdownDescription: "URL of an image to edit (http or https, publicly reachable, such as another `kie_flux_image`'s " +
					"`result_image_url`). Setting it switches the task to edit mode. Unset by default." + regenerates,
				Optional:      true,
				Validators:    []validator.String{httpURL()},
				PlanModifiers: replaceString,
			},
			"input_image_file": schema.StringAttribute{
				MarkdownDescription: "Path of a local PNG, JPEG or GIF image to edit (at most 50 MiB). The provider uploads it " +
					"to KIE's free temporary file storage and edits the uploaded copy. Conflicts with `input_image`. " +
					"The file is hashed at plan time: editing its content generates a new image (a new paid task); " +
					"an unchanged file is not uploaded again. Unset by default.",
				Optional: true,
				Validators: []validator.String{
					notBlank(),
					stringvalidator.ConflictsWith(path.MatchRoot("input_image")),
				},
			},
			"input_image_sha256": schema.StringAttribute{
				MarkdownDescription: "Hex SHA-256 of `input_image_file` when the image was generated. A different hash at plan time " +
					"means the file changed, which generates a new image.",
				Computed: true,
			},
			"input_image_upload_url": schema.StringAttribute{
				MarkdownDescription: "Link to the uploaded copy of `input_image_file` that the edit task read (temporary on KIE's side).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"output_format": schema.StringAttribute{
				MarkdownDescription: "`jpeg` (default) or `png`." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(defaultFormat),
				Validators:          []validator.String{stringvalidator.OneOf("jpeg", "png")},
				PlanModifiers:       replaceString,
			},
			"prompt_upsampling": schema.BoolAttribute{
				MarkdownDescription: "Let the API enhance the prompt; helps short prompts. Default `false`." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				PlanModifiers:       replaceBool,
			},
			"safety_tolerance": schema.Int64Attribute{
				MarkdownDescription: "Moderation tolerance: `0` (strictest) to `6` for generation, `0` to `2` for edits. Default `2`." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(defaultTolerance),
				Validators:          []validator.Int64{int64validator.Between(0, maxToleranceGen)},
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.RequiresReplace()},
			},
			"enable_translation": schema.BoolAttribute{
				MarkdownDescription: "Translate non-English prompts to English before generating. Default `true`." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(true),
				PlanModifiers:       replaceBool,
			},
			"watermark": schema.StringAttribute{
				MarkdownDescription: "Watermark text to add to the image. Unset by default (no watermark)." + regenerates,
				Optional:            true,
				PlanModifiers:       replaceString,
			},
			"upload_cn": schema.BoolAttribute{
				MarkdownDescription: "Store the result on KIE's servers in China (for users there). Default `false`." + regenerates,
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
				PlanModifiers:       replaceBool,
			},
			"callback_url": schema.StringAttribute{
				MarkdownDescription: "URL that KIE POSTs to when the task ends (http or https). Unset by default. " +
					"It only applies when a task is created: changing it later is stored without a new generation.",
				Optional:   true,
				Validators: []validator.String{httpURL()},
			},
			"triggers": schema.MapAttribute{
				MarkdownDescription: "Arbitrary values; changing any of them generates a new image (a new paid task), " +
					"like `triggers` of `terraform_data` or `keepers` of the random provider.",
				ElementType:   types.StringType,
				Optional:      true,
				PlanModifiers: []planmodifier.Map{mapplanmodifier.RequiresReplace()},
			},
			"output_path": schema.StringAttribute{
				MarkdownDescription: "Local file to download the image to (parent folders are created, mode 0644). " +
					"Changing it moves or downloads the same image again, in place and at no cost; a missing or " +
					"altered file is restored the same way on the next apply. Unset by default (no download). The plan " +
					"fails, before anything is paid, when it is a directory or under a regular file, or when another " +
					"image of the configuration writes the same file (with `count`, put `count.index` in it).",
				Optional:   true,
				Validators: []validator.String{notBlank()},
			},
			"status": schema.StringAttribute{
				MarkdownDescription: "Task status: `GENERATING`, `SUCCESS`, `CREATE_TASK_FAILED` or `GENERATE_FAILED`.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"result_image_url": schema.StringAttribute{
				MarkdownDescription: "Link to the generated image. KIE keeps images for 14 days; download them (`output_path`) to keep them longer.",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"origin_image_url": schema.StringAttribute{
				MarkdownDescription: "Link to the unprocessed image, when KIE returns one (valid for about 10 minutes).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"created_at": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When KIE created the task (RFC 3339).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"completed_at": schema.StringAttribute{
				CustomType:          timetypes.RFC3339Type{},
				MarkdownDescription: "When the task finished (RFC 3339).",
				Computed:            true,
				PlanModifiers:       keep,
			},
			"output_sha256": schema.StringAttribute{
				MarkdownDescription: "Hex SHA-256 of the file at `output_path`; null without `output_path`, and when " +
					"the file went missing or changed (the next apply restores it).",
				Computed:      true,
				PlanModifiers: []planmodifier.String{localFileString()},
			},
			"output_size": schema.Int64Attribute{
				MarkdownDescription: "Size in bytes of the image file the provider wrote at `output_path`; null without " +
					"`output_path` and until a download completed.",
				Computed:      true,
				PlanModifiers: []planmodifier.Int64{localFileInt64()},
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
