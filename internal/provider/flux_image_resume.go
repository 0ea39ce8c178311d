package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

// Resuming a paid task
//
// A task that KIE accepted is paid for. When its Create does not finish — the create timeout, Ctrl-C, a
// download that fails, a crash, a state that could not be written — the next apply must finish that
// task, not buy another. Terraform does not make that easy: a Create that fails leaves a tainted object,
// and the replacement Terraform plans for it sees nothing of the old object (its plan has a null prior
// state, the apply re-plans it from the configuration alone, and with create_before_destroy it is created
// before the old object is even read again). So the task travels outside the object, in the resume
// ledger, a small folder of files next to Terraform's own working files:
//
//  1. Create records the task in the ledger the moment KIE accepts it, before waiting, and removes it when
//     the task ends (an image in state, or a task that failed at KIE).
//  2. Whenever the provider sees an unfinished task in state — on every plan and apply through
//     UpgradeResourceState (also with -refresh=false), on refresh (Read) and on Delete — it records it
//     too, so a machine that never ran the first Create (a CI runner with remote state) learns of it.
//  3. A Create whose generation arguments (resumeKey) match a recorded task finishes that task instead of
//     starting a new generation. Its plan says so in a warning and does not count it against
//     max_new_images.
//  4. A recorded task that KIE no longer knows (404) is buried: never offered again.
//
// The ledger is keyed by the API base URL and the arguments, so only an identical request to the same
// API can take a task. An object that is not tainted but unfinished (an imported task still generating)
// is finished in place by Update instead; see planUnfinished.

// resumeMaxAge is how long a recorded task is offered: KIE keeps results for 14 days.
const resumeMaxAge = 14 * 24 * time.Hour

// resumeDir is the ledger folder.
func resumeDir() string { return filepath.Join(localDir(), "pending-tasks") }

// ledgerEntry is one file of the ledger.
type ledgerEntry struct {
	BaseURL  string    `json:"base_url"`
	Key      string    `json:"key"`
	TaskID   string    `json:"task_id"`
	Recorded time.Time `json:"recorded"`
	// Buried marks a task that can never finish: it is kept only so it is not recorded again.
	Buried bool `json:"buried,omitempty"`
}

// resumeLedger is one provider instance's view of the ledger. Files make it survive between the plan
// and the apply (separate provider processes) and across runs; claims keep two resources with identical
// arguments in one process from taking the same task.
type resumeLedger struct {
	mu      sync.Mutex
	dir     string
	baseURL string
	now     func() time.Time
	claimed map[string]bool // task ids a Create of this process took
	planned map[string]bool // task ids a plan of this process announced
	// ended are task ids that ended in this process: the old object of a create_before_destroy
	// replacement, read after its task was finished, must not offer it again.
	ended map[string]bool
}

func newResumeLedger(dir, baseURL string) *resumeLedger {
	return &resumeLedger{dir: dir, baseURL: baseURL, now: time.Now, claimed: map[string]bool{}, planned: map[string]bool{}, ended: map[string]bool{}}
}

func (l *resumeLedger) file(taskID string) string {
	sum := sha256.Sum256([]byte(l.baseURL + "\x00" + taskID))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:16])+".json")
}

// record offers a task for resuming; it reports whether the task was new to the ledger. A buried task
// is never recorded again.
func (l *resumeLedger) record(key, taskID string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended[taskID] {
		return false, nil
	}
	if e, err := l.read(l.file(taskID)); err == nil && e.TaskID == taskID {
		if e.Buried || e.Key == key {
			return false, nil
		}
	}
	return true, l.write(ledgerEntry{BaseURL: l.baseURL, Key: key, TaskID: taskID, Recorded: l.now().UTC()})
}

// forget removes a task that ended: its image is in state, or it failed at KIE.
func (l *resumeLedger) forget(taskID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[taskID] = true
	if err := os.Remove(l.file(taskID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resume ledger: %w", err)
	}
	return nil
}

// bury marks a task that can never finish, so that no later run offers it again.
func (l *resumeLedger) bury(taskID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[taskID] = true
	return l.write(ledgerEntry{BaseURL: l.baseURL, TaskID: taskID, Recorded: l.now().UTC(), Buried: true})
}

// take claims the oldest recorded task with these arguments for a Create of this process. The entry
// stays on disk until forget, so a crash before the task ends still leaves it for the next run.
func (l *resumeLedger) take(key string) (string, bool) {
	return l.claim(key, l.claimed)
}

// announce picks, for a plan, the task a Create with these arguments will take.
func (l *resumeLedger) announce(key string) (string, bool) {
	return l.claim(key, l.planned)
}

func (l *resumeLedger) claim(key string, claims map[string]bool) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries() {
		if !e.Buried && e.Key == key && !claims[e.TaskID] {
			claims[e.TaskID] = true
			return e.TaskID, true
		}
	}
	return "", false
}

// entries lists this API's live entries, oldest first, dropping those past resumeMaxAge.
func (l *resumeLedger) entries() []ledgerEntry {
	names, err := os.ReadDir(l.dir)
	if err != nil {
		return nil
	}
	var out []ledgerEntry
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".json") {
			continue
		}
		p := filepath.Join(l.dir, n.Name())
		e, err := l.read(p)
		if err != nil || e.BaseURL != l.baseURL {
			continue
		}
		if l.now().Sub(e.Recorded) > resumeMaxAge {
			_ = os.Remove(p)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Recorded.Before(out[j].Recorded) })
	return out
}

func (l *resumeLedger) read(p string) (ledgerEntry, error) {
	var e ledgerEntry
	b, err := os.ReadFile(p)
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(b, &e)
}

// write replaces an entry atomically: a reader never sees half a file.
func (l *resumeLedger) write(e ledgerEntry) error {
	if err := writeJSONAtomic(l.dir, l.file(e.TaskID), e); err != nil {
		return fmt.Errorf("resume ledger: %w", err)
	}
	return nil
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
	if d == nil || d.resume == nil || !m.unfinished() {
		return
	}
	d.recordTask(ctx, m.resumeKey(), m.TaskID.ValueString())
}

func (d *providerData) recordTask(ctx context.Context, key, taskID string) {
	added, err := d.resume.record(key, taskID)
	switch {
	case err != nil:
		tflog.Warn(ctx, "could not record the task for resuming; it stays in state", map[string]any{"task_id": taskID, "error": err.Error()})
	case added:
		tflog.Info(ctx, "an unfinished task is recorded for resuming by a Create with the same arguments", map[string]any{"task_id": taskID})
	}
}

// forgetTask drops a task that ended from the ledger; a failure only costs a stale entry.
func (d *providerData) forgetTask(ctx context.Context, taskID string) {
	if err := d.resume.forget(taskID); err != nil {
		tflog.Warn(ctx, "could not drop an ended task from the resume ledger", map[string]any{"task_id": taskID, "error": err.Error()})
	}
}

// buryTask marks a task that can never finish, so that it is not offered again.
func (d *providerData) buryTask(ctx context.Context, taskID string) {
	if err := d.resume.bury(taskID); err != nil {
		tflog.Warn(ctx, "could not mark a lost task in the resume ledger", map[string]any{"task_id": taskID, "error": err.Error()})
	}
}

// noteUnfinishedRaw records an unfinished task from a stored object as Terraform hands it to
// UpgradeResourceState, which it does for every object in state (tainted ones included) on every plan
// and apply, whether or not it refreshes.
func (d *providerData) noteUnfinishedRaw(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) {
	if d == nil || d.resume == nil || req.TypeName != fluxImageTypeName || req.RawState == nil || len(req.RawState.JSON) == 0 {
		return
	}
	m, err := modelFromStateJSON(req.RawState.JSON)
	if err != nil {
		tflog.Debug(ctx, "stored kie_flux_image not understood; not checked for an unfinished task", map[string]any{"error": err.Error()})
		return
	}
	d.noteUnfinished(ctx, m)
}

// UpgradeResourceState lets the provider see every stored object before Terraform plans it.
func (s *fastPathServer) UpgradeResourceState(ctx context.Context, req *tfprotov6.UpgradeResourceStateRequest) (*tfprotov6.UpgradeResourceStateResponse, error) {
	if d := s.data(); d != nil {
		d.noteUnfinishedRaw(d.logContext(ctx), req)
	}
	return s.ProviderServer.UpgradeResourceState(ctx, req)
}

// storedImage is the part of a stored object's JSON that identifies its task and its arguments.
type storedImage struct {
	TaskID            *string           `json:"task_id"`
	Status            *string           `json:"status"`
	Prompt            *string           `json:"prompt"`
	Model             *string           `json:"model"`
	AspectRatio       *string           `json:"aspect_ratio"`
	InputImage        *string           `json:"input_image"`
	InputImageSHA256  *string           `json:"input_image_sha256"`
	OutputFormat      *string           `json:"output_format"`
	PromptUpsampling  *bool             `json:"prompt_upsampling"`
	SafetyTolerance   *int64            `json:"safety_tolerance"`
	EnableTranslation *bool             `json:"enable_translation"`
	Watermark         *string           `json:"watermark"`
	UploadCn          *bool             `json:"upload_cn"`
	Triggers          map[string]string `json:"triggers"`
	OutputPath        *string           `json:"output_path"`
	OutputSHA256      *string           `json:"output_sha256"`
	OutputSize        *int64            `json:"output_size"`
}

func modelFromStateJSON(raw []byte) (*fluxImageModel, error) {
	var s storedImage
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	m := &fluxImageModel{
		TaskID:            types.StringPointerValue(s.TaskID),
		Status:            types.StringPointerValue(s.Status),
		Prompt:            types.StringPointerValue(s.Prompt),
		Model:             types.StringPointerValue(s.Model),
		AspectRatio:       types.StringPointerValue(s.AspectRatio),
		InputImage:        types.StringPointerValue(s.InputImage),
		InputImageSHA256:  types.StringPointerValue(s.InputImageSHA256),
		OutputFormat:      types.StringPointerValue(s.OutputFormat),
		PromptUpsampling:  types.BoolPointerValue(s.PromptUpsampling),
		SafetyTolerance:   types.Int64PointerValue(s.SafetyTolerance),
		EnableTranslation: types.BoolPointerValue(s.EnableTranslation),
		Watermark:         types.StringPointerValue(s.Watermark),
		UploadCn:          types.BoolPointerValue(s.UploadCn),
		OutputPath:        types.StringPointerValue(s.OutputPath),
		OutputSHA256:      types.StringPointerValue(s.OutputSHA256),
		OutputSize:        types.Int64PointerValue(s.OutputSize),
		Triggers:          types.MapNull(types.StringType),
	}
	if s.Triggers != nil {
		elems := map[string]attr.Value{}
		for k, v := range s.Triggers {
			elems[k] = types.StringValue(v)
		}
		t, diags := types.MapValue(types.StringType, elems)
		if diags.HasError() {
			return nil, fmt.Errorf("triggers: %v", diags)
		}
		m.Triggers = t
	}
	return m, nil
}
