// Package paidtask is the life of a paid KIE task, shared by every resource that buys images: obtain
// (finish a recorded task or start a new one inside the spend guard), record, wait, store the results,
// then forget or bury; and at plan time, announce a resume or count a new generation. Resources supply
// what differs between KIE's APIs as functions; see docs/DESIGN.md.
package paidtask

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

// Tasks is one provider instance's book of paid tasks.
type Tasks struct {
	ledger *localstate.Ledger
	spend  *SpendGuard
}

// New returns the book kept in ledger, with the spend guard shared by every resource.
func New(ledger *localstate.Ledger, spend *SpendGuard) *Tasks {
	return &Tasks{ledger: ledger, spend: spend}
}

// Obtain returns the task a create waits for. A task recorded for key (accepted in an earlier run that
// did not finish) is taken instead of paying again (resumed is true). Otherwise start sends the one paid
// request inside the spend guard of apply walk w, and the task is recorded the moment KIE accepts it.
func (t *Tasks) Obtain(ctx context.Context, key string, w *Walk, start func(context.Context) (string, error)) (taskID string, resumed bool, err error) {
	if id, ok := t.ledger.Take(key); ok {
		tflog.Info(ctx, "resuming an unfinished task instead of generating again", map[string]any{"task_id": id})
		return id, true, nil
	}
	if err := t.spend.reserve(w); err != nil {
		return "", false, err
	}
	taskID, err = start(ctx)
	if err != nil {
		var uncertain *kie.UncertainCreateError
		if !errors.As(err, &uncertain) {
			t.spend.release(w) // refused before acceptance: nothing was paid
		}
		return "", false, err
	}
	tflog.Info(ctx, "KIE accepted the generation task", map[string]any{"task_id": taskID})
	// Held by this create: an identical create of the same run pays for its own image.
	added, err := t.ledger.Hold(key, taskID)
	logRecorded(ctx, taskID, added, err)
	return taskID, false, nil
}

// Steps are what a resource's API does with an accepted task.
type Steps[T any] struct {
	// Wait polls the task until it ends; it also records in the resource what KIE reported.
	Wait func(ctx context.Context, taskID string) (T, error)
	// Store downloads every result the resource keeps; nil when it keeps none.
	Store func(ctx context.Context, task T) error
}

// Finish waits for a task and stores its results. It returns nil once they are in place, else an
// *Error saying what became of the task; either way the ledger is kept true to it.
func Finish[T any](ctx context.Context, t *Tasks, taskID string, resumed bool, s Steps[T]) error {
	task, err := s.Wait(ctx, taskID)
	var failed *kie.TaskFailedError
	switch {
	case errors.As(err, &failed):
		t.Forget(ctx, taskID)
		return &Error{Kind: Failed, TaskID: taskID, Err: err}
	case resumed && kie.IsNotFound(err):
		t.bury(ctx, taskID)
		return &Error{Kind: Lost, TaskID: taskID, Err: err}
	case resumed && (kie.IsUnauthorized(err) || kie.IsForbidden(err)):
		return &Error{Kind: Unreadable, TaskID: taskID, Err: err}
	case err != nil:
		return &Error{Kind: Pending, TaskID: taskID, Err: err}
	}
	if s.Store != nil {
		if err := s.Store(ctx, task); err != nil {
			return &Error{Kind: Pending, TaskID: taskID, Err: err, Stored: true}
		}
	}
	t.Forget(ctx, taskID)
	return nil
}

// Record offers an unfinished task (accepted, never stored) to the next create with the same key.
func (t *Tasks) Record(ctx context.Context, key, taskID string) {
	added, err := t.ledger.Record(key, taskID)
	logRecorded(ctx, taskID, added, err)
}

func logRecorded(ctx context.Context, taskID string, added bool, err error) {
	switch {
	case err != nil:
		tflog.Warn(ctx, "could not record the task for resuming; it stays in state", map[string]any{"task_id": taskID, "error": err.Error()})
	case added:
		tflog.Info(ctx, "an unfinished task is recorded for resuming by a create with the same arguments", map[string]any{"task_id": taskID})
	}
}

// Forget drops a task that ended; a failure only leaves a stale entry.
func (t *Tasks) Forget(ctx context.Context, taskID string) {
	if err := t.ledger.Forget(taskID); err != nil {
		tflog.Warn(ctx, "could not drop an ended task from the resume ledger", map[string]any{"task_id": taskID, "error": err.Error()})
	}
}

func (t *Tasks) bury(ctx context.Context, taskID string) {
	if err := t.ledger.Bury(taskID); err != nil {
		tflog.Warn(ctx, "could not mark a lost task in the resume ledger", map[string]any{"task_id": taskID, "error": err.Error()})
	}
}

// PlanNew is the plan-time side of a create: the recorded task it will finish (resumeID), or else one
// new paid generation counted against the spend limit in walk w (an error beyond the limit). With
// arguments not known yet (known false) the key is incomplete: no task is announced, and the image
// counts as a new one.
func (t *Tasks) PlanNew(key string, known bool, w *Walk) (resumeID string, err error) {
	if known {
		if id, ok := w.announce(t.ledger, key); ok {
			return id, nil
		}
	}
	return "", t.spend.plan(w)
}
