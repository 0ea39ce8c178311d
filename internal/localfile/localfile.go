// Package localfile writes files whole or not at all and hashes them: the two file operations that both
// the API client (downloads) and the provider's local state need. It knows nothing of either.
package localfile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteAtomic writes path through a temporary file in the same folder: fill writes the content, which
// is then synced, made mode 0644 and renamed over path. A reader sees the old file or the new one, never
// half of one, and on any error the temporary file is removed.
func WriteAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("syncing the temporary file: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("closing the temporary file: %w", err)
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil { //nolint:gosec // images are meant to be readable
		return fmt.Errorf("setting file permissions: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("moving the file into place: %w", err)
	}
	syncDir(dir)
	return nil
}

// CopyAtomic copies src to dst (creating dst's folder), so dst is either complete or untouched.
func CopyAtomic(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil { //nolint:gosec // image folders are meant to be readable
		return fmt.Errorf("creating folder for %s: %w", dst, err)
	}
	in, err := os.Open(src) //nolint:gosec // the caller's own file
	if err != nil {
		return fmt.Errorf("opening %s: %w", src, err)
	}
	defer in.Close()
	err = WriteAtomic(dst, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return nil
}

// Hash returns the SHA-256 (hex) and size of a file, reading it as a stream.
func Hash(path string) (string, int64, error) {
	f, err := os.Open(path) //nolint:gosec // the caller's own file
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir makes a rename durable where the platform allows; failure only weakens durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
