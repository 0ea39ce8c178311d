package kiemock

import (
	"fmt"
	"testing"
)

// benchTask is a finished 16:9 task at full size.
func benchTask(format string) *task {
	return scaledBenchTask(format, 1)
}

// scaledBenchTask is a finished 16:9 task at the given -image-scale.
func scaledBenchTask(format string, scale float64) *task {
	w, h, _ := ScaledSize("16:9", scale)
	return &task{
		id: "fluxkontext_0123456789abcdef01234567", format: format, width: w, height: h,
		model: modelPro, aspect: "16:9",
		prompt: "A calm alpine lake at sunrise, snow-capped peaks, mist over the water, photorealistic",
	}
}

// BenchmarkRenderResult draws a result at full size and at the quarter size make bench uses (its
// downloads are padded to 1-2 MB either way): the drawing is CPU the mock takes from whatever runs
// beside it.
func BenchmarkRenderResult(b *testing.B) {
	for _, format := range []string{"png", "jpeg"} {
		for _, scale := range []float64{1, 0.25} {
			b.Run(fmt.Sprintf("%s/scale=%g", format, scale), func(b *testing.B) {
				t := scaledBenchTask(format, scale)
				for b.Loop() {
					if _, err := encodeTaskImage(t, false, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkRenderEdit renders an edit of a full-size result, as the demo's second image.
func BenchmarkRenderEdit(b *testing.B) {
	src, err := encodeTaskImage(benchTask("png"), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	thumb, err := decodeThumbnail(src)
	if err != nil {
		b.Fatal(err)
	}
	t := benchTask("png")
	t.prompt = "Add colorful hot air balloons floating above the lake, keep everything else unchanged"
	for b.Loop() {
		if _, err := encodeTaskImage(t, false, thumb); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeInput is the once-per-edit cost of reading a full-size input.
func BenchmarkDecodeInput(b *testing.B) {
	src, err := encodeTaskImage(benchTask("png"), false, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := decodeThumbnail(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCaption(b *testing.B) {
	t := benchTask("png")
	img := renderImage([32]byte{}, t.width, t.height, nil, true)
	c := taskCaption(t, [32]byte{}, false)
	for b.Loop() {
		if err := drawCaption(img, innerArea(img.Bounds(), true), c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPattern(b *testing.B) {
	t := benchTask("png")
	for b.Loop() {
		renderImage([32]byte{}, t.width, t.height, nil, true)
	}
}
