package provider

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/localstate"
)

// removeOwnedFile deletes the image file the provider wrote, but leaves a file someone changed since,
// with a warning: it is no longer the provider's to delete.
func removeOwnedFile(ctx context.Context, diags *diag.Diagnostics, p, sha string, size int64) {
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return
	}
	if !localstate.Intact(p, sha, size) {
		diags.AddAttributeWarning(path.Root("output_path"), "Local file left in place",
			fmt.Sprintf("%s was changed after the provider wrote it, so it was not deleted.", p))
		return
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		diags.AddAttributeError(path.Root("output_path"), "Removing the local image failed", fmt.Sprintf("%s: %s", p, err))
		return
	}
	tflog.Debug(ctx, "removed local image file", map[string]any{"output_path": p})
}
