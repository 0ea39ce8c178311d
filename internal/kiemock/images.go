package kiemock

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // accepted as an edit-mode input
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	xdraw "golang.org/x/image/draw"
)

const (
	inputSide      = 512      // edit inputs are kept at most this many pixels a side
	maxInputPixels = 64 << 20 // refuse decompression bombs
)

// linkLocked issues a link to path, valid for LinkTTL from issued and until
// the next ExpireLinks. Plain links (no query) are used while neither applies.
func (s *Server) linkLocked(base, path string, issued time.Time) string {
	var exp int64
	if s.opts.LinkTTL > 0 {
		exp = issued.Add(s.opts.LinkTTL).UnixMilli()
	}
	if exp == 0 && s.epoch == 0 {
		return base + path
	}
	q := url.Values{}
	q.Set("exp", strconv.FormatInt(exp, 10))
	q.Set("gen", strconv.Itoa(s.epoch))
	q.Set("sig", s.signLink(path, exp, s.epoch))
	return base + path + "?" + q.Encode()
}

func (s *Server) signLink(path string, exp int64, gen int) string {
	m := hmac.New(sha256.New, s.linkKey)
	fmt.Fprintf(m, "%s|%d|%d", path, exp, gen)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// fileError is a failed file lookup, answered as a CDN would.
type fileError struct {
	status  int
	msg     string
	expired bool
}

func (e *fileError) Error() string {
	if e.expired {
		return "HTTP 404: link expired"
	}
	return fmt.Sprintf("HTTP %d: %s", e.status, e.msg)
}

func notFound() *fileError { return &fileError{status: http.StatusNotFound, msg: "not found"} }

// checkLinkLocked validates a task file link's expiry token.
func (s *Server) checkLinkLocked(path string, q url.Values, now time.Time) *fileError {
	sig := q.Get("sig")
	if sig == "" {
		if s.opts.LinkTTL > 0 {
			return &fileError{status: http.StatusForbidden, msg: "missing signature"}
		}
		if s.epoch > 0 {
			return &fileError{status: http.StatusNotFound, expired: true}
		}
		return nil
	}
	exp, err1 := strconv.ParseInt(q.Get("exp"), 10, 64)
	gen, err2 := strconv.Atoi(q.Get("gen"))
	if err1 != nil || err2 != nil || !hmac.Equal([]byte(sig), []byte(s.signLink(path, exp, gen))) {
		return &fileError{status: http.StatusForbidden, msg: "invalid signature"}
	}
	if gen < s.epoch || (exp != 0 && now.UnixMilli() >= exp) {
		return &fileError{status: http.StatusNotFound, expired: true}
	}
	return nil
}

// parseTaskFile splits "/files/<id>[-origin].<ext>".
func parseTaskFile(path string) (id string, origin bool, ext string, ok bool) {
	name, found := strings.CutPrefix(path, filesPrefix)
	if !found || strings.Contains(name, "/") {
		return "", false, "", false
	}
	dot := strings.LastIndexByte(name, '.')
	if dot <= 0 {
		return "", false, "", false
	}
	id, ext = name[:dot], name[dot+1:]
	id, origin = strings.CutSuffix(id, "-origin")
	return id, origin, ext, id != ""
}

// countFileRequest updates download counters and returns the task id the
// path refers to (for faults aimed at one task).
func (s *Server) countFileRequest(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Header.Get("Authorization") != "" {
		s.stats.FileRequestsWithAuth++
	}
	if strings.HasPrefix(r.URL.Path, uploadsPrefix) {
		if r.Method == http.MethodGet {
			s.stats.UploadDownloads++
		}
		return ""
	}
	if id, ok := s.countMarketDownloadLocked(r.URL.Path, r.Method == http.MethodGet); ok {
		if r.Method == http.MethodGet {
			s.stats.Downloads++
		}
		return id
	}
	id, _, _, ok := parseTaskFile(r.URL.Path)
	if !ok {
		return ""
	}
	if r.Method == http.MethodGet {
		s.stats.Downloads++
		if t := s.tasks[id]; t != nil {
			t.downloads++
		}
	}
	return id
}

// fileContent looks up a result, origin or uploaded file as the CDN would.
func (s *Server) fileContent(path string, q url.Values) (data []byte, ctype string, mod time.Time, ferr *fileError) {
	if key, ok := strings.CutPrefix(path, uploadsPrefix); ok {
		s.mu.Lock()
		u := s.uploads[key]
		s.mu.Unlock()
		if u == nil {
			return nil, "", time.Time{}, notFound()
		}
		return u.data, u.mime, u.at, nil
	}
	if data, ctype, mod, ferr, ok := s.marketFileContent(path, q); ok {
		return data, ctype, mod, ferr
	}
	id, origin, ext, ok := parseTaskFile(path)
	if !ok {
		return nil, "", time.Time{}, notFound()
	}
	s.mu.Lock()
	t := s.tasks[id]
	if t == nil || !t.finished || t.flag != 1 || ext != t.ext() {
		s.mu.Unlock()
		return nil, "", time.Time{}, notFound()
	}
	if e := s.checkLinkLocked(path, q, time.Now()); e != nil {
		s.mu.Unlock()
		return nil, "", time.Time{}, e
	}
	mod = t.completedAt
	s.mu.Unlock()
	data, err := s.imageBytes(t, origin)
	if err != nil {
		return nil, "", time.Time{}, &fileError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	return data, mimeFor(t.format), mod, nil
}

func mimeFor(format string) string {
	if format == "png" {
		return "image/png"
	}
	return "image/jpeg"
}

func (s *Server) handleFile(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	data, ctype, mod, ferr := s.fileContent(r.URL.Path, r.URL.Query())
	if ferr != nil {
		if ferr.expired {
			writeExpired(w)
			return
		}
		http.Error(w, strconv.Itoa(ferr.status)+" "+ferr.msg, ferr.status)
		return
	}
	sum := sha256.Sum256(data)
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	// ServeContent sets Content-Length and honours Range and conditional requests.
	http.ServeContent(w, r, "", mod, bytes.NewReader(data))
}

// imageCache holds encoded images, bounded in bytes, evicting oldest first.
// Evicted images are rendered again: rendering is deterministic.
type imageCache struct {
	limit   int64
	size    int64
	data    map[string][]byte
	order   []string
	pending map[string]*renderCall
}

type renderCall struct {
	done chan struct{}
	data []byte
	err  error
}

func (c *imageCache) init(limit int64) {
	c.limit = limit
	c.data = make(map[string][]byte)
	c.pending = make(map[string]*renderCall)
}

func (c *imageCache) putLocked(key string, b []byte) {
	n := int64(len(b))
	if n > c.limit {
		return
	}
	for c.size+n > c.limit && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= int64(len(c.data[old]))
		delete(c.data, old)
	}
	c.data[key] = b
	c.order = append(c.order, key)
	c.size += n
}

// imageBytes returns a task's encoded result or origin image, rendering it
// once even under concurrent first downloads.
func (s *Server) imageBytes(t *task, origin bool) ([]byte, error) {
	key := t.id
	if origin {
		key += "-origin"
	}
	s.mu.Lock()
	if b, ok := s.cache.data[key]; ok {
		s.mu.Unlock()
		return b, nil
	}
	if c, ok := s.cache.pending[key]; ok {
		s.mu.Unlock()
		<-c.done
		return c.data, c.err
	}
	c := &renderCall{done: make(chan struct{})}
	s.cache.pending[key] = c
	thumb := t.inputThumb
	s.mu.Unlock()

	c.data, c.err = encodeTaskImage(t, origin, thumb)
	if c.err == nil {
		c.data = padImage(c.data, t.format, padTarget(key, s.opts.ImageMinBytes, s.opts.ImageMaxBytes))
	}

	s.mu.Lock()
	delete(s.cache.pending, key)
	if c.err == nil {
		s.cache.putLocked(key, c.data)
	}
	s.mu.Unlock()
	close(c.done)
	return c.data, c.err
}

func encodeTaskImage(t *task, origin bool, thumb *image.RGBA) ([]byte, error) {
	seed := sha256.Sum256([]byte(t.prompt + "\x00" + t.id))
	img := renderImage(seed, t.width, t.height, thumb, !origin)
	if err := drawCaption(img, innerArea(img.Bounds(), !origin), taskCaption(t, seed, thumb != nil)); err != nil {
		return nil, fmt.Errorf("draw caption: %w", err)
	}
	var buf bytes.Buffer
	var err error
	if t.format == "png" {
		enc := png.Encoder{CompressionLevel: png.BestSpeed}
		err = enc.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t.format, err)
	}
	return buf.Bytes(), nil
}

func taskCaption(t *task, seed [32]byte, edit bool) caption {
	header := t.model + " · " + t.aspect
	if edit {
		header = "edit · " + header
	}
	return caption{header: header, tag: t.id, prompt: t.prompt, top: edit, accent: tintColor(seed)}
}

// borderWidth is the width of the frame that marks a result (origins have none).
func borderWidth(w, h int, frame bool) int {
	if !frame {
		return 0
	}
	return max(1, min(w, h)/48)
}

// innerArea is the part of an image inside its frame.
func innerArea(b image.Rectangle, frame bool) image.Rectangle {
	bw := borderWidth(b.Dx(), b.Dy(), frame)
	return b.Inset(bw)
}

// tintColor is a saturated colour chosen by seed: the tint of an edit and the
// hue of its caption panel.
func tintColor(seed [32]byte) color.RGBA {
	// Hue wheel in six sectors of 256 steps each.
	hue := int(binary.BigEndian.Uint16(seed[11:13])) % (6 * 256)
	up, down := uint8(hue%256), uint8(255-hue%256)
	switch hue / 256 {
	case 0:
		return color.RGBA{255, up, 0, 255}
	case 1:
		return color.RGBA{down, 255, 0, 255}
	case 2:
		return color.RGBA{0, 255, up, 255}
	case 3:
		return color.RGBA{0, down, 255, 255}
	case 4:
		return color.RGBA{up, 0, 255, 255}
	default:
		return color.RGBA{255, 0, down, 255}
	}
}

// renderImage paints the picture under the caption. Without an input it is a
// gradient with stripes, both chosen by seed. With one (an edit) it is the
// input scaled to fit, letterboxed if the aspect ratio differs, and tinted by
// a colour chosen by seed: recognisably the same picture, visibly changed.
// frame adds a border, which is what distinguishes the result from the
// origin image.
func renderImage(seed [32]byte, w, h int, in *image.RGBA, frame bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c3 := [3]int{int(seed[6]), int(seed[7]), int(seed[8])}
	if in != nil {
		paintEdit(img, in, tintColor(seed))
	} else {
		paintPattern(img, seed)
	}
	if border := borderWidth(w, h, frame); border > 0 {
		edge := color.RGBA{uint8(255 - c3[0]), uint8(255 - c3[1]), uint8(255 - c3[2]), 255}
		inner := img.Bounds().Inset(border)
		for _, r := range []image.Rectangle{
			image.Rect(0, 0, w, inner.Min.Y), image.Rect(0, inner.Max.Y, w, h),
			image.Rect(0, inner.Min.Y, inner.Min.X, inner.Max.Y), image.Rect(inner.Max.X, inner.Min.Y, w, inner.Max.Y),
		} {
			draw.Draw(img, r, image.NewUniform(edge), image.Point{}, draw.Src)
		}
	}
	return img
}

func paintPattern(img *image.RGBA, seed [32]byte) {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	c1 := [3]int{int(seed[0]), int(seed[1]), int(seed[2])}
	c2 := [3]int{int(seed[3]), int(seed[4]), int(seed[5])}
	c3 := [3]int{int(seed[6]), int(seed[7]), int(seed[8])}
	period := max(2, (8+int(seed[9])%40)*max(w, h)/1024)
	dir := seed[10] % 4
	wd, hd := max(w-1, 1), max(h-1, 1)
	for y := range h {
		for x := range w {
			// Gradient position in 0..1024 along the diagonal.
			g := (x*512)/wd + (y*512)/hd
			var px [3]int
			for i := range 3 {
				px[i] = (c1[i]*(1024-g) + c2[i]*g) / 1024
			}
			var k int
			switch dir {
			case 0:
				k = x
			case 1:
				k = y
			case 2:
				k = x + y
			default:
				k = x - y + h
			}
			if (k/period)%2 == 0 {
				for i := range 3 {
					px[i] = (px[i]*65 + c3[i]*35) / 100
				}
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(px[0]), uint8(px[1]), uint8(px[2]), 255
		}
	}
}

// editTint is the share, in percent, of the tint colour in an edit's pixels:
// enough to see at a glance that the picture changed, little enough to
// recognise it.
const editTint = 30

func paintEdit(img *image.RGBA, in *image.RGBA, tint color.RGBA) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ib := in.Bounds()
	// Fit the input inside the output, keeping its proportions.
	fw, fh := w, ib.Dy()*w/ib.Dx()
	if fh > h {
		fw, fh = ib.Dx()*h/ib.Dy(), h
	}
	fw, fh = max(1, fw), max(1, fh)
	fit := image.Rect((w-fw)/2, (h-fh)/2, (w-fw)/2+fw, (h-fh)/2+fh)
	if fit != b {
		draw.Draw(img, b, image.NewUniform(color.RGBA{tint.R / 6, tint.G / 6, tint.B / 6, 255}), image.Point{}, draw.Src)
	}
	xdraw.ApproxBiLinear.Scale(img, fit, in, ib, xdraw.Src, nil)
	t := [3]int{int(tint.R) * editTint, int(tint.G) * editTint, int(tint.B) * editTint}
	for y := fit.Min.Y; y < fit.Max.Y; y++ {
		row := img.Pix[img.PixOffset(fit.Min.X, y):img.PixOffset(fit.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			for k := range 3 {
				row[i+k] = uint8((int(row[i+k])*(100-editTint) + t[k]) / 100)
			}
		}
	}
}

// decodeThumbnail decodes an edit input (PNG, JPEG or GIF) and keeps a copy
// of at most inputSide pixels a side: enough to show the input, and its
// caption, recognisably in the edit, while memory per task stays bounded
// (at most 1 MiB) whatever the input size.
func decodeThumbnail(data []byte) (*image.RGBA, error) {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not a decodable PNG, JPEG or GIF image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxInputPixels {
		return nil, fmt.Errorf("image size %dx%d not supported", cfg.Width, cfg.Height)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode image: %w", err)
	}
	b := src.Bounds()
	if b.Empty() {
		return nil, errors.New("empty image")
	}
	tw, th := inputSide, inputSide
	if b.Dx() >= b.Dy() {
		th = max(1, b.Dy()*inputSide/b.Dx())
	} else {
		tw = max(1, b.Dx()*inputSide/b.Dy())
	}
	tw, th = min(tw, b.Dx()), min(th, b.Dy())
	thumb := image.NewRGBA(image.Rect(0, 0, tw, th))
	// BiLinear (not ApproxBiLinear) averages over the whole footprint when
	// shrinking, so the input's text stays readable instead of aliasing.
	xdraw.BiLinear.Scale(thumb, thumb.Bounds(), src, b, xdraw.Src, nil)
	// Transparent inputs are shown over black.
	for i := 3; i < len(thumb.Pix); i += 4 {
		thumb.Pix[i] = 255
	}
	return thumb, nil
}
