package kiemock

import (
	"fmt"
	"image"
	"image/color"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// A caption is the text drawn onto every image, so that a person looking at
// the files can tell which request made which one.
type caption struct {
	header string // model and aspect ratio (and "edit" for edits)
	tag    string // task id
	prompt string
	// top places the panel at the top: an edit keeps its input's own caption,
	// at the bottom, visible beneath it.
	top    bool
	accent color.RGBA
}

const (
	maxCaptionLines  = 8
	maxCaptionRunes  = 2000 // a prompt longer than eight lines is cut anyway
	captionMaxHeight = 0.45 // share of the image height the panel may cover
)

var (
	headerColor = color.RGBA{255, 214, 102, 255}
	promptColor = color.RGBA{255, 255, 255, 255}
)

type captionFonts struct{ regular, bold *opentype.Font }

// loadFonts parses the embedded Go fonts once; parsed fonts are safe for
// concurrent use, faces are not and are made per image.
var loadFonts = sync.OnceValues(func() (captionFonts, error) {
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return captionFonts{}, fmt.Errorf("parse Go Regular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return captionFonts{}, fmt.Errorf("parse Go Bold: %w", err)
	}
	return captionFonts{regular: regular, bold: bold}, nil
})

func newFace(f *opentype.Font, px float64) (font.Face, error) {
	return opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
}

// drawCaption darkens a full-width panel inside area and writes the header
// and the wrapped prompt on it. Text size follows the image's shorter side.
func drawCaption(img *image.RGBA, area image.Rectangle, c caption) error {
	w, h := area.Dx(), area.Dy()
	if w <= 0 || h <= 0 {
		return nil
	}
	fonts, err := loadFonts()
	if err != nil {
		return err
	}
	px := max(4, float64(min(w, h))/22)
	body, err := newFace(fonts.regular, px)
	if err != nil {
		return err
	}
	defer body.Close()
	head, err := newFace(fonts.bold, px*0.7)
	if err != nil {
		return err
	}
	defer head.Close()

	pad := int(px * 0.6)
	headH := head.Metrics().Height.Ceil()
	lineH := body.Metrics().Height.Ceil()
	gap := max(1, int(px*0.25))
	textW := fixed.I(max(1, w-2*pad))
	// The task id goes beside the header when both fit, else on a line of its own.
	headLines := 1
	besides := font.MeasureString(head, c.header)+fixed.I(2*pad)+font.MeasureString(head, c.tag) <= textW
	if c.tag != "" && !besides {
		headLines = 2
	}
	room := (int(float64(h)*captionMaxHeight) - 2*pad - headLines*headH - gap) / max(1, lineH)
	lines := wrapText(body, c.prompt, textW, min(maxCaptionLines, max(1, room)))
	panelH := min(h, 2*pad+headLines*headH+gap+len(lines)*lineH)

	panel := image.Rect(area.Min.X, area.Max.Y-panelH, area.Max.X, area.Max.Y)
	if c.top {
		panel = image.Rect(area.Min.X, area.Min.Y, area.Max.X, area.Min.Y+panelH)
	}
	shade(img, panel, c.accent)

	x := fixed.I(panel.Min.X + pad)
	y := panel.Min.Y + pad + head.Metrics().Ascent.Ceil()
	d := font.Drawer{Dst: img, Src: image.NewUniform(headerColor), Face: head, Dot: fixed.Point26_6{X: x, Y: fixed.I(y)}}
	d.DrawString(c.header)
	if c.tag != "" {
		if besides {
			d.Dot = fixed.Point26_6{X: fixed.I(panel.Max.X-pad) - font.MeasureString(head, c.tag), Y: fixed.I(y)}
		} else {
			d.Dot = fixed.Point26_6{X: x, Y: fixed.I(y + headH)}
		}
		d.DrawString(c.tag)
	}
	d = font.Drawer{Dst: img, Src: image.NewUniform(promptColor), Face: body}
	y = panel.Min.Y + pad + headLines*headH + gap + body.Metrics().Ascent.Ceil()
	for _, line := range lines {
		d.Dot = fixed.Point26_6{X: x, Y: fixed.I(y)}
		d.DrawString(line)
		y += lineH
	}
	return nil
}

// shade darkens r towards a dim accent colour, so light text reads on any
// background while the picture still shows through.
func shade(img *image.RGBA, r image.Rectangle, accent color.RGBA) {
	r = r.Intersect(img.Bounds())
	a := [3]int{int(accent.R), int(accent.G), int(accent.B)}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			for k := range 3 {
				row[i+k] = uint8((int(row[i+k])*30 + a[k]*15) / 100)
			}
		}
	}
}

// wrapText breaks s into lines no wider than maxW, cutting words that do not
// fit on a line of their own, and ends with "…" when it needs more than
// maxLines lines.
func wrapText(face font.Face, s string, maxW fixed.Int26_6, maxLines int) []string {
	if r := []rune(s); len(r) > maxCaptionRunes {
		s = string(r[:maxCaptionRunes])
	}
	words := strings.Fields(s)
	var lines []string
	cur := ""
	for i := 0; i < len(words) && len(lines) <= maxLines; {
		cand := words[i]
		if cur != "" {
			cand = cur + " " + words[i]
		}
		switch {
		case font.MeasureString(face, cand) <= maxW:
			cur = cand
			i++
		case cur != "":
			lines = append(lines, cur)
			cur = ""
		default:
			n := fitPrefix(face, words[i], maxW)
			lines = append(lines, words[i][:n])
			words[i] = words[i][n:]
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	if len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = ellipsize(face, lines[maxLines-1], maxW)
	}
	return lines
}

// fitPrefix is the byte length of the longest prefix of word (at least one
// rune) that fits in maxW.
func fitPrefix(face font.Face, word string, maxW fixed.Int26_6) int {
	var width fixed.Int26_6
	for i, r := range word {
		adv, _ := face.GlyphAdvance(r)
		if width+adv > maxW && i > 0 {
			return i
		}
		width += adv
	}
	return len(word)
}

func ellipsize(face font.Face, line string, maxW fixed.Int26_6) string {
	const ell = "…"
	for line != "" && font.MeasureString(face, line+ell) > maxW {
		r := []rune(line)
		line = strings.TrimRight(string(r[:len(r)-1]), " ")
	}
	return line + ell
}
