package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
)

// providerData is what Configure hands to every resource and data source of one provider instance.
type providerData struct {
	client *kie.Client
	apiKey string
	spend  *spendGuard
	pool   *resumePool
	// receiver is the callback receiver, nil unless configured.
	receiver *callbackReceiver
}

// logContext masks the API key in every log line written under ctx, whatever code writes it: in the
// form the client sends it (trimmed) and as configured.
func (d *providerData) logContext(ctx context.Context) context.Context {
	if d == nil {
		return ctx
	}
	return maskSecrets(ctx, d.apiKey)
}

// tflogLogger adapts the client's logger to terraform-plugin-log, so TF_LOG controls it.
type tflogLogger struct{}

func (tflogLogger) Debug(ctx context.Context, msg string, fields map[string]any) {
	tflog.Debug(ctx, msg, fields)
}

// errSpendLimit marks a Create refused by the spend guard.
var errSpendLimit = errors.New("spend limit reached")

// spendGuard counts the paid generations one provider instance starts and refuses those beyond the limit.
// A negative limit means no limit.
type spendGuard struct {
	mu      sync.Mutex
	limit   int64
	started int64
}

func newSpendGuard(limit int64) *spendGuard { return &spendGuard{limit: limit} }

// reserve claims one generation before its request is sent; release returns the claim when the API
// provably did not accept the request (nothing was paid).
func (g *spendGuard) reserve() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.limit >= 0 && g.started >= g.limit {
		return fmt.Errorf("%w: max_new_images is %d and %d paid generations were already started by this run; "+
			"no request was sent for this image. Raise max_new_images (or KIE_MAX_NEW_IMAGES) to allow more",
			errSpendLimit, g.limit, g.started)
	}
	g.started++
	return nil
}

func (g *spendGuard) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started > 0 {
		g.started--
	}
}

// resumePool holds tasks whose Create was interrupted (timeout, Ctrl-C, failed download) after KIE accepted
// them, until a Create with identical generation arguments takes one back (see offerForResume).
type resumePool struct {
	mu    sync.Mutex
	tasks map[string][]string // generation-argument key → task ids
}

func newResumePool() *resumePool { return &resumePool{tasks: map[string][]string{}} }

// put offers a task once; it reports whether the task was new to the pool.
func (p *resumePool) put(key, taskID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range p.tasks[key] {
		if id == taskID {
			return false
		}
	}
	p.tasks[key] = append(p.tasks[key], taskID)
	return true
}

// peek reports the task take would return, without taking it.
func (p *resumePool) peek(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if ids := p.tasks[key]; len(ids) > 0 {
		return ids[0], true
	}
	return "", false
}

func (p *resumePool) take(key string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.tasks[key]
	if len(ids) == 0 {
		return "", false
	}
	id := ids[0]
	if len(ids) == 1 {
		delete(p.tasks, key)
	} else {
		p.tasks[key] = ids[1:]
	}
	return id, true
}
