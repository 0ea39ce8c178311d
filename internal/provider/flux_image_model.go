package provider

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

// generateRequest maps the resource arguments onto the API body. Defaults are sent explicitly, so the
// task does what the plan showed even if KIE ever changes its own defaults.
func (m *fluxImageModel) generateRequest() kie.GenerateRequest {
	req := kie.GenerateRequest{
		Prompt:       m.Prompt.ValueString(),
		InputImage:   m.InputImage.ValueString(),
		AspectRatio:  m.AspectRatio.ValueString(),
		OutputFormat: m.OutputFormat.ValueString(),
		Model:        m.Model.ValueString(),
		CallBackURL:  m.CallbackURL.ValueString(),
		Watermark:    m.Watermark.ValueString(),
	}
	if !m.EnableTranslation.IsNull() && !m.EnableTranslation.IsUnknown() {
		req.EnableTranslation = boolPtr(m.EnableTranslation.ValueBool())
	}
	if !m.UploadCn.IsNull() && !m.UploadCn.IsUnknown() {
		req.UploadCn = boolPtr(m.UploadCn.ValueBool())
	}
	if !m.PromptUpsampling.IsNull() && !m.PromptUpsampling.IsUnknown() {
		req.PromptUpsampling = boolPtr(m.PromptUpsampling.ValueBool())
	}
	if !m.SafetyTolerance.IsNull() && !m.SafetyTolerance.IsUnknown() {
		t := int(m.SafetyTolerance.ValueInt64())
		req.SafetyTolerance = &t
	}
	return req
}

func boolPtr(b bool) *bool { return &b }

// clearUnknownComputed turns computed attributes that Create has no value for into nulls.
func (m *fluxImageModel) clearUnknownComputed() {
	for _, s := range []*types.String{&m.InputImageUpload, &m.ResultImageURL, &m.OriginImageURL, &m.OutputSHA256} {
		if s.IsUnknown() {
			*s = types.StringNull()
		}
	}
	for _, t := range []*timetypes.RFC3339{&m.CreatedAt, &m.CompletedAt} {
		if t.IsUnknown() {
			*t = timetypes.NewRFC3339Null()
		}
	}
	if m.OutputSize.IsUnknown() {
		m.OutputSize = types.Int64Null()
	}
}

// applyTask records what KIE reports about the task.
func (m *fluxImageModel) applyTask(t *kie.Task) {
	m.Status = types.StringValue(t.SuccessFlag.String())
	m.ResultImageURL = optionalString(t.ResultImageURL)
	m.OriginImageURL = optionalString(t.OriginImageURL)
	m.CreatedAt = optionalTime(t.CreateTime)
	m.CompletedAt = optionalTime(t.CompleteTime)
}

// fillFromImport recovers the arguments of an imported task from the request KIE stored with it
// (paramJson), filling API defaults for what the request left out, so a matching configuration plans no
// change.
func (m *fluxImageModel) fillFromImport(t *kie.Task) {
	m.ID = types.StringValue(t.TaskID)
	m.TaskID = types.StringValue(t.TaskID)
	m.applyTask(t)
	p := t.Params
	if p == nil {
		p = &kie.GenerateRequest{}
	}
	m.Prompt = types.StringValue(p.Prompt)
	m.Model = types.StringValue(orDefault(p.Model, modelPro))
	m.AspectRatio = types.StringValue(orDefault(p.AspectRatio, defaultAspectRatio))
	m.OutputFormat = types.StringValue(orDefault(p.OutputFormat, defaultFormat))
	m.InputImage = optionalString(p.InputImage)
	m.InputImageFile, m.InputImageSHA256, m.InputImageUpload = types.StringNull(), types.StringNull(), types.StringNull()
	m.Watermark = optionalString(p.Watermark)
	m.CallbackURL = optionalString(p.CallBackURL)
	m.PromptUpsampling = types.BoolValue(p.PromptUpsampling != nil && *p.PromptUpsampling)
	m.UploadCn = types.BoolValue(p.UploadCn != nil && *p.UploadCn)
	m.EnableTranslation = types.BoolValue(p.EnableTranslation == nil || *p.EnableTranslation)
	tolerance := int64(defaultTolerance)
	if p.SafetyTolerance != nil {
		tolerance = int64(*p.SafetyTolerance)
	}
	m.SafetyTolerance = types.Int64Value(tolerance)
	m.Triggers = types.MapNull(types.StringType)
	m.OutputPath = types.StringNull()
	m.OutputSHA256 = types.StringNull()
	m.OutputSize = types.Int64Null()
}

// copyComputedFrom carries the task's results over from state into an update's new state.
func (m *fluxImageModel) copyComputedFrom(s *fluxImageModel) {
	m.ID, m.TaskID, m.Status = s.ID, s.TaskID, s.Status
	m.InputImageSHA256, m.InputImageUpload = s.InputImageSHA256, s.InputImageUpload
	m.ResultImageURL, m.OriginImageURL = s.ResultImageURL, s.OriginImageURL
	m.CreatedAt, m.CompletedAt = s.CreatedAt, s.CompletedAt
}

// task rebuilds what the client needs to download the image again.
func (m *fluxImageModel) task() *kie.Task {
	return &kie.Task{
		TaskID:         m.TaskID.ValueString(),
		SuccessFlag:    kie.FlagSuccess,
		ResultImageURL: m.ResultImageURL.ValueString(),
		OriginImageURL: m.OriginImageURL.ValueString(),
	}
}

func optionalString(s string) types.String {
	if s == "" {
		return types.StringNull()
	}
	return types.StringValue(s)
}

func optionalTime(t time.Time) timetypes.RFC3339 {
	if t.IsZero() {
		return timetypes.NewRFC3339Null()
	}
	return timetypes.NewRFC3339TimeValue(t.UTC().Truncate(time.Second))
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// wireToAttribute maps the API's camelCase field names, as they appear in its validation messages, to
// the resource's attributes, so an API-side validation error points at the right line of configuration.
// Longer names come first so that "promptUpsampling" is not taken for "prompt".
var wireToAttribute = [][2]string{
	{"enableTranslation", "enable_translation"},
	{"promptUpsampling", "prompt_upsampling"},
	{"safetyTolerance", "safety_tolerance"},
	{"outputFormat", "output_format"},
	{"aspectRatio", "aspect_ratio"},
	{"callBackUrl", "callback_url"},
	{"inputImage", "input_image"},
	{"watermark", "watermark"},
	{"uploadCn", "upload_cn"},
	{"prompt", "prompt"},
	{"model", "model"},
}

// addGenerateError explains a failed generation request. No task id exists at this point.
func addGenerateError(diags *diag.Diagnostics, err error) {
	var uncertain *kie.UncertainCreateError
	switch {
	case errors.Is(err, kie.ErrMissingAPIKey):
		diags.AddError("Missing KIE API key",
			"No API key is configured: set api_key in the kie provider block or the KIE_API_KEY environment variable. No task was created.")
	case errors.As(err, &uncertain):
		diags.AddError("Generation request outcome unknown", fmt.Sprintf("%s\n\n"+
			"The provider does not retry such a request, so you are never charged twice. Check your KIE "+
			"account's task history before applying again: the next apply starts a new generation.", err))
	case errors.Is(err, errSpendLimit):
		diags.AddError("Spend guard: max_new_images reached", err.Error())
	case kie.IsUnauthorized(err):
		diags.AddError("KIE rejected the API key", fmt.Sprintf("%s\nCheck api_key or KIE_API_KEY. No task was created.", err))
	case kie.IsInsufficientCredits(err):
		diags.AddError("Insufficient KIE credits", fmt.Sprintf("%s\nTop up the account and apply again. No task was created.", err))
	case kie.IsValidation(err):
		for _, pair := range wireToAttribute {
			if wire, attr := pair[0], pair[1]; strings.Contains(err.Error(), wire) {
				diags.AddAttributeError(path.Root(attr), "KIE rejected "+attr, fmt.Sprintf("%s: %s. No task was created.", attr, err))
				return
			}
		}
		diags.AddError("KIE rejected the generation request", fmt.Sprintf("%s. No task was created.", err))
	case kie.IsRefusedForNow(err):
		diags.AddError("KIE refused the generation request for now", fmt.Sprintf("%s\nKIE turned the request away "+
			"before accepting it (rate limited or under maintenance) every time it was sent until the create timeout. "+
			"No task was created and nothing was charged. Apply again later; if other runs share the KIE account, "+
			"give this resource a longer create timeout (timeouts { create = ... }) or split the account between "+
			"the runs (create_rate_limit, status_query_rate).", err))
	default:
		diags.AddError("Starting the generation failed", err.Error())
	}
}
