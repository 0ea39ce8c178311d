package kiemock

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestDocumentedSizes(t *testing.T) {
	want := map[string][2]int{
		"1:1": {1024, 1024}, "16:9": {1392, 752}, "21:9": {1568, 672}, "4:3": {1184, 880},
		"3:4": {880, 1184}, "9:16": {752, 1392}, "16:21": {896, 1176},
	}
	for ratio, wh := range want {
		w, h, ok := ScaledSize(ratio, 1)
		if !ok || w != wh[0] || h != wh[1] {
			t.Errorf("%s: %dx%d", ratio, w, h)
		}
		// Scaled sizes keep the ratio to within rounding.
		w, h, _ = ScaledSize(ratio, 0.25)
		if w != (wh[0]+2)/4 && w != wh[0]/4 || h != (wh[1]+2)/4 && h != wh[1]/4 {
			t.Errorf("%s at 0.25: %dx%d", ratio, w, h)
		}
	}
	if _, _, ok := ScaledSize("2:1", 1); ok {
		t.Error("unknown ratio accepted")
	}
}

// download fetches a finished task's result and checks the basics.
func download(t *testing.T, link string) []byte {
	t.Helper()
	resp, body := get(t, link)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", link, resp.StatusCode, body)
	}
	if cl := resp.Header.Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Fatalf("Content-Length %q for %d bytes", cl, len(body))
	}
	return body
}

func TestImagesPerRatioAndFormat(t *testing.T) {
	const scale = 0.1
	s := startMock(t, Options{ImageScale: scale})
	for _, ratio := range []string{"21:9", "16:9", "4:3", "1:1", "3:4", "9:16", "16:21"} {
		for _, format := range []string{"jpeg", "png"} {
			id := generate(t, s, map[string]any{"prompt": "sizes", "aspectRatio": ratio, "outputFormat": format})
			d := waitDone(t, s, id)
			resp, body := get(t, d.Response.ResultImageURL)
			wantType := map[string]string{"jpeg": "image/jpeg", "png": "image/png"}[format]
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != wantType ||
				resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
				t.Fatalf("%s %s: %d %v", ratio, format, resp.StatusCode, resp.Header)
			}
			cfg, got, err := image.DecodeConfig(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s %s: %v", ratio, format, err)
			}
			w, h, _ := ScaledSize(ratio, scale)
			if got != format || cfg.Width != w || cfg.Height != h {
				t.Errorf("%s %s: got %s %dx%d, want %dx%d", ratio, format, got, cfg.Width, cfg.Height, w, h)
			}
			if format == "jpeg" && !strings.HasSuffix(strings.Split(d.Response.ResultImageURL, "?")[0], ".jpg") {
				t.Errorf("jpeg link %s", d.Response.ResultImageURL)
			}
		}
	}
}

func TestFullSizeImage(t *testing.T) {
	s := startMock(t, Options{ImageScale: 1})
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "full", "aspectRatio": "16:9"}))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(download(t, d.Response.ResultImageURL)))
	if err != nil || cfg.Width != 1392 || cfg.Height != 752 {
		t.Fatalf("%v %dx%d", err, cfg.Width, cfg.Height)
	}
}

func TestImagesDifferPerTaskAndAreStable(t *testing.T) {
	s := startMock(t, Options{})
	body := map[string]any{"prompt": "same prompt", "outputFormat": "png"}
	a := waitDone(t, s, generate(t, s, body))
	b := waitDone(t, s, generate(t, s, body))
	ra, rb := download(t, a.Response.ResultImageURL), download(t, b.Response.ResultImageURL)
	if bytes.Equal(ra, rb) {
		t.Fatal("two tasks with the same body produced the same image")
	}
	if again := download(t, a.Response.ResultImageURL); !bytes.Equal(ra, again) {
		t.Fatal("a second download differs")
	}
	origin := download(t, a.Response.OriginImageURL)
	if bytes.Equal(origin, ra) {
		t.Fatal("origin equals result")
	}
	if _, err := png.Decode(bytes.NewReader(origin)); err != nil {
		t.Fatal(err)
	}
	snap, _ := s.Task(a.TaskID)
	if st := s.Stats(); st.Downloads != 4 || snap.Downloads != 3 {
		t.Fatalf("downloads: stats %d, task %d", st.Downloads, snap.Downloads)
	}
	// Wrong extension and unknown ids are 404.
	for _, p := range []string{"/files/" + a.TaskID + ".jpg", "/files/fluxkontext_nope.png", "/files/x"} {
		if resp, _ := get(t, s.URL()+p); resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// Range requests work (resumable downloads).
	resp, part := get(t, a.Response.ResultImageURL, "Range", "bytes=0-9")
	if resp.StatusCode != 206 || !bytes.Equal(part, ra[:10]) {
		t.Fatalf("range: %d", resp.StatusCode)
	}
}

func TestImageCacheEvictsAndRerendersIdentically(t *testing.T) {
	s := startMock(t, Options{ImageCacheBytes: 1})
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "cache"}))
	first := download(t, d.Response.ResultImageURL)
	if n := len(s.cache.data); n != 0 {
		t.Fatalf("cache holds %d images over its limit", n)
	}
	if !bytes.Equal(first, download(t, d.Response.ResultImageURL)) {
		t.Fatal("re-rendered image differs")
	}
}

func TestFileRequestsNeedNoAuthAndAuthIsCounted(t *testing.T) {
	s := startMock(t, Options{})
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "cdn"}))
	download(t, d.Response.ResultImageURL)
	if s.Stats().FileRequestsWithAuth != 0 {
		t.Fatal("counted auth on a clean request")
	}
	resp, _ := get(t, d.Response.ResultImageURL, "Authorization", "Bearer "+testKey)
	if resp.StatusCode != 200 || s.Stats().FileRequestsWithAuth != 1 {
		t.Fatalf("status %d, stats %+v", resp.StatusCode, s.Stats())
	}
}

func downloadURL(t *testing.T, s *Server, link string) apiResp {
	t.Helper()
	return call(t, http.MethodPost, s.URL()+pathDownloadURL, testKey, map[string]string{"url": link})
}

func freshLink(t *testing.T, s *Server, link string) string {
	t.Helper()
	r := downloadURL(t, s, link)
	var fresh string
	if r.Code != 200 || json.Unmarshal(r.Data, &fresh) != nil {
		t.Fatalf("download-url: %s", r.Raw)
	}
	return fresh
}

func TestExpireLinksAndDownloadURL(t *testing.T) {
	s := startMock(t, Options{})
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "expire"}))
	link := d.Response.ResultImageURL
	if strings.Contains(link, "?") {
		t.Fatalf("link without TTL carries a token: %s", link)
	}
	original := download(t, link)
	s.ExpireLinks()
	for _, l := range []string{link, d.Response.OriginImageURL} {
		resp, body := get(t, l)
		if resp.StatusCode != 404 || !strings.Contains(string(body), "expired") {
			t.Fatalf("expired link: %d %s", resp.StatusCode, body)
		}
	}
	// record-info keeps the old link, as KIE does.
	if again := recordInfoOf(t, s, d.TaskID); again.Response.ResultImageURL != link {
		t.Fatalf("record-info link changed: %s", again.Response.ResultImageURL)
	}
	fresh := freshLink(t, s, link)
	if fresh == link || !bytes.Equal(download(t, fresh), original) {
		t.Fatalf("fresh link %s does not serve the image", fresh)
	}
	freshOrigin := freshLink(t, s, d.Response.OriginImageURL)
	download(t, freshOrigin)
	// A second expiry kills the fresh links too.
	s.ExpireLinks()
	if resp, _ := get(t, fresh); resp.StatusCode != 404 {
		t.Fatalf("fresh link survived a second expiry: %d", resp.StatusCode)
	}
	download(t, freshLink(t, s, fresh))

	// Tampering is refused.
	u, _ := url.Parse(freshLink(t, s, link))
	q := u.Query()
	q.Set("gen", "99")
	u.RawQuery = q.Encode()
	if resp, _ := get(t, u.String()); resp.StatusCode != 403 {
		t.Fatalf("tampered link: %d", resp.StatusCode)
	}
	// URLs the mock did not produce are 422.
	for _, bad := range []string{"https://example.com/x.png", s.URL() + "/files/fluxkontext_nope.jpg", "", "not a url"} {
		if r := downloadURL(t, s, bad); r.Code != 422 {
			t.Errorf("%q: %s", bad, r.Raw)
		}
	}
	if st := s.Stats(); st.DownloadURLRequests != 8 {
		t.Fatalf("download-url requests %d", st.DownloadURLRequests)
	}
}

func TestLinkTTL(t *testing.T) {
	const ttl = 400 * time.Millisecond
	s := startMock(t, Options{LinkTTL: ttl})
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "ttl"}))
	u, err := url.Parse(d.Response.ResultImageURL)
	if err != nil || u.Query().Get("exp") == "" || u.Query().Get("sig") == "" {
		t.Fatalf("link without token: %s", d.Response.ResultImageURL)
	}
	download(t, u.String())
	stripped := *u
	stripped.RawQuery = ""
	if resp, _ := get(t, stripped.String()); resp.StatusCode != 403 {
		t.Fatalf("unsigned link: %d", resp.StatusCode)
	}
	exp, _ := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
	time.Sleep(time.Until(time.UnixMilli(exp)) + 20*time.Millisecond)
	if resp, _ := get(t, u.String()); resp.StatusCode != 404 {
		t.Fatalf("link after TTL: %d", resp.StatusCode)
	}
	download(t, freshLink(t, s, u.String()))
}

// solidPNG encodes a w×h image of one colour.
func solidPNG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEditModeFetchesInputAndBlendsIt(t *testing.T) {
	red := solidPNG(t, 40, 30, color.RGBA{255, 0, 0, 255})
	var hits atomic.Int32
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(red)
	}))
	defer origin.Close()

	s := startMock(t, Options{Latency: 20 * time.Millisecond, ImageScale: 0.1})
	id := generate(t, s, map[string]any{"prompt": "make it redder", "inputImage": origin.URL + "/in.png", "outputFormat": "png"})
	d := waitDone(t, s, id)
	if d.SuccessFlag != 1 || hits.Load() != 1 {
		t.Fatalf("flag %d, input fetched %d times", d.SuccessFlag, hits.Load())
	}
	img, err := png.Decode(bytes.NewReader(download(t, d.Response.ResultImageURL)))
	if err != nil {
		t.Fatal(err)
	}
	// Below the caption the red input shows through the tint.
	b := img.Bounds()
	for _, p := range []image.Point{{b.Dx() / 2, b.Dy() / 2}, {b.Dx() / 4, b.Dy() / 3}} {
		r, g, bl, _ := img.At(p.X, p.Y).RGBA()
		if r>>8 < 170 || g>>8 > 86 || bl>>8 > 86 {
			t.Fatalf("pixel %v = %d,%d,%d: input not blended in", p, r>>8, g>>8, bl>>8)
		}
	}
	if s.Stats().InputFetches != 1 {
		t.Fatalf("input fetches %d", s.Stats().InputFetches)
	}

	// Editing the mock's own result reads it directly (no CDN download counted).
	before := s.Stats().Downloads
	id2 := generate(t, s, map[string]any{"prompt": "edit again", "inputImage": d.Response.ResultImageURL})
	if d2 := waitDone(t, s, id2); d2.SuccessFlag != 1 {
		t.Fatalf("edit of own result: %+v", d2)
	}
	if s.Stats().Downloads != before {
		t.Fatal("own-link input counted as a client download")
	}
}

func TestRenderDependsOnInput(t *testing.T) {
	var seed [32]byte
	thumbA, _ := decodeThumbnail(solidPNG(t, 8, 8, color.RGBA{0, 0, 255, 255}))
	thumbB, _ := decodeThumbnail(solidPNG(t, 8, 8, color.RGBA{0, 255, 0, 255}))
	a := renderImage(seed, 20, 10, thumbA, true)
	b := renderImage(seed, 20, 10, thumbB, true)
	c := renderImage(seed, 20, 10, thumbA, true)
	if bytes.Equal(a.Pix, b.Pix) || !bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("render must depend on the input, deterministically")
	}
}

func TestEditModeFailures(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL + "/gone.png"
	dead.Close() // connection refused from now on
	notImage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<html>not an image</html>"))
	}))
	defer notImage.Close()
	missing := httptest.NewServer(http.NotFoundHandler())
	defer missing.Close()

	s := startMock(t, Options{Latency: 10 * time.Millisecond})
	for name, input := range map[string]string{
		"unreachable":   deadURL,
		"not an image":  notImage.URL + "/x.png",
		"404":           missing.URL + "/x.png",
		"not loopback":  "http://example.invalid/x.png",
		"own, unknown":  s.URL() + "/files/fluxkontext_nope.png",
		"own, not done": s.URL() + "/files/uploads/none/x.png",
	} {
		id := generate(t, s, map[string]any{"prompt": "edit", "inputImage": input})
		d := waitDone(t, s, id)
		if d.SuccessFlag != 2 || d.ErrorCode == nil || *d.ErrorCode != 400 || d.ErrorMessage == nil ||
			!strings.Contains(*d.ErrorMessage, "input image") {
			t.Errorf("%s: %+v", name, d)
		}
	}
	if s.Credits() != DefaultCredits {
		t.Fatalf("failed edits charged: %v", s.Credits())
	}
}

func TestSlowInputKeepsTaskGeneratingWithoutBlockingPolls(t *testing.T) {
	release := make(chan struct{})
	img := solidPNG(t, 8, 8, color.RGBA{9, 9, 9, 255})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			_, _ = w.Write(img)
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	s := startMock(t, Options{})
	id := generate(t, s, map[string]any{"prompt": "slow input", "inputImage": slow.URL + "/in.png"})
	start := time.Now()
	if d := recordInfoOf(t, s, id); d.SuccessFlag != 0 {
		t.Fatalf("finished before its input arrived: %+v", d)
	}
	if took := time.Since(start); took > settleInputWait+time.Second {
		t.Fatalf("poll blocked %v", took)
	}
	close(release)
	if d := waitDone(t, s, id); d.SuccessFlag != 1 {
		t.Fatalf("after the input arrived: %+v", d)
	}
}
