package main

import (
	"image/color"
	"testing"
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
	img := draw([]series{s}, "title", "x", "y", 400, 300)
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
}

func TestFontCoversLabels(t *testing.T) {
	for _, r := range "KIE_FLUX_IMAGE, -PARALLELISM=50 TERRAFORM_DATA + CURL (S=10) 0123456789./%:" {
		if _, ok := glyphs[r]; !ok {
			t.Errorf("no glyph for %q", r)
		}
	}
	for r, g := range glyphs {
		for _, row := range g {
			if len(row) != 5 {
				t.Errorf("glyph %q has a row of %d columns", r, len(row))
			}
		}
	}
}
