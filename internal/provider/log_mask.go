package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// maskSecrets masks every secret in the messages and field values logged under ctx, both as configured
// and trimmed: the client trims the key before sending it, so a server that echoes it back echoes the
// trimmed form, while a key read with file() keeps its trailing newline in the configuration.
func maskSecrets(ctx context.Context, secrets ...string) context.Context {
	var masks []string
	for _, s := range secrets {
		t := strings.TrimSpace(s)
		if t == "" {
			continue // masking blanks would garble every line
		}
		if s != t {
			masks = append(masks, s) // the longer form first, so no newline is left dangling
		}
		masks = append(masks, t)
	}
	if len(masks) == 0 {
		return ctx
	}
	ctx = tflog.MaskMessageStrings(ctx, masks...)
	return tflog.MaskAllFieldValuesStrings(ctx, masks...)
}
