package provider

import (
	"path/filepath"
	"testing"
	"time"
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
