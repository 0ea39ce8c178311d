package main

import (
	"image"
	"image/color"
	"testing"

	"golang.org/x/image/font/gofont/goregular"
)

func TestNiceStep(t *testing.T) {
	for _, c := range []struct{ v, want float64 }{{300, 50}, {27, 5}, {40, 5}, {0, 1}, {0.9, 0.2}} {
		if got := niceStep(c.v, 8); got != c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestDrawMarksLinesAndText(t *testing.T) {
	s := series{label: "a=b", xs: []float64{0, 1, 2}, ys: []float64{0, 10, 0}}
	img, err := draw([]series{s}, "title", "x", "y", 400, 300)
	if err != nil {
		t.Fatal(err)
	}
	blue := palette[0]
	found := false
	for y := 0; y < 300 && !found; y++ {
		for x := 0; x < 400; x++ {
			if img.RGBAAt(x, y) == blue {
				found = true
				break
			}
		}
	}
	if !found {
		t.Fatal("the series line was not drawn")
	}
	if img.RGBAAt(0, 0) != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
		t.Fatal("background not white")
	}
	// The title is centred in the top band, above the plot.
	if ink(img, image.Rect(0, 0, 400, 40)) == 0 {
		t.Error("no title drawn")
	}
}

// ink counts the non-white pixels of img in r.
func ink(img *image.RGBA, r image.Rectangle) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.RGBAAt(x, y) != (color.RGBA{0xff, 0xff, 0xff, 0xff}) {
				n++
			}
		}
	}
	return n
}

// Text lands within its measured width around the line it is centred on, and every character of
// the benchmark's labels has a glyph (lower case included, which the old bitmap font lacked).
func TestText(t *testing.T) {
	face, err := newFace(goregular.TTF, 15)
	if err != nil {
		t.Fatal(err)
	}
	defer face.Close()
	const label = "kie_flux_image + callback_receiver, -parallelism=50 (N=500, S=10) 0.5%"
	for _, r := range label {
		if _, ok := face.GlyphAdvance(r); !ok {
			t.Errorf("no glyph for %q", r)
		}
	}
	c := canvas{RGBA: image.NewRGBA(image.Rect(0, 0, 700, 60)), label: face}
	c.fill(0, 0, 700, 60, color.RGBA{0xff, 0xff, 0xff, 0xff})
	w := textWidth(label, face)
	c.text(10, 30, label, face, color.RGBA{0, 0, 0, 0xff})
	if w < 300 || w > 680 {
		t.Fatalf("width %d px for %d characters at 15 px", w, len(label))
	}
	inside := image.Rect(10, 30-15, 10+w+1, 30+15)
	if ink(c.RGBA, inside) < 200 {
		t.Error("too little ink inside the text's box")
	}
	if n := ink(c.RGBA, c.Bounds()) - ink(c.RGBA, inside); n != 0 {
		t.Errorf("%d pixels of ink outside the text's box", n)
	}
}
