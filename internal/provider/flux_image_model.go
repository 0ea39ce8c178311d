package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
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

// fluxWireToAttribute maps the API's camelCase field names, as they appear in its validation messages,
// to the resource's attributes. Longer names come first so that "promptUpsampling" is not taken for "prompt".
var fluxWireToAttribute = [][2]string{
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

// fluxImageSettled is the rule for a stored image that plans and refreshes leave as it is while its
// arguments are unchanged: its task succeeded, it has no local input file to hash again, and its
// local-file attributes are all recorded or all absent. The unchanged-image shortcut applies it too.
func fluxImageSettled(status string, hasInputSHA, hasPath, hasSHA, hasSize bool) bool {
	return status == kie.FlagSuccess.String() && !hasInputSHA && hasPath == hasSHA && hasPath == hasSize
}

func (m *fluxImageModel) settled() bool {
	return fluxImageSettled(m.Status.ValueString(), !m.InputImageSHA256.IsNull(),
		!m.OutputPath.IsNull(), !m.OutputSHA256.IsNull(), !m.OutputSize.IsNull())
}

// failed reports a task that ended without an image.
func (m *fluxImageModel) failed() bool {
	s := m.Status.ValueString()
	return s == kie.FlagCreateFailed.String() || s == kie.FlagGenerateFailed.String()
}

// unfinished reports whether a stored object holds a task that was accepted but never became an image
// in state: still generating, or finished at KIE with its download to output_path never completed (no
// hash and no size; a file that went missing later keeps its size, and is restored in place).
func (m *fluxImageModel) unfinished() bool {
	if m.TaskID.IsNull() || m.TaskID.IsUnknown() || m.TaskID.ValueString() == "" {
		return false
	}
	switch m.Status.ValueString() {
	case kie.FlagGenerating.String():
		return true
	case kie.FlagSuccess.String():
		return !m.OutputPath.IsNull() && m.OutputSHA256.IsNull() && m.OutputSize.IsNull()
	}
	return false
}

// noteUnfinished records the task of an unfinished object seen in state (Read, Delete).
func (d *providerData) noteUnfinished(ctx context.Context, m *fluxImageModel) {
	if d == nil || !m.unfinished() {
		return
	}
	d.tasks.Record(ctx, m.resumeKey(), m.TaskID.ValueString())
}
