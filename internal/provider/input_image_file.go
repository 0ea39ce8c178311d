package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/gif" // accepted input formats besides PNG and JPEG (registered in acc_helpers for tests)
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
)

// maxInputImageBytes caps a local input image; KIE's stream upload handles far more, but an edit input
// beyond this is almost certainly a mistake and would slow every plan that hashes it.
const maxInputImageBytes = 50 << 20

// inputImageUploadPath is the folder on KIE's temporary file storage that uploads go to.
const inputImageUploadPath = "images/terraform-provider-kie"

// inspectInputImage checks that p is a readable, non-empty image within the size cap and returns its
// SHA-256. It runs at plan time, so a bad file never becomes a paid task with a broken input.
func inspectInputImage(p string) (string, error) {
	return inspectImageFile("input_image_file", p)
}

// inspectImageFile is inspectInputImage for the attribute named attr.
func inspectImageFile(attr, p string) (string, error) {
	f, err := os.Open(p) //nolint:gosec // the path is the user's own input_image_file
	if err != nil {
		return "", fmt.Errorf("%s %q cannot be read: %w", attr, p, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s %q: %w", attr, p, err)
	}
	switch {
	case !info.Mode().IsRegular():
		return "", fmt.Errorf("%s %q is not a regular file", attr, p)
	case info.Size() == 0:
		return "", fmt.Errorf("%s %q is empty", attr, p)
	case info.Size() > maxInputImageBytes:
		return "", fmt.Errorf("%s %q is %d bytes, more than the %d MiB limit", attr, p, info.Size(), maxInputImageBytes>>20)
	}
	// Hash everything while keeping the head for the format check.
	var head bytes.Buffer
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(h, &limitedBuffer{buf: &head, max: 64 << 10}), f); err != nil {
		return "", fmt.Errorf("%s %q cannot be read: %w", attr, p, err)
	}
	if _, format, err := image.DecodeConfig(bytes.NewReader(head.Bytes())); err != nil {
		return "", fmt.Errorf("%s %q is not a PNG, JPEG or GIF image: %w", attr, p, err)
	} else if format == "" {
		return "", fmt.Errorf("%s %q has an unknown image format", attr, p)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// limitedBuffer keeps only the first max bytes written to it, and never fails a write.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		l.buf.Write(p[:room])
	}
	return len(p), nil
}
