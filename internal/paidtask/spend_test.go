package paidtask

import (
	"errors"
	"testing"
)

// The plan counts every planned instance of one walk, identical ones too (each is a paid request);
// another walk (the apply's re-plans, the next run of a terraform test file) counts from zero.
// The apply's count (reserve) is per request.
func TestSpendGuardCountsEveryImageOfAWalk(t *testing.T) {
	g := NewSpendGuard(2)
	plan, apply := &Walk{}, &Walk{}
	for i := range 2 {
		if err := g.plan(plan); err != nil {
			t.Fatalf("image %d of 2: %v", i+1, err)
		}
	}
	if err := g.plan(plan); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("a third image, identical to the others: %v; want the spend limit", err)
	}
	for i := range 2 {
		if err := g.plan(apply); err != nil {
			t.Fatalf("the apply's re-plan %d counted the plan's images too: %v", i+1, err)
		}
	}
	for range 2 {
		if err := g.reserve(apply); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.reserve(apply); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("a third paid request: %v, want the spend limit", err)
	}
	g.release(apply)
	if err := g.reserve(apply); err != nil {
		t.Fatalf("after a refused request was released: %v", err)
	}
	if err := NewSpendGuard(-1).plan(&Walk{}); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

// A recorded task is finished, not counted, in every walk that plans it (the apply re-plans it in the
// same process under terraform test); within one walk it is announced to one create only.
func TestPlanNewAnnouncesARecordedTaskOncePerWalk(t *testing.T) {
	tasks, _ := newTasks(t, 0)
	tasks.Record(t.Context(), "k", "t1")
	for walk := range 2 {
		w := &Walk{}
		if id, err := tasks.PlanNew("k", true, w); err != nil || id != "t1" {
			t.Fatalf("walk %d: PlanNew = %q %v; want the recorded task, nothing counted", walk+1, id, err)
		}
		if _, err := tasks.PlanNew("k", true, w); !errors.Is(err, ErrSpendLimit) {
			t.Fatalf("walk %d: a second identical create: %v; want a new image, over max_new_images = 0", walk+1, err)
		}
	}
}
