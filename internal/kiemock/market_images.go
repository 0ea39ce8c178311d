package kiemock

import (
	"encoding/hex"
	"image"
	"image/color"
	"image/draw"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	xdraw "golang.org/x/image/draw"
)

func scaleSize(v int, scale float64) int {
	return max(1, int(math.Round(float64(v)*scale)))
}

// parseMarketFile splits "/files/<32 hex>-<n>.<ext>", a Market result.
func parseMarketFile(path string) (id string, n int, ext string, ok bool) {
	name, found := strings.CutPrefix(path, filesPrefix)
	if !found || strings.Contains(name, "/") {
		return "", 0, "", false
	}
	stem, ext, found := strings.Cut(name, ".")
	if !found {
		return "", 0, "", false
	}
	id, num, found := strings.Cut(stem, "-")
	if !found || len(id) != 32 {
		return "", 0, "", false
	}
	if _, err := hex.DecodeString(id); err != nil || strings.ToLower(id) != id {
		return "", 0, "", false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strconv.Itoa(n) != num {
		return "", 0, "", false
	}
	return id, n, ext, true
}

// marketResultLocked finds the task a Market file path belongs to, if it is
// one of the task's results.
func (s *Server) marketResultLocked(path string) (*marketTask, int, bool) {
	id, n, ext, ok := parseMarketFile(path)
	if !ok {
		return nil, 0, false
	}
	t := s.market.tasks[id]
	if t == nil || !t.succeeded() || n > t.count || ext != t.ext() {
		return nil, 0, false
	}
	return t, n, true
}

// marketFileContent serves a Market result as the CDN would. found is false
// when path is not a Market file name at all.
func (s *Server) marketFileContent(path string, q url.Values) (data []byte, ctype string, mod time.Time, ferr *fileError, found bool) {
	if _, _, _, ok := parseMarketFile(path); !ok {
		return nil, "", time.Time{}, nil, false
	}
	s.mu.Lock()
	t, n, ok := s.marketResultLocked(path)
	if !ok {
		s.mu.Unlock()
		return nil, "", time.Time{}, notFound(), true
	}
	if e := s.checkLinkLocked(path, q, time.Now()); e != nil {
		s.mu.Unlock()
		return nil, "", time.Time{}, e, true
	}
	mod = t.completedAt
	view := t.renderViewLocked(n)
	s.mu.Unlock()
	data, err := s.imageBytes(view, false)
	if err != nil {
		return nil, "", time.Time{}, &fileError{status: 500, msg: err.Error()}, true
	}
	return data, mimeFor(t.format), mod, nil, true
}

// renderViewLocked is result n seen as a Flux task, so the Flux renderer,
// captions, padding and image cache serve it unchanged. Its id (taskId-n)
// seeds the picture, so the results of one task differ.
func (t *marketTask) renderViewLocked(n int) *task {
	return &task{
		id: t.id + "-" + strconv.Itoa(n), prompt: t.prompt, model: t.model.id, aspect: t.label,
		format: t.format, width: t.width, height: t.height, inputThumb: t.thumb,
	}
}

// countMarketDownloadLocked counts a GET of a Market result on its task and
// returns the task id (for faults aimed at one task).
func (s *Server) countMarketDownloadLocked(path string, isGet bool) (string, bool) {
	id, _, _, ok := parseMarketFile(path)
	if !ok {
		return "", false
	}
	if t := s.market.tasks[id]; t != nil && isGet {
		t.downloads++
	}
	return id, true
}

// marketDownloadLink is download-url's fresh link for a Market result; ok is
// false when path is no result of a successful Market task.
func (s *Server) marketDownloadLink(base, path string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, ok := s.marketResultLocked(path); !ok {
		return "", false
	}
	return s.linkLocked(base, path, time.Now()), true
}

// montage tiles several input thumbnails into one image (at most inputSide
// pixels wide), so an edit of many inputs visibly shows each of them.
func montage(thumbs []*image.RGBA) *image.RGBA {
	if len(thumbs) == 1 {
		return thumbs[0]
	}
	if len(thumbs) == 0 {
		return nil
	}
	cols := int(math.Ceil(math.Sqrt(float64(len(thumbs)))))
	rows := (len(thumbs) + cols - 1) / cols
	cell := inputSide / cols
	out := image.NewRGBA(image.Rect(0, 0, cols*cell, rows*cell))
	draw.Draw(out, out.Bounds(), image.NewUniform(color.RGBA{0, 0, 0, 255}), image.Point{}, draw.Src)
	for i, th := range thumbs {
		b := th.Bounds()
		fw, fh := cell, max(1, b.Dy()*cell/b.Dx())
		if fh > cell {
			fw, fh = max(1, b.Dx()*cell/b.Dy()), cell
		}
		x0, y0 := (i%cols)*cell+(cell-fw)/2, (i/cols)*cell+(cell-fh)/2
		xdraw.ApproxBiLinear.Scale(out, image.Rect(x0, y0, x0+fw, y0+fh), th, b, xdraw.Src, nil)
	}
	return out
}
