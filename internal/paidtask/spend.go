package paidtask

import (
	"errors"
	"fmt"
	"sync"
)

// ErrSpendLimit marks a generation refused by the spend guard: nothing was sent, nothing paid.
var ErrSpendLimit = errors.New("spend limit reached")

// SpendGuard counts the paid generations one provider instance starts, for every resource type
// together, and refuses those beyond the limit. A negative limit means no limit.
type SpendGuard struct {
	mu      sync.Mutex
	limit   int64
	started int64
	planned map[string]bool // the new generations planned, by image key
	unknown int             // new generations planned whose arguments were not known yet
}

// NewSpendGuard returns a guard allowing limit generations (negative: no limit).
func NewSpendGuard(limit int64) *SpendGuard {
	return &SpendGuard{limit: limit, planned: map[string]bool{}}
}

// reserve claims one generation before its request is sent.
func (g *SpendGuard) reserve() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit >= 0 && g.started >= g.limit {
		return fmt.Errorf("%w: max_new_images is %d and this run already started %d paid generations; "+
			"no request was sent. Raise max_new_images (or KIE_MAX_NEW_IMAGES) to allow more",
			ErrSpendLimit, g.limit, g.started)
	}
	g.started++
	return nil
}

// release returns a claim when the API provably did not accept the request.
func (g *SpendGuard) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started > 0 {
		g.started--
	}
}

// plan counts one new generation a plan would start and refuses it beyond the limit. Generations are
// counted once per key: where one process serves plan and apply (terraform test), Terraform plans
// every new resource again before creating it.
func (g *SpendGuard) plan(key string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.planned[key] = true
	return g.check()
}

// planUnknown counts a generation whose key is not known yet, as one of its own.
func (g *SpendGuard) planUnknown() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unknown++
	return g.check()
}

func (g *SpendGuard) check() error {
	n := int64(len(g.planned) + g.unknown)
	if g.limit >= 0 && n > g.limit {
		return fmt.Errorf("%w: max_new_images is %d and this plan would start at least %d new paid generations. "+
			"Nothing was paid. Raise max_new_images (or KIE_MAX_NEW_IMAGES), or apply fewer images at a time "+
			"(terraform apply -target=...)", ErrSpendLimit, g.limit, n)
	}
	return nil
}
