package kiemock

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

func testFace(t *testing.T, px float64) font.Face {
	t.Helper()
	fonts, err := loadFonts()
	if err != nil {
		t.Fatal(err)
	}
	face, err := newFace(fonts.regular, px)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = face.Close() })
	return face
}

func TestWrapText(t *testing.T) {
	face := testFace(t, 20)
	maxW := fixed.I(200)
	prompt := "A calm alpine lake at sunrise, snow-capped peaks, mist over the water, photorealistic"

	lines := wrapText(face, prompt, maxW, 8)
	if len(lines) < 3 {
		t.Fatalf("not wrapped: %q", lines)
	}
	for _, l := range lines {
		if w := font.MeasureString(face, l); w > maxW {
			t.Errorf("line %q is %v wide, over %v", l, w, maxW)
		}
	}
	if got := strings.Join(lines, " "); got != prompt {
		t.Fatalf("wrapping lost or reordered words: %q", got)
	}

	// Too many lines end with an ellipsis on the last line kept.
	cut := wrapText(face, prompt, maxW, 2)
	if len(cut) != 2 || !strings.HasSuffix(cut[1], "…") || font.MeasureString(face, cut[1]) > maxW {
		t.Fatalf("cut to two lines: %q", cut)
	}

	// A word wider than a line is split, never dropped.
	long := strings.Repeat("x", 80)
	split := wrapText(face, long, maxW, 8)
	if len(split) < 2 || strings.Join(split, "") != long {
		t.Fatalf("long word: %q", split)
	}

	if got := wrapText(face, "  \n ", maxW, 8); len(got) != 0 {
		t.Fatalf("blank prompt gave lines %q", got)
	}
	// A huge prompt costs no more than its first lines.
	start := time.Now()
	if got := wrapText(face, strings.Repeat("word ", 200000), maxW, 3); len(got) != 3 {
		t.Fatalf("huge prompt: %d lines", len(got))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("huge prompt took %v", took)
	}
}

// grey is a w×h image of one mid grey.
func grey(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	return img
}

// rowsWithText reports, per row, whether it holds a near-white pixel (the prompt's text).
func rowsWithText(img *image.RGBA) []bool {
	b := img.Bounds()
	rows := make([]bool, b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			o := img.PixOffset(x, y)
			if img.Pix[o] > 220 && img.Pix[o+1] > 220 && img.Pix[o+2] > 220 {
				rows[y-b.Min.Y] = true
				break
			}
		}
	}
	return rows
}

// rowsWithHeader reports, per row, whether it holds a pixel of the header's colour.
func rowsWithHeader(img *image.RGBA) []bool {
	b := img.Bounds()
	rows := make([]bool, b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := img.RGBAAt(x, y); c.R > 200 && c.G > 160 && c.B < 150 {
				rows[y-b.Min.Y] = true
				break
			}
		}
	}
	return rows
}

func textBand(rows []bool) (first, last, count int) {
	first, last = -1, -1
	for y, ok := range rows {
		if ok {
			if first < 0 {
				first = y
			}
			last = y
			count++
		}
	}
	return first, last, count
}

func TestCaptionPlacementAndSize(t *testing.T) {
	const w, h = 696, 376 // 16:9 at half size
	short := caption{header: "flux-kontext-pro · 16:9", tag: "fluxkontext_x", prompt: "A red rocket", accent: color.RGBA{255, 0, 0, 255}}

	bottom := grey(w, h)
	if err := drawCaption(bottom, bottom.Bounds(), short); err != nil {
		t.Fatal(err)
	}
	first, last, n := textBand(rowsWithText(bottom))
	if n == 0 || first < h/2 || last >= h {
		t.Fatalf("a result's caption must be at the bottom: text rows %d..%d (%d)", first, last, n)
	}
	// The panel darkens what is under it; above it the picture is untouched.
	if o := bottom.PixOffset(w/2, h-2); bottom.Pix[o] >= 128 {
		t.Fatalf("panel not shaded: %v", bottom.Pix[o:o+4])
	}
	if o := bottom.PixOffset(w/2, h/4); !bytes.Equal(bottom.Pix[o:o+4], []byte{128, 128, 128, 128}) {
		t.Fatalf("picture above the panel changed: %v", bottom.Pix[o:o+4])
	}

	top := grey(w, h)
	edit := short
	edit.top = true
	if err := drawCaption(top, top.Bounds(), edit); err != nil {
		t.Fatal(err)
	}
	if first, last, n := textBand(rowsWithText(top)); n == 0 || last > h/2 || first < 0 {
		t.Fatalf("an edit's caption must be at the top: text rows %d..%d", first, last)
	}

	// The task id sits beside the header when there is room, else on a line of its own.
	id := "fluxkontext_0123456789abcdef01234567"
	wide, narrow := grey(w, h), grey(h, w) // same shorter side, so the same text size
	withID := short
	withID.tag = id
	for _, img := range []*image.RGBA{wide, narrow} {
		if err := drawCaption(img, img.Bounds(), withID); err != nil {
			t.Fatal(err)
		}
	}
	wf, wl, _ := textBand(rowsWithHeader(wide))
	nf, nl, _ := textBand(rowsWithHeader(narrow))
	t.Logf("header rows: wide %d..%d, narrow %d..%d", wf, wl, nf, nl)
	if wf < 0 || nf < 0 || 2*(nl-nf) < 3*(wl-wf) {
		t.Fatalf("header rows: wide %d..%d, narrow %d..%d", wf, wl, nf, nl)
	}

	// A longer prompt wraps onto more lines, and the panel never covers more than its share.
	long := short
	long.prompt = strings.Repeat("Add colorful hot air balloons floating above the lake. ", 40)
	tall := grey(w, h)
	if err := drawCaption(tall, tall.Bounds(), long); err != nil {
		t.Fatal(err)
	}
	tfirst, _, tn := textBand(rowsWithText(tall))
	if tn <= n || float64(tfirst) < float64(h)*(1-captionMaxHeight) {
		t.Fatalf("long prompt: %d text rows from row %d (short prompt: %d rows)", tn, tfirst, n)
	}

	// The caption stays inside the area it is given (the frame is left alone).
	framed := grey(w, h)
	area := framed.Bounds().Inset(10)
	if err := drawCaption(framed, area, long); err != nil {
		t.Fatal(err)
	}
	for _, p := range []image.Point{{5, h - 5}, {w - 5, h - 5}, {w / 2, h - 3}} {
		if o := framed.PixOffset(p.X, p.Y); framed.Pix[o] != 128 {
			t.Fatalf("caption drew outside its area at %v", p)
		}
	}
}

func TestTaskImagesShowTheirCaption(t *testing.T) {
	tk := &task{id: "fluxkontext_0123456789abcdef01234567", format: "png", width: 348, height: 188,
		model: modelMax, aspect: "16:9", prompt: "A flat vector icon of a green leaf"}
	seed := sha256.Sum256([]byte(tk.prompt + "\x00" + tk.id))
	decode := func(b []byte, err error) *image.RGBA {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rgba, ok := img.(*image.RGBA)
		if !ok {
			t.Fatalf("decoded %T", img)
		}
		return rgba
	}
	plain := renderImage(seed, tk.width, tk.height, nil, true)
	got := decode(encodeTaskImage(tk, false, nil))
	// Outside the caption the picture is the pattern; inside, the caption differs from it.
	if !bytes.Equal(got.Pix[:got.PixOffset(0, tk.height/2)], plain.Pix[:plain.PixOffset(0, tk.height/2)]) {
		t.Fatal("the upper half of a generated image is not the plain pattern")
	}
	if _, _, n := textBand(rowsWithText(got)); n == 0 {
		t.Fatal("no text drawn")
	}
	again := decode(encodeTaskImage(tk, false, nil))
	if !bytes.Equal(got.Pix, again.Pix) {
		t.Fatal("the same task rendered twice differs")
	}
	if c := taskCaption(tk, seed, false); c.header != "flux-kontext-max · 16:9" || c.prompt != tk.prompt || c.tag != tk.id || c.top {
		t.Fatalf("caption %+v", c)
	}
	if c := taskCaption(tk, seed, true); c.header != "edit · flux-kontext-max · 16:9" || !c.top {
		t.Fatalf("edit caption %+v", c)
	}
}

// halves is a w×h image, red on the left half and blue on the right.
func halves(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{220, 0, 0, 255}
			if x >= w/2 {
				c = color.RGBA{0, 0, 220, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func TestEditIsTheInputScaledAndTinted(t *testing.T) {
	var seed [32]byte
	tint := tintColor(seed)
	expect := func(in uint8, k int) int {
		tc := [3]uint8{tint.R, tint.G, tint.B}[k]
		return (int(in)*(100-editTint) + int(tc)*editTint) / 100
	}
	near := func(img *image.RGBA, x, y int, want [3]int) bool {
		o := img.PixOffset(x, y)
		for k := range 3 {
			if math.Abs(float64(int(img.Pix[o+k])-want[k])) > 2 {
				return false
			}
		}
		return true
	}
	red := [3]int{expect(220, 0), expect(0, 1), expect(0, 2)}
	blue := [3]int{expect(0, 0), expect(0, 1), expect(220, 2)}

	// Same aspect ratio: the input fills the picture, upscaled.
	img := renderImage(seed, 400, 200, halves(100, 50), false)
	if !near(img, 50, 100, red) || !near(img, 350, 100, blue) {
		t.Fatalf("left %v, right %v; want %v, %v", img.RGBAAt(50, 100), img.RGBAAt(350, 100), red, blue)
	}
	// A square input in a wide picture is fitted, with bars beside it.
	img = renderImage(seed, 400, 200, halves(60, 60), false)
	if !near(img, 150, 100, red) || !near(img, 250, 100, blue) {
		t.Fatalf("fitted input: %v %v", img.RGBAAt(150, 100), img.RGBAAt(250, 100))
	}
	bar := img.RGBAAt(20, 100)
	if want := (color.RGBA{tint.R / 6, tint.G / 6, tint.B / 6, 255}); bar != want {
		t.Fatalf("letterbox %v, want %v", bar, want)
	}
}

func TestDecodeThumbnailKeepsEnoughDetail(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, halves(640, 320)); err != nil {
		t.Fatal(err)
	}
	thumb, err := decodeThumbnail(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b := thumb.Bounds(); b.Dx() != inputSide || b.Dy() != inputSide/2 {
		t.Fatalf("thumbnail %v", b)
	}
	if c := thumb.RGBAAt(10, 10); c != (color.RGBA{220, 0, 0, 255}) {
		t.Fatalf("left %v", c)
	}
	// Small inputs keep their size.
	small, err := decodeThumbnail(solidPNG(t, 40, 30, color.RGBA{1, 2, 3, 255}))
	if err != nil || small.Bounds().Dx() != 40 || small.Bounds().Dy() != 30 {
		t.Fatalf("small input: %v %v", err, small.Bounds())
	}
	// Transparent pixels are shown over black, opaque.
	transparent, err := decodeThumbnail(solidPNG(t, 4, 4, color.RGBA{}))
	if err != nil || transparent.RGBAAt(1, 1) != (color.RGBA{0, 0, 0, 255}) {
		t.Fatalf("transparent input: %v %v", err, transparent.RGBAAt(1, 1))
	}
}

// tintedDiff is the mean difference, per channel, between edit and input
// tinted as an edit tints it, over every other pixel of r.
func tintedDiff(edit, input image.Image, tint color.RGBA, r image.Rectangle) float64 {
	tc := [3]uint32{uint32(tint.R), uint32(tint.G), uint32(tint.B)}
	var sum float64
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y += 2 {
		for x := r.Min.X; x < r.Max.X; x += 2 {
			er, eg, eb, _ := edit.At(x, y).RGBA()
			ir, ig, ib, _ := input.At(x, y).RGBA()
			e, in := [3]uint32{er >> 8, eg >> 8, eb >> 8}, [3]uint32{ir >> 8, ig >> 8, ib >> 8}
			for k := range 3 {
				want := (in[k]*(100-editTint) + tc[k]*editTint) / 100
				sum += math.Abs(float64(e[k]) - float64(want))
			}
			n += 3
		}
	}
	return sum / float64(n)
}

// An edit of the mock's own result shows that result — its pattern and its
// caption — below the edit's own caption.
func TestEditOfOwnResultShowsIt(t *testing.T) {
	s := startMock(t, Options{ImageScale: 0.5, Latency: 10 * time.Millisecond})
	src := waitDone(t, s, generate(t, s, map[string]any{"prompt": "A calm alpine lake at sunrise", "outputFormat": "png"}))
	srcImg, err := png.Decode(bytes.NewReader(download(t, src.Response.ResultImageURL)))
	if err != nil {
		t.Fatal(err)
	}
	other := waitDone(t, s, generate(t, s, map[string]any{"prompt": "something else entirely", "outputFormat": "png"}))
	otherImg, err := png.Decode(bytes.NewReader(download(t, other.Response.ResultImageURL)))
	if err != nil {
		t.Fatal(err)
	}
	ed := waitDone(t, s, generate(t, s, map[string]any{
		"prompt": "Add colorful hot air balloons", "inputImage": src.Response.ResultImageURL, "outputFormat": "png",
	}))
	edImg, err := png.Decode(bytes.NewReader(download(t, ed.Response.ResultImageURL)))
	if err != nil {
		t.Fatal(err)
	}
	if edImg.Bounds() != srcImg.Bounds() {
		t.Fatalf("edit %v, input %v", edImg.Bounds(), srcImg.Bounds())
	}
	// The middle band shows the input's pattern; the bottom band its caption.
	tint := tintColor(sha256.Sum256([]byte("Add colorful hot air balloons\x00" + ed.TaskID)))
	b := srcImg.Bounds()
	for name, r := range map[string]image.Rectangle{
		"middle":  image.Rect(b.Dx()/20, b.Dy()*3/10, b.Dx()*19/20, b.Dy()*6/10),
		"caption": image.Rect(b.Dx()/20, b.Dy()*8/10, b.Dx()*19/20, b.Dy()*19/20),
	} {
		fromInput, fromOther := tintedDiff(edImg, srcImg, tint, r), tintedDiff(edImg, otherImg, tint, r)
		t.Logf("%s: differs from its tinted input by %.1f a channel, from an unrelated image by %.1f", name, fromInput, fromOther)
		// Upscaling the kept copy blurs edges a little; any other picture is far off (14 and more seen).
		if fromInput > 8 {
			t.Errorf("%s: the edit does not show its input", name)
		}
	}
}
