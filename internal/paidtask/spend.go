package paidtask

import (
	"errors"
	"fmt"
	"sync"

	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

// ErrSpendLimit marks a generation refused by the spend guard: nothing was sent, nothing paid.
var ErrSpendLimit = errors.New("spend limit reached")

// SpendGuard holds max_new_images for one provider instance: every resource type together, counted
// per graph walk (Walk). A negative limit means no limit.
type SpendGuard struct {
	limit int64
}

// Walk counts the new generations one Terraform graph walk (a plan, or the re-plans of an apply)
// plans: one per planned resource instance, identical instances and unknown arguments included.
// Counting per walk, not per process, is what keeps one provider process serving several walks
// (terraform test) from adding up the plans of every run, or the apply's re-plans to the plan's.
type Walk struct {
	mu      sync.Mutex
	planned int64
	started int64 // paid requests sent (or maybe accepted) in this walk
	// announced are the recorded tasks this walk's creates will finish, one create each.
	announced map[string]bool
}

// announce picks the recorded task a create with key will finish, one not announced in this walk yet.
func (w *Walk) announce(l *localstate.Ledger, key string) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.announced == nil {
		w.announced = map[string]bool{}
	}
	return l.Announce(key, w.announced)
}

// NewSpendGuard returns a guard allowing limit generations (negative: no limit).
func NewSpendGuard(limit int64) *SpendGuard {
	return &SpendGuard{limit: limit}
}

// reserve claims one generation of apply walk w before its request is sent.
func (g *SpendGuard) reserve(w *Walk) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g.limit >= 0 && w.started >= g.limit {
		return fmt.Errorf("%w: max_new_images is %d and this run already started %d paid generations; "+
			"no request was sent. Raise max_new_images (or KIE_MAX_NEW_IMAGES) to allow more",
			ErrSpendLimit, g.limit, w.started)
	}
	w.started++
	return nil
}

// release returns a claim when the API provably did not accept the request.
func (g *SpendGuard) release(w *Walk) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started > 0 {
		w.started--
	}
}

// plan counts one new generation that walk w plans and refuses it beyond the limit.
func (g *SpendGuard) plan(w *Walk) error {
	w.mu.Lock()
	w.planned++
	n := w.planned
	w.mu.Unlock()
	if g.limit >= 0 && n > g.limit {
		return fmt.Errorf("%w: max_new_images is %d and this plan would start at least %d new paid generations. "+
			"Nothing was paid. Raise max_new_images (or KIE_MAX_NEW_IMAGES), or apply fewer images at a time "+
			"(terraform apply -target=...)", ErrSpendLimit, g.limit, n)
	}
	return nil
}
