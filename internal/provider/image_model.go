package provider

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/kie-community/terraform-provider-kie/internal/dynamicjson"
	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

type imageModel struct {
	ID                   types.String      `tfsdk:"id"`
	TaskID               types.String      `tfsdk:"task_id"`
	Model                types.String      `tfsdk:"model"`
	Input                types.Dynamic     `tfsdk:"input"`
	InputImageFiles      types.List        `tfsdk:"input_image_files"`
	InputImageSHA256s    types.List        `tfsdk:"input_image_sha256s"`
	InputImageUploadURLs types.List        `tfsdk:"input_image_upload_urls"`
	CallbackURL          types.String      `tfsdk:"callback_url"`
	Triggers             types.Map         `tfsdk:"triggers"`
	OutputPath           types.String      `tfsdk:"output_path"`
	State                types.String      `tfsdk:"state"`
	Results              types.List        `tfsdk:"results"`
	FailCode             types.String      `tfsdk:"fail_code"`
	FailMessage          types.String      `tfsdk:"fail_message"`
	CostTime             types.Int64       `tfsdk:"cost_time"`
	CreditsConsumed      types.Float64     `tfsdk:"credits_consumed"`
	CreatedAt            timetypes.RFC3339 `tfsdk:"created_at"`
	CompletedAt          timetypes.RFC3339 `tfsdk:"completed_at"`
	Timeouts             timeouts.Value    `tfsdk:"timeouts"`
}

// imageResult is one element of results.
type imageResult struct {
	URL    types.String `tfsdk:"url"`
	Path   types.String `tfsdk:"path"`
	SHA256 types.String `tfsdk:"sha256"`
	Size   types.Int64  `tfsdk:"size"`
}

// resultPath is where result i (from 0) of a task goes: output_path itself, then "-2", "-3", ... before
// the extension, so every file is predictable from output_path alone.
func resultPath(outputPath string, i int) string {
	if i == 0 {
		return outputPath
	}
	ext := filepath.Ext(outputPath)
	return strings.TrimSuffix(outputPath, ext) + "-" + strconv.Itoa(i+1) + ext
}

// inputJSON is the input as KIE receives it; unknown values (only at plan time) become unknown.
func (m *imageModel) inputJSON(unknown any) (map[string]any, error) {
	if m.Input.IsUnknown() || m.Input.IsUnderlyingValueUnknown() {
		return nil, errInputUnknown
	}
	g, err := dynamicjson.ToGo(m.Input, unknown)
	if err != nil {
		return nil, err
	}
	obj, ok := g.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("input must be an object of KIE's input fields, such as { prompt = \"...\" }, not %T", g)
	}
	return obj, nil
}

var errInputUnknown = fmt.Errorf("input is not known yet")

// encodeJSON writes v as compact JSON without HTML escaping, as the user wrote it.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// resumeKey identifies the task a configuration asks for: the model, the input, the input files'
// contents and triggers. A create whose key matches an interrupted task's finishes that task.
func (m *imageModel) resumeKey() string {
	input, _ := m.inputJSON(nil)
	k := struct {
		Kind     string
		Model    string
		Input    map[string]any
		Files    []string
		Triggers map[string]string
	}{Kind: "kie_image", Model: m.Model.ValueString(), Input: input, Files: stringList(m.InputImageSHA256s),
		Triggers: stringMap(m.Triggers)}
	b, _ := json.Marshal(k) // maps marshal in sorted key order, so the key is stable
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func stringList(l types.List) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	for _, v := range l.Elements() {
		if s, ok := v.(types.String); ok {
			out = append(out, s.ValueString())
		}
	}
	return out
}

func stringMap(m types.Map) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	for k, v := range m.Elements() {
		if s, ok := v.(types.String); ok {
			out[k] = s.ValueString()
		}
	}
	return out
}

func stringListValue(ss []string) types.List {
	if ss == nil {
		return types.ListNull(types.StringType)
	}
	v, _ := types.ListValueFrom(context.Background(), types.StringType, ss)
	return v
}

// results reads the results list; nil when null or unknown.
func (m *imageModel) results(ctx context.Context) []imageResult {
	if m.Results.IsNull() || m.Results.IsUnknown() {
		return nil
	}
	var out []imageResult
	_ = m.Results.ElementsAs(ctx, &out, false)
	return out
}

func (m *imageModel) setResults(ctx context.Context, rs []imageResult, diags *diag.Diagnostics) {
	if rs == nil {
		rs = []imageResult{}
	}
	v, d := types.ListValueFrom(ctx, imageResultType, rs)
	diags.Append(d...)
	m.Results = v
}

// applyTask records what KIE reports about the task, keeping the local files already recorded for
// results whose link did not change.
func (m *imageModel) applyTask(ctx context.Context, t *kie.MarketTask, diags *diag.Diagnostics) {
	m.State = types.StringValue(string(t.State))
	old := m.results(ctx)
	rs := make([]imageResult, len(t.ResultURLs))
	for i, u := range t.ResultURLs {
		rs[i] = imageResult{URL: types.StringValue(u), Path: types.StringNull(), SHA256: types.StringNull(), Size: types.Int64Null()}
		if i < len(old) && old[i].URL.ValueString() == u {
			rs[i].Path, rs[i].SHA256, rs[i].Size = old[i].Path, old[i].SHA256, old[i].Size
		}
	}
	m.setResults(ctx, rs, diags)
	m.FailCode, m.FailMessage = optionalString(t.FailCode), optionalString(t.FailMsg)
	m.CostTime = types.Int64Value(t.CostTime)
	m.CreditsConsumed = types.Float64PointerValue(t.CreditsConsumed)
	m.CreatedAt, m.CompletedAt = optionalTime(t.CreateTime), optionalTime(t.CompleteTime)
}

// fillFromImport recovers the arguments of an imported task from the request KIE stored with it.
func (m *imageModel) fillFromImport(ctx context.Context, t *kie.MarketTask, diags *diag.Diagnostics) {
	m.ID, m.TaskID = types.StringValue(t.TaskID), types.StringValue(t.TaskID)
	m.Model = types.StringValue(t.Model)
	m.Input, m.CallbackURL = types.DynamicNull(), types.StringNull()
	if p := t.Params; p != nil {
		if p.Model != "" {
			m.Model = types.StringValue(p.Model)
		}
		m.CallbackURL = optionalString(p.CallBackURL)
		if in, err := importedInput(t.ParamJSON); err == nil {
			m.Input = in
		} else {
			diags.AddWarning("Input of the imported task not recovered", fmt.Sprintf("task %s: %s", t.TaskID, err))
		}
	}
	m.InputImageFiles, m.InputImageSHA256s, m.InputImageUploadURLs = types.ListNull(types.StringType), types.ListNull(types.StringType), types.ListNull(types.StringType)
	m.Triggers, m.OutputPath = types.MapNull(types.StringType), types.StringNull()
	m.Results = types.ListNull(imageResultType)
	m.applyTask(ctx, t, diags)
}

// importedInput reads param's input with its numbers exact, as HCL would give them.
func importedInput(paramJSON string) (types.Dynamic, error) {
	raw, err := dynamicjson.Decode([]byte(paramJSON))
	if err != nil {
		return types.DynamicNull(), fmt.Errorf("param is not JSON: %w", err)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return types.DynamicNull(), fmt.Errorf("param is not a JSON object")
	}
	in := obj["input"]
	if s, isString := in.(string); isString { // some answers nest the input as a JSON string
		if in, err = dynamicjson.Decode([]byte(s)); err != nil {
			return types.DynamicNull(), fmt.Errorf("param's input is not JSON: %w", err)
		}
	}
	return dynamicjson.FromGo(in)
}

// clearUnknownComputed turns computed attributes Create has no value for into nulls.
func (m *imageModel) clearUnknownComputed() {
	for _, s := range []*types.String{&m.FailCode, &m.FailMessage} {
		if s.IsUnknown() {
			*s = types.StringNull()
		}
	}
	for _, l := range []*types.List{&m.InputImageUploadURLs, &m.InputImageSHA256s} {
		if l.IsUnknown() {
			*l = types.ListNull(types.StringType)
		}
	}
	if m.Results.IsUnknown() {
		m.Results = types.ListNull(imageResultType)
	}
	for _, t := range []*timetypes.RFC3339{&m.CreatedAt, &m.CompletedAt} {
		if t.IsUnknown() {
			*t = timetypes.NewRFC3339Null()
		}
	}
	if m.CostTime.IsUnknown() {
		m.CostTime = types.Int64Null()
	}
	if m.CreditsConsumed.IsUnknown() {
		m.CreditsConsumed = types.Float64Null()
	}
}

// unfinished reports a task that was accepted but never ended with its results in state: still
// running, or succeeded with a download to output_path that never completed (no hash and no size; a
// file that went missing later keeps its size and is restored in place).
func (m *imageModel) unfinished(ctx context.Context) bool {
	if m.TaskID.IsNull() || m.TaskID.IsUnknown() || m.TaskID.ValueString() == "" || m.State.IsNull() {
		return false
	}
	switch kie.MarketState(m.State.ValueString()) {
	case kie.MarketFail:
		return false
	case kie.MarketSuccess:
		if m.OutputPath.IsNull() {
			return false
		}
		rs := m.results(ctx)
		if len(rs) == 0 {
			return true
		}
		for _, r := range rs {
			if r.SHA256.IsNull() && r.Size.IsNull() {
				return true
			}
		}
		return false
	}
	return true // waiting, queuing, generating, or a state KIE added since
}

// settled reports a finished task whose every result is recorded where output_path says: plans and
// refreshes leave it as it is while its arguments are unchanged.
func (m *imageModel) settled(ctx context.Context) bool {
	if m.State.ValueString() != string(kie.MarketSuccess) || m.Results.IsNull() || m.Results.IsUnknown() {
		return false
	}
	for i, r := range m.results(ctx) {
		if m.OutputPath.IsNull() {
			if !r.Path.IsNull() || !r.SHA256.IsNull() {
				return false
			}
			continue
		}
		if r.Path.ValueString() != resultPath(m.OutputPath.ValueString(), i) || r.SHA256.IsNull() || r.Size.IsNull() {
			return false
		}
	}
	return true
}

func (m *imageModel) failed() bool { return m.State.ValueString() == string(kie.MarketFail) }

// noteUnfinishedImage records the task of an unfinished kie_image seen in state (Read, Delete, the
// resume hook).
func (d *providerData) noteUnfinishedImage(ctx context.Context, m *imageModel) {
	if d == nil || !m.unfinished(ctx) {
		return
	}
	d.tasks.Record(ctx, m.resumeKey(), m.TaskID.ValueString())
}
