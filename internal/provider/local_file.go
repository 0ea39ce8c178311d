package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// localFileIntact reports whether the file at p still is the image the provider wrote, always reading
// it (no file index): the size is compared first, then the hash.
func localFileIntact(p, wantSHA string, wantSize int64) bool {
	var noIndex *fileIndex
	return noIndex.intact(p, wantSHA, wantSize)
}

// copyFileAtomic copies src to dst with localfile.WriteAtomic, so dst is either complete or untouched.
func copyFileAtomic(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil { //nolint:gosec // image folders are meant to be readable
		return fmt.Errorf("creating folder for %s: %w", dst, err)
	}
	in, err := os.Open(src) //nolint:gosec // the path is the user's own output_path
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	err = localfile.WriteAtomic(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return nil
}

// removeOwnedFile deletes the image file the provider wrote, but leaves a file someone changed since,
// with a warning: it is no longer the provider's to delete.
func removeOwnedFile(ctx context.Context, diags *diag.Diagnostics, p, sha string, size int64) {
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return
	}
	if !localFileIntact(p, sha, size) {
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
