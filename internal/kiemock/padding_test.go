package kiemock

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"net/url"
	"testing"
)

// Padded images are as large as asked, still decode to the same pixels with the standard decoders,
// and stay the same file on every download.
func TestPaddedImagesDecodeAndHaveTheirSize(t *testing.T) {
	const minB, maxB = 1_000_000, 2_000_000
	s := startMock(t, Options{ImageScale: 0.1, ImageMinBytes: minB, ImageMaxBytes: maxB})
	for _, format := range []string{"png", "jpeg"} {
		d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "padded", "aspectRatio": "16:9", "outputFormat": format}))
		for _, link := range []string{d.Response.ResultImageURL, d.Response.OriginImageURL} {
			body := download(t, link)
			want := padTarget(sizeKey(t, link), minB, maxB)
			if n := int64(len(body)); n < want-3 || n > want || n < minB || n > maxB {
				t.Errorf("%s %s: %d bytes, want %d (in [%d, %d])", format, link, n, want, minB, maxB)
			}
			img, got, err := image.Decode(bytes.NewReader(body))
			if err != nil || got != format {
				t.Fatalf("%s: decode as %s: %v", link, got, err)
			}
			w, h, _ := ScaledSize("16:9", 0.1)
			if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
				t.Errorf("%s: %dx%d, want %dx%d", link, b.Dx(), b.Dy(), w, h)
			}
			if again := download(t, link); !bytes.Equal(body, again) {
				t.Errorf("%s: a second download differs", link)
			}
		}
	}
}

// sizeKey is the cache key of a file link: the task id, plus -origin for the origin image.
func sizeKey(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	id, origin, _, ok := parseTaskFile(u.Path)
	if !ok {
		t.Fatalf("not a task file link: %s", link)
	}
	if origin {
		return id + "-origin"
	}
	return id
}

func TestPadImageKeepsPixels(t *testing.T) {
	img := renderImage([32]byte{1, 2, 3}, 64, 40, nil, true)
	var p, j bytes.Buffer
	if err := png.Encode(&p, img); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&j, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		format string
		data   []byte
		target int64
		exact  bool
	}{
		{"png", p.Bytes(), 300_000, true},
		{"jpeg", j.Bytes(), 300_000, false},
		{"jpeg", j.Bytes(), int64(j.Len()) + 65537*2, true}, // two full COM segments
		{"png", p.Bytes(), int64(p.Len()) - 1, true},        // already larger: unchanged
	} {
		out := padImage(tc.data, tc.format, tc.target)
		want := max(tc.target, int64(len(tc.data)))
		if n := int64(len(out)); n > want || n < want-3 || (tc.exact && n != want) {
			t.Errorf("%s to %d: got %d bytes", tc.format, tc.target, n)
		}
		a, _, err := image.Decode(bytes.NewReader(tc.data))
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s padded to %d does not decode: %v", tc.format, tc.target, err)
		}
		if !samePixels(a, b) {
			t.Errorf("%s padded to %d: pixels changed", tc.format, tc.target)
		}
	}
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func TestPadTarget(t *testing.T) {
	if got := padTarget("x", 0, 0); got != 0 {
		t.Errorf("padding off: %d", got)
	}
	if got := padTarget("x", 5, 5); got != 5 {
		t.Errorf("fixed size: %d", got)
	}
	seen := map[int64]bool{}
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		n := padTarget(id, 1000, 2000)
		if n < 1000 || n > 2000 || n != padTarget(id, 1000, 2000) {
			t.Fatalf("%s: %d", id, n)
		}
		seen[n] = true
	}
	if len(seen) < 4 {
		t.Errorf("sizes barely vary across tasks: %v", seen)
	}
}
