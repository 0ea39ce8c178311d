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
	resume *resumeLedger
	// files vouches for unchanged output files without hashing them on every plan.
	files *fileIndex
	// receiver is the callback receiver, nil unless configured.
	receiver *callbackReceiver
}

// logContext masks the API key in every log line written under ctx, whatever code writes it: in the
// form the client sends it (trimmed) and as configured.
// fileIntact checks a local file through the file index once the provider is configured.
func (d *providerData) fileIntact(p, sha string, size int64) bool {
	var files *fileIndex
	if d != nil {
		files = d.files
	}
	return files.intact(p, sha, size)
}

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

// Info shows why a generation waits (KIE refused it for now) at the default TF_LOG=INFO.
func (tflogLogger) Info(ctx context.Context, msg string, fields map[string]any) {
	tflog.Info(ctx, msg, fields)
}

// errSpendLimit marks a Create refused by the spend guard.
var errSpendLimit = errors.New("spend limit reached")

// spendGuard counts the paid generations one provider instance starts and refuses those beyond the limit.
// A negative limit means no limit.
type spendGuard struct {
	mu      sync.Mutex
	limit   int64
	started int64
	planned map[string]bool // the new images planned, by their arguments and output_path
}

func newSpendGuard(limit int64) *spendGuard {
	return &spendGuard{limit: limit, planned: map[string]bool{}}
}

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

// plan counts one new paid generation that a plan of this provider instance would start, and refuses it
// beyond the limit, so that a plan that would exceed max_new_images fails before anything is paid.
// Images are counted once each, by key (the arguments that shape the image and output_path): where one
// provider process serves both the plan and the apply (terraform test), Terraform plans every new
// resource again before creating it, and that is the same image, not another one to pay for.
func (g *spendGuard) plan(key string) (int64, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.planned[key] = true
	n := int64(len(g.planned))
	if g.limit >= 0 && n > g.limit {
		return n, fmt.Errorf("%w: max_new_images is %d and this plan would start at least %d new paid generations "+
			"(this image is number %d). Nothing was paid. Raise max_new_images (or KIE_MAX_NEW_IMAGES), or apply "+
			"fewer images at a time (terraform apply -target=...)", errSpendLimit, g.limit, n, n)
	}
	return n, nil
}

func (g *spendGuard) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started > 0 {
		g.started--
	}
}
