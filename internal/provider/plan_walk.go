package provider

import (
	"sync"

	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

// planWalks tells Terraform's graph walks apart, for what must be counted once per walk: the new
// images max_new_images counts and the files each planned instance writes. Terraform plans every
// resource instance once per walk (a plan, or an apply, which plans each change again before making
// it), but never says which walk a call belongs to. Three signals mark a new walk:
//
//   - ConfigureProvider, which starts a fresh planWalks: the CLI starts one provider process, and
//     configures it, per walk (seen with Terraform 1.5.7 and 1.14.3 and OpenTofu 1.12.6 `apply`, and
//     OpenTofu 1.12.6 `tofu test`).
//   - A change of the walk's kind, read from the deferral capability Terraform sends with each plan.
//     Terraform 1.14's `terraform test` serves every run of a file (plan and apply walks) from one
//     process configured once (seen with 1.14.3, for a provider configured in the test file), and
//     sends DeferralAllowed false with a plan walk's plans and true with an apply walk's re-plans
//     (as its `apply` does), so each flip starts a new walk.
//   - An object in state (a task id) planned a second time: a walk plans each object once (a
//     replacement's second plan is a create, without the object), so that is the next walk, such as
//     the plan of a terraform test run after a run that changed nothing.
//
// What is left: in one process, a walk of one kind following another (a `command = plan` run after
// a run without changes) is only told apart once it plans an object in state, so creates it plans
// before that are counted with the earlier walk.
type planWalks struct {
	mu       sync.Mutex
	applying bool
	started  bool
	walk     *planWalk
}

// planWalk is what one graph walk planned.
type planWalk struct {
	spend paidtask.Walk
	files fileClaims
	// priors are the task ids of the objects in state this walk planned.
	priors map[string]bool
}

// current is the walk a plan belongs to; applying is the plan request's deferral capability, prior
// the task id of the object in state it plans ("" for a create).
func (w *planWalks) current(applying bool, prior string) *planWalk {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started || w.applying != applying || (prior != "" && w.walk.priors[prior]) {
		w.started, w.applying, w.walk = true, applying, &planWalk{priors: map[string]bool{}}
	}
	if prior != "" {
		w.walk.priors[prior] = true
	}
	return w.walk
}

// latest is the walk of the latest plan: an apply's creates belong to the walk that re-planned them.
func (w *planWalks) latest() *planWalk {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.walk == nil {
		w.walk = &planWalk{priors: map[string]bool{}}
	}
	return w.walk
}
