package provider

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// checkOutputFile says why no image file can be written at p, found at plan time so that the apply
// does not pay for an image it then cannot store: p is a directory, or a component of its parent is
// a file. Anything it cannot decide (a permission denied) is left to the apply.
func checkOutputFile(p string) error {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return fmt.Errorf("output_path %q is an existing directory; it must name the image file itself, such as %q",
			p, filepath.Join(p, "image.png"))
	}
	for dir := filepath.Dir(p); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && fi.IsDir():
			return nil
		case err == nil:
			return fmt.Errorf("output_path %q cannot be created: %q is a file, not a directory", p, dir)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return nil
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil
		}
	}
}
