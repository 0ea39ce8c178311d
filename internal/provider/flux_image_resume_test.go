package provider

import (
	"context"
	"encoding/json"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestResumeLedger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pending")
	l := newResumeLedger(dir, "http://api.one")
	must := func(added bool, err error) bool {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !must(l.record("k", "t1")) || must(l.record("k", "t1")) {
		t.Fatal("a task is recorded once")
	}
	must(l.record("k", "t2"))
	must(l.record("other", "t3"))

	// Another process (a new ledger on the same folder) sees the tasks; another API does not.
	if _, ok := newResumeLedger(dir, "http://api.two").take("k"); ok {
		t.Fatal("a task of another API was offered")
	}
	next := newResumeLedger(dir, "http://api.one")
	if id, ok := next.announce("k"); !ok || id != "t1" {
		t.Fatalf("announce = %q %v, want the oldest, t1", id, ok)
	}
	a, _ := next.take("k")
	b, _ := next.take("k")
	if a == b || a == "" || b == "" {
		t.Fatalf("two creates with the same arguments took %q and %q", a, b)
	}
	if id, ok := next.take("k"); ok {
		t.Fatalf("a third create took %q", id)
	}

	// An ended task is gone, and is not recorded again by this process (the old object of a
	// create_before_destroy replacement is read after its task ended).
	if err := next.forget("t1"); err != nil {
		t.Fatal(err)
	}
	if must(next.record("k", "t1")) {
		t.Fatal("an ended task was recorded again")
	}
	if id, ok := newResumeLedger(dir, "http://api.one").take("k"); !ok || id != "t2" {
		t.Fatalf("after forgetting t1 a new process takes %q %v, want t2", id, ok)
	}

	// A buried task is never offered or recorded again, by any process.
	if err := next.bury("t3"); err != nil {
		t.Fatal(err)
	}
	fresh := newResumeLedger(dir, "http://api.one")
	if must(fresh.record("other", "t3")) {
		t.Fatal("a buried task was recorded again")
	}
	if id, ok := fresh.take("other"); ok {
		t.Fatalf("a buried task was offered: %q", id)
	}

	// Entries older than KIE keeps results are dropped.
	fresh.now = func() time.Time { return time.Now().Add(resumeMaxAge + time.Hour) }
	if id, ok := fresh.take("k"); ok {
		t.Fatalf("an expired entry was offered: %q", id)
	}
}

func TestModelFromStateJSONKeysLikeThePlan(t *testing.T) {
	raw := []byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","model":"flux-kontext-pro",
		"aspect_ratio":"16:9","output_format":"png","safety_tolerance":2,"enable_translation":true,
		"prompt_upsampling":false,"upload_cn":false,"triggers":{"v":"1"},"output_path":"out/a.png",
		"output_sha256":null,"output_size":null,"watermark":null,"input_image":null,"input_image_sha256":null}`)
	m, err := modelFromStateJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !m.unfinished() {
		t.Fatal("a generating task is unfinished")
	}
	changed, _ := modelFromStateJSON([]byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","triggers":{"v":"2"}}`))
	same, _ := modelFromStateJSON([]byte(`{"task_id":"t1","status":"GENERATING","prompt":"a kite","triggers":{"v":"1"}}`))
	if changed.resumeKey() == same.resumeKey() {
		t.Fatal("a change of triggers must change the key")
	}
	done, _ := modelFromStateJSON([]byte(`{"task_id":"t1","status":"SUCCESS","output_path":"a.png","output_sha256":null,"output_size":123}`))
	if done.unfinished() {
		t.Fatal("a file that went missing after its download is restored in place, not resumed")
	}
	never, _ := modelFromStateJSON([]byte(`{"task_id":"t1","status":"SUCCESS","output_path":"a.png","output_sha256":null,"output_size":null}`))
	if !never.unfinished() {
		t.Fatal("a download that never completed is unfinished")
	}
}

// The key recorded from a stored object (UpgradeResourceState sees only its JSON) must equal the key a
// plan computes for the same arguments through the framework; an argument missing from storedImage
// would make an interrupted task unresumable from state.
func TestStoredKeyMatchesFrameworkKey(t *testing.T) {
	f := newFastPathFixture(t)
	triggers := tftypes.NewValue(tftypes.Map{ElementType: tftypes.String}, map[string]tftypes.Value{"v": str("1")})
	state := with(f.finishedState(), "status", str("GENERATING"), "output_sha256", tftypes.NewValue(tftypes.String, nil),
		"output_size", tftypes.NewValue(tftypes.Number, nil), "input_image", str("https://example.test/in.png"),
		"watermark", str("w"), "model", str(modelMax), "prompt_upsampling", boolean(true), "safety_tolerance", num(1),
		"enable_translation", boolean(false), "upload_cn", boolean(true), "input_image_sha256", str("abc"),
		"callback_url", str("https://example.test/cb"), "triggers", triggers)
	// Every argument is set here, so a new one fails this line until the test (and storedImage) know it.
	for name, a := range f.schema.Attributes {
		if (a.IsRequired() || a.IsOptional()) && name != "input_image_file" {
			if v, ok := state[name]; !ok || v.IsNull() {
				t.Fatalf("argument %s is not set in this test: add it here and to storedImage", name)
			}
		}
	}
	raw := f.object(state)

	var fromFramework fluxImageModel
	if diags := (tfsdk.State{Schema: f.schema, Raw: raw}).Get(context.Background(), &fromFramework); diags.HasError() {
		t.Fatal(diags)
	}
	js, err := json.Marshal(plainValues(t, state))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, err := modelFromStateJSON(js)
	if err != nil {
		t.Fatal(err)
	}
	if fromJSON.resumeKey() != fromFramework.resumeKey() {
		t.Fatalf("the key from stored JSON differs from the plan's key:\nJSON  %+v\nplan  %+v", fromJSON.generateRequest(), fromFramework.generateRequest())
	}
	if !fromJSON.unfinished() {
		t.Fatal("a generating task read from JSON is not unfinished")
	}
}

// plainValues turns state attributes into the JSON Terraform stores (timeouts left out: not an argument).
func plainValues(t testing.TB, attrs map[string]tftypes.Value) map[string]any {
	t.Helper()
	out := map[string]any{}
	for name, v := range attrs {
		if !v.IsKnown() || v.IsNull() {
			out[name] = nil
			continue
		}
		switch {
		case v.Type().Is(tftypes.String):
			var s string
			_ = v.As(&s)
			out[name] = s
		case v.Type().Is(tftypes.Bool):
			var b bool
			_ = v.As(&b)
			out[name] = b
		case v.Type().Is(tftypes.Number):
			n := new(big.Float)
			_ = v.As(&n)
			i, _ := n.Int64()
			out[name] = i
		case v.Type().Is(tftypes.Map{ElementType: tftypes.String}):
			var m map[string]tftypes.Value
			_ = v.As(&m)
			out[name] = plainValues(t, m)
		default:
			t.Fatalf("attribute %s: type %s not handled", name, v.Type())
		}
	}
	return out
}
