// Command chart draws line charts of benchmark CSV samples as a PNG: axes, ticks, lines and a
// legend drawn by hand, text in the Go fonts (as kie-mock's captions).
//
//	chart -out inflight.png -title "Tasks in flight" -x t_sec -y in_flight \
//	      "provider, parallelism 50=work/a.csv" "baseline=work/b.csv"
//
// Each argument is LABEL=CSV (split at the last '='); the CSV needs a header row naming the -x and
// -y columns.
package main

import (
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

type series struct {
	label string
	xs    []float64
	ys    []float64
}

var palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0x2c, 0xa0, 0x2c, 0xff}, // green
	{0xd6, 0x27, 0x28, 0xff}, // red
	{0xff, 0x7f, 0x0e, 0xff}, // orange
	{0x94, 0x67, 0xbd, 0xff}, // purple
	{0x8c, 0x56, 0x4b, 0xff}, // brown
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		out    = flag.String("out", "chart.png", "PNG file to write")
		title  = flag.String("title", "", "chart title")
		xcol   = flag.String("x", "t_sec", "CSV column for the x axis")
		ycol   = flag.String("y", "in_flight", "CSV column for the y axis")
		xlabel = flag.String("xlabel", "seconds since the apply started", "x axis label")
		ylabel = flag.String("ylabel", "tasks in flight", "y axis label")
		width  = flag.Int("width", 1100, "image width in pixels")
		height = flag.Int("height", 620, "image height in pixels")
	)
	flag.Parse()
	if flag.NArg() == 0 {
		return errors.New("no series given (want LABEL=file.csv arguments)")
	}
	var all []series
	for _, arg := range flag.Args() {
		i := strings.LastIndex(arg, "=")
		if i < 0 {
			return fmt.Errorf("argument %q: want LABEL=file.csv", arg)
		}
		label, file := arg[:i], arg[i+1:]
		s, err := readSeries(file, *xcol, *ycol)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		s.label = label
		all = append(all, s)
	}
	img, err := draw(all, *title, *xlabel, *ylabel, *width, *height)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readSeries(path, xcol, ycol string) (series, error) {
	f, err := os.Open(path)
	if err != nil {
		return series{}, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return series{}, fmt.Errorf("reading the header: %w", err)
	}
	xi, yi := -1, -1
	for i, h := range header {
		switch strings.TrimSpace(h) {
		case xcol:
			xi = i
		case ycol:
			yi = i
		}
	}
	if xi < 0 || yi < 0 {
		return series{}, fmt.Errorf("columns %q and %q not both in header %v", xcol, ycol, header)
	}
	var s series
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return series{}, err
		}
		x, err1 := strconv.ParseFloat(rec[xi], 64)
		y, err2 := strconv.ParseFloat(rec[yi], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		s.xs = append(s.xs, x)
		s.ys = append(s.ys, y)
	}
	return s, nil
}

// canvas is an RGBA image with the few drawing primitives the chart needs.
type canvas struct {
	*image.RGBA
	label, title font.Face
}

// newFace makes a face of a Go font at px pixels (72 DPI: a point is a pixel).
func newFace(ttf []byte, px float64) (font.Face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, err
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
}

func (c canvas) fill(x0, y0, x1, y1 int, col color.RGBA) {
	for y := max(y0, 0); y < min(y1, c.Bounds().Dy()); y++ {
		for x := max(x0, 0); x < min(x1, c.Bounds().Dx()); x++ {
			c.SetRGBA(x, y, col)
		}
	}
}

// line draws a segment with Bresenham's algorithm, thick pixels wide.
func (c canvas) line(x0, y0, x1, y1, thick int, col color.RGBA) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for {
		c.fill(x0-thick/2, y0-thick/2, x0-thick/2+thick, y0-thick/2+thick, col)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// text writes s in face with the middle of its capitals at y; x is the left edge.
func (c canvas) text(x, y int, s string, face font.Face, col color.RGBA) {
	d := font.Drawer{Dst: c.RGBA, Src: image.NewUniform(col), Face: face,
		Dot: fixed.Point26_6{X: fixed.I(x), Y: fixed.I(y) + face.Metrics().CapHeight/2}}
	d.DrawString(s)
}

func textWidth(s string, face font.Face) int { return font.MeasureString(face, s).Ceil() }

func draw(all []series, title, xlabel, ylabel string, w, h int) (*image.RGBA, error) {
	label, err := newFace(goregular.TTF, 15)
	if err != nil {
		return nil, err
	}
	defer label.Close()
	heading, err := newFace(gobold.TTF, 22)
	if err != nil {
		return nil, err
	}
	defer heading.Close()
	c := canvas{RGBA: image.NewRGBA(image.Rect(0, 0, w, h)), label: label, title: heading}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	black := color.RGBA{0x20, 0x20, 0x20, 0xff}
	grid := color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	c.fill(0, 0, w, h, white)

	left, right, top, bottom := 80, 30, 70, 70
	pw, ph := w-left-right, h-top-bottom

	xmax, ymax := 0.0, 0.0
	for _, s := range all {
		for i := range s.xs {
			xmax = math.Max(xmax, s.xs[i])
			ymax = math.Max(ymax, s.ys[i])
		}
	}
	ymax *= 1.2 // headroom for the legend
	xstep := niceStep(xmax, 10)
	ystep := niceStep(ymax, 8)
	xmax = math.Max(xstep, math.Ceil(xmax/xstep)*xstep)
	ymax = math.Max(ystep, math.Ceil(ymax/ystep)*ystep)
	px := func(x float64) int { return left + int(math.Round(x/xmax*float64(pw))) }
	py := func(y float64) int { return top + ph - int(math.Round(y/ymax*float64(ph))) }

	// Grid, ticks and tick labels.
	for v := 0.0; v <= ymax+ystep/2; v += ystep {
		y := py(v)
		c.line(left, y, left+pw, y, 1, grid)
		c.line(left-6, y, left, y, 1, black)
		lab := formatTick(v)
		c.text(left-10-textWidth(lab, label), y, lab, label, black)
	}
	for v := 0.0; v <= xmax+xstep/2; v += xstep {
		x := px(v)
		c.line(x, top, x, top+ph, 1, grid)
		c.line(x, top+ph, x, top+ph+6, 1, black)
		lab := formatTick(v)
		c.text(x-textWidth(lab, label)/2, top+ph+19, lab, label, black)
	}
	// Axes.
	c.line(left, top, left, top+ph, 2, black)
	c.line(left, top+ph, left+pw, top+ph, 2, black)
	// Labels and title.
	c.text(left+(pw-textWidth(xlabel, label))/2, h-21, xlabel, label, black)
	c.text(left-60, top-25, ylabel, label, black)
	c.text((w-textWidth(title, heading))/2, 23, title, heading, black)

	// Lines, clipped to the plot area by construction (values are within 0..max).
	for i, s := range all {
		col := palette[i%len(palette)]
		for k := 1; k < len(s.xs); k++ {
			c.line(px(s.xs[k-1]), py(s.ys[k-1]), px(s.xs[k]), py(s.ys[k]), 3, col)
		}
	}

	// Legend, top right inside the plot.
	lw := 0
	for _, s := range all {
		lw = max(lw, textWidth(s.label, label))
	}
	boxW, lineH := lw+60, 24
	bx, by := left+pw-boxW-10, top+10
	c.fill(bx, by, bx+boxW, by+len(all)*lineH+12, white)
	c.line(bx, by, bx+boxW, by, 1, black)
	c.line(bx, by+len(all)*lineH+12, bx+boxW, by+len(all)*lineH+12, 1, black)
	c.line(bx, by, bx, by+len(all)*lineH+12, 1, black)
	c.line(bx+boxW, by, bx+boxW, by+len(all)*lineH+12, 1, black)
	for i, s := range all {
		y := by + 8 + i*lineH
		c.fill(bx+10, y+4, bx+40, y+10, palette[i%len(palette)])
		c.text(bx+50, y+7, s.label, label, black)
	}
	return c.RGBA, nil
}

// niceStep picks a tick step of 1, 2 or 5 times a power of ten giving about n ticks up to v.
func niceStep(v float64, n int) float64 {
	if v <= 0 {
		return 1
	}
	raw := v / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func formatTick(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
