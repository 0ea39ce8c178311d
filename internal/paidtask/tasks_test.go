package paidtask

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

func newTasks(t *testing.T, limit int64) (*Tasks, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	return New(localstate.NewLedger(dir, "http://api"), NewSpendGuard(limit)), dir
}

// A task KIE accepted is recorded before anything else happens, and the next create with the same key
// (in another process: a new book on the same folder) finishes it instead of paying again.
func TestObtainRecordsThenResumes(t *testing.T) {
	ctx := context.Background()
	w := &Walk{}
	tasks, dir := newTasks(t, -1)
	starts := 0
	start := func(context.Context) (string, error) { starts++; return "t1", nil }
	id, resumed, err := tasks.Obtain(ctx, "k", w, start)
	if err != nil || id != "t1" || resumed {
		t.Fatalf("Obtain = %q %v %v", id, resumed, err)
	}
	next := New(localstate.NewLedger(dir, "http://api"), NewSpendGuard(0))
	if id, err := next.PlanNew("k", true, &Walk{}); err != nil || id != "t1" {
		t.Fatalf("PlanNew = %q %v, want the recorded task and no spend", id, err)
	}
	id, resumed, err = next.Obtain(ctx, "k", w, start)
	if err != nil || id != "t1" || !resumed || starts != 1 {
		t.Fatalf("second Obtain = %q %v %v after %d starts; want t1 resumed without a start", id, resumed, err, starts)
	}
}

// Two identical creates of one run are two images: the second does not take the task the first just
// started, while a later process may finish either.
func TestObtainNeverTakesATaskThisProcessStarted(t *testing.T) {
	ctx := context.Background()
	w := &Walk{}
	tasks, dir := newTasks(t, -1)
	n := 0
	start := func(context.Context) (string, error) { n++; return fmt.Sprintf("t%d", n), nil }
	for i := range 2 {
		id, resumed, err := tasks.Obtain(ctx, "k", w, start)
		if want := fmt.Sprintf("t%d", i+1); err != nil || resumed || id != want {
			t.Fatalf("create %d: Obtain = %q %v %v; want %s, a task of its own", i+1, id, resumed, err, want)
		}
	}
	next := New(localstate.NewLedger(dir, "http://api"), NewSpendGuard(0))
	a, _, errA := next.Obtain(ctx, "k", w, start)
	b, _, errB := next.Obtain(ctx, "k", w, start)
	if errA != nil || errB != nil || a == b || n != 2 {
		t.Fatalf("the next process took %q (%v) and %q (%v) after %d starts; want t1 and t2, nothing paid", a, errA, b, errB, n)
	}
}

// The spend guard is released when KIE provably refused the request, and kept when the outcome is unknown.
func TestObtainSpendsOnlyWhatMayBePaid(t *testing.T) {
	ctx := context.Background()
	w := &Walk{}
	tasks, _ := newTasks(t, 1)
	refused := errors.New("refused")
	if _, _, err := tasks.Obtain(ctx, "a", w, func(context.Context) (string, error) { return "", refused }); !errors.Is(err, refused) {
		t.Fatal(err)
	}
	uncertain := &kie.UncertainCreateError{Err: errors.New("timeout")}
	if _, _, err := tasks.Obtain(ctx, "b", w, func(context.Context) (string, error) { return "", uncertain }); !errors.As(err, &uncertain) {
		t.Fatal(err)
	}
	if _, _, err := tasks.Obtain(ctx, "c", w, func(context.Context) (string, error) { return "t", nil }); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("after an uncertain create the limit of 1 is spent: %v", err)
	}
}

// Finish keeps the ledger true to what happened: a stored or failed task is forgotten, a resumed task
// KIE does not know is buried, anything else stays for the next run.
func TestFinishOutcomes(t *testing.T) {
	ctx := context.Background()
	notFound := &kie.APIError{Op: "record-info", Code: 404}
	failed := &kie.TaskFailedError{TaskID: "t"}
	for _, tc := range []struct {
		name      string
		resumed   bool
		waitErr   error
		storeErr  error
		kind      Kind
		ok        bool
		offeredAt bool // the task is still offered to the next create afterwards
	}{
		{name: "stored", ok: true},
		{name: "failed at KIE", waitErr: failed, kind: Failed},
		{name: "wait interrupted", waitErr: context.DeadlineExceeded, kind: Pending, offeredAt: true},
		{name: "download failed", storeErr: errors.New("EOF"), kind: Pending, offeredAt: true},
		{name: "resumed, unknown to KIE", resumed: true, waitErr: notFound, kind: Lost},
		{name: "resumed, other account", resumed: true, waitErr: &kie.APIError{Code: 401}, kind: Unreadable, offeredAt: true},
		{name: "new, not found yet", waitErr: notFound, kind: Pending, offeredAt: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tasks, dir := newTasks(t, -1)
			tasks.Record(ctx, "k", "t")
			err := Finish(ctx, tasks, "t", tc.resumed, Steps[string]{
				Wait:  func(context.Context, string) (string, error) { return "task", tc.waitErr },
				Store: func(context.Context, string) error { return tc.storeErr },
			})
			var te *Error
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Finish = %v, want success", err)
			case !tc.ok && (!errors.As(err, &te) || te.Kind != tc.kind || te.TaskID != "t"):
				t.Fatalf("Finish = %#v, want kind %d naming the task", err, tc.kind)
			}
			_, offered := localstate.NewLedger(dir, "http://api").Take("k")
			if offered != tc.offeredAt {
				t.Fatalf("offered to the next create: %v, want %v", offered, tc.offeredAt)
			}
			if IsLost(err) != (tc.kind == Lost && !tc.ok) {
				t.Fatalf("IsLost = %v", IsLost(err))
			}
		})
	}
}

// A plan whose arguments are not known yet cannot tell two images apart: each counts on its own, and
// none is announced as finishing a recorded task.
func TestPlanNewWithUnknownArguments(t *testing.T) {
	tasks, _ := newTasks(t, 1)
	tasks.Record(context.Background(), "k", "t1")
	w := &Walk{}
	if id, err := tasks.PlanNew("k", false, w); id != "" || err != nil {
		t.Fatalf("PlanNew = %q %v, want a new image within the limit", id, err)
	}
	if _, err := tasks.PlanNew("k", false, w); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("a second image with unknown arguments: %v, want the spend limit", err)
	}
}
