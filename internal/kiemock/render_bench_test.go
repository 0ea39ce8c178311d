package kiemock

import "testing"

// benchTask is a finished 16:9 task at full size, as the benchmark's downloads render it.
func benchTask(format string) *task {
	w, h, _ := ScaledSize("16:9", 1)
	return &task{
		id: "fluxkontext_0123456789abcdef01234567", format: format, width: w, height: h,
		model: modelPro, aspect: "16:9",
		prompt: "A calm alpine lake at sunrise, snow-capped peaks, mist over the water, photorealistic",
	}
}

func BenchmarkRenderResult(b *testing.B) {
	for _, format := range []string{"png", "jpeg"} {
		b.Run(format, func(b *testing.B) {
			t := benchTask(format)
			for b.Loop() {
				if _, err := encodeTaskImage(t, false, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
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
