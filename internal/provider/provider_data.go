package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

// providerData is what Configure hands to every resource and data source of one provider instance.
type providerData struct {
	client *kie.Client
	apiKey string
	// keyProblem says why there is no API key ("" when there is one); see resolveAPIKey.
	keyProblem string
	// tasks is the book of paid tasks (resume ledger and spend guard) every resource shares.
	tasks *paidtask.Tasks
	// files vouches for unchanged output files without hashing them on every plan.
	files *localstate.FileIndex
	// receiver is the callback receiver, nil unless configured.
	receiver *callbackReceiver
	// walks tells graph walks apart, for what is counted once per walk (plan_walk.go).
	walks *planWalks
}

// planWalk is the walk a plan belongs to (applying: the request's deferral capability; prior: the
// task id of the object in state, "" for a create); nil when the provider is not configured.
func (d *providerData) planWalk(applying bool, prior string) *planWalk {
	if d == nil {
		return nil
	}
	return d.walks.current(applying, prior)
}

// fileIntact checks a local file, through the file index once the provider is configured.
func (d *providerData) fileIntact(p, sha string, size int64) bool {
	if d == nil {
		return localstate.Intact(p, sha, size)
	}
	return d.files.Intact(p, sha, size)
}

// logContext masks the API key in every log line written under ctx, whatever code writes it.
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

// applyWalk is the spend count of the walk a create belongs to: the walk of its re-plan, the latest.
func (d *providerData) applyWalk() *paidtask.Walk {
	return &d.walks.latest().spend
}
