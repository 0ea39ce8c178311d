package kiemock

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // accepted as an edit-mode input
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	thumbSide      = 128      // edit inputs are kept as a thumbnail of at most this side
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

// renderImage paints a gradient with stripes, both chosen by seed, blended
// with the edit input when there is one; frame adds a border, which is what
// distinguishes the result from the origin image.
func renderImage(seed [32]byte, w, h int, in *image.RGBA, frame bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	c1 := [3]int{int(seed[0]), int(seed[1]), int(seed[2])}
	c2 := [3]int{int(seed[3]), int(seed[4]), int(seed[5])}
	c3 := [3]int{int(seed[6]), int(seed[7]), int(seed[8])}
	period := max(2, (8+int(seed[9])%40)*max(w, h)/1024)
	dir := seed[10] % 4
	border := 0
	if frame {
		border = max(1, min(w, h)/48)
	}
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
			if in != nil {
				b := in.Bounds()
				sx := b.Min.X + x*b.Dx()/w
				sy := b.Min.Y + y*b.Dy()/h
				o := in.PixOffset(sx, sy)
				for i := range 3 {
					px[i] = (px[i] + 2*int(in.Pix[o+i])) / 3
				}
			}
			if x < border || y < border || x >= w-border || y >= h-border {
				px = [3]int{255 - c3[0], 255 - c3[1], 255 - c3[2]}
			}
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = uint8(px[0]), uint8(px[1]), uint8(px[2]), 255
		}
	}
	return img
}

// decodeThumbnail decodes an edit input (PNG, JPEG or GIF) and keeps a small
// copy, so memory per task stays bounded whatever the input size.
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
	tw, th := thumbSide, thumbSide
	if b.Dx() >= b.Dy() {
		th = max(1, b.Dy()*thumbSide/b.Dx())
	} else {
		tw = max(1, b.Dx()*thumbSide/b.Dy())
	}
	tw, th = min(tw, b.Dx()), min(th, b.Dy())
	thumb := image.NewRGBA(image.Rect(0, 0, tw, th))
	for y := range th {
		for x := range tw {
			sx := b.Min.X + (2*x+1)*b.Dx()/(2*tw)
			sy := b.Min.Y + (2*y+1)*b.Dy()/(2*th)
			c := color.RGBAModel.Convert(src.At(sx, sy)).(color.RGBA)
			o := thumb.PixOffset(x, y)
			thumb.Pix[o], thumb.Pix[o+1], thumb.Pix[o+2], thumb.Pix[o+3] = c.R, c.G, c.B, 255
		}
	}
	return thumb, nil
}
