package localstate

import (
	"path/filepath"
	"testing"
	"time"
)

func TestLedger(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pending")
	l := NewLedger(dir, "http://api.one")
	must := func(added bool, err error) bool {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return added
	}
	if !must(l.Record("k", "t1")) || must(l.Record("k", "t1")) {
		t.Fatal("a task is recorded once")
	}
	must(l.Record("k", "t2"))
	must(l.Record("other", "t3"))

	// Another process (a new ledger on the same folder) sees the tasks; another API does not.
	if _, ok := NewLedger(dir, "http://api.two").Take("k"); ok {
		t.Fatal("a task of another API was offered")
	}
	next := NewLedger(dir, "http://api.one")
	if id, ok := next.Announce("k", map[string]bool{}); !ok || id != "t1" {
		t.Fatalf("Announce = %q %v, want the oldest, t1", id, ok)
	}
	a, _ := next.Take("k")
	b, _ := next.Take("k")
	if a == b || a == "" || b == "" {
		t.Fatalf("two creates with the same key took %q and %q", a, b)
	}
	if id, ok := next.Take("k"); ok {
		t.Fatalf("a third create took %q", id)
	}

	// An ended task is gone, and is not recorded again by this process.
	if err := next.Forget("t1"); err != nil {
		t.Fatal(err)
	}
	if must(next.Record("k", "t1")) {
		t.Fatal("an ended task was recorded again")
	}
	if id, ok := NewLedger(dir, "http://api.one").Take("k"); !ok || id != "t2" {
		t.Fatalf("after forgetting t1 a new process takes %q %v, want t2", id, ok)
	}

	// A buried task is never offered or recorded again, by any process.
	if err := next.Bury("t3"); err != nil {
		t.Fatal(err)
	}
	fresh := NewLedger(dir, "http://api.one")
	if must(fresh.Record("other", "t3")) {
		t.Fatal("a buried task was recorded again")
	}
	if id, ok := fresh.Take("other"); ok {
		t.Fatalf("a buried task was offered: %q", id)
	}

	// Entries older than KIE keeps results are dropped.
	fresh.now = func() time.Time { return time.Now().Add(LedgerMaxAge + time.Hour) }
	if id, ok := fresh.Take("k"); ok {
		t.Fatalf("an expired entry was offered: %q", id)
	}
}
