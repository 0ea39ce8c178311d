package kiemock

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestMarketPictureShowsModelAndPrompt(t *testing.T) {
	s := startMock(t, Options{ImageScale: 0.3})
	const prompt = "A lighthouse on a cliff at dusk"
	d := waitMarket(t, s, createMarket(t, s, "google/nano-banana", map[string]any{"prompt": prompt}))
	img, err := png.Decode(bytes.NewReader(download(t, d.resultURLs(t)[0])))
	if err != nil {
		t.Fatal(err)
	}
	rgba := img.(*image.RGBA)
	s.mu.Lock()
	view := s.market.tasks[d.TaskID].renderViewLocked(1)
	s.mu.Unlock()
	seed := sha256.Sum256([]byte(prompt + "\x00" + d.TaskID + "-1"))
	if c := taskCaption(view, seed, false); c.header != "google/nano-banana · 1:1" || c.prompt != prompt || c.tag != d.TaskID+"-1" {
		t.Fatalf("caption %+v", c)
	}
	// The picture is the plain pattern above the caption, with text drawn in the bottom band.
	plain := renderImage(seed, view.width, view.height, nil, true)
	half := rgba.PixOffset(0, view.height/2)
	if !bytes.Equal(rgba.Pix[:half], plain.Pix[:half]) || bytes.Equal(rgba.Pix[half:], plain.Pix[half:]) {
		t.Fatal("the result is not the task's captioned picture")
	}
	if _, _, n := textBand(rowsWithText(rgba)); n == 0 {
		t.Fatal("no caption text")
	}
}

func TestMarketEditDerivesFromInputs(t *testing.T) {
	red := solidPNG(t, 40, 40, color.RGBA{255, 0, 0, 255})
	blue := solidPNG(t, 40, 40, color.RGBA{0, 0, 255, 255})
	src, hits := imageServer(t, map[string][]byte{"/red.png": red, "/blue.png": blue})
	s := startMock(t, Options{Latency: 20 * time.Millisecond, ImageScale: 0.2})

	// One input: the result is that input, tinted.
	one := waitMarket(t, s, createMarket(t, s, "google/nano-banana-edit",
		map[string]any{"prompt": "redder", "image_urls": []string{src.URL + "/red.png"}}))
	img, _ := decodeImage(t, download(t, one.resultURLs(t)[0]))
	b := img.Bounds()
	if r, g, bl := rgb(img.At(b.Dx()/2, b.Dy()*3/4)); r < 170 || g > 86 || bl > 86 {
		t.Fatalf("single input not shown: %d,%d,%d", r, g, bl)
	}

	// Two inputs side by side: red on the left, blue on the right.
	two := waitMarket(t, s, createMarket(t, s, "flux-2/pro-image-to-image", map[string]any{
		"prompt": "combine", "aspect_ratio": "1:1", "resolution": "1K",
		"input_urls": []string{src.URL + "/red.png", src.URL + "/blue.png"},
	}))
	img, _ = decodeImage(t, download(t, two.resultURLs(t)[0]))
	b = img.Bounds()
	lr, _, lb := rgb(img.At(b.Dx()/4, b.Dy()*6/10))
	rr, _, rb := rgb(img.At(b.Dx()*3/4, b.Dy()*6/10))
	if lr < lb+80 || rb < rr+80 {
		t.Fatalf("left %d/%d, right %d/%d: inputs not both shown", lr, lb, rr, rb)
	}
	if hits.Load() != 3 || s.Stats().InputFetches != 3 {
		t.Fatalf("input fetches: server %d, stats %d", hits.Load(), s.Stats().InputFetches)
	}

	// The same inputs with another prompt give another picture; a Market result can be an input.
	again := waitMarket(t, s, createMarket(t, s, "seedream/4.5-edit", map[string]any{
		"prompt": "again", "aspect_ratio": "1:1", "quality": "basic", "image_urls": []string{two.resultURLs(t)[0]},
	}))
	if again.State != StateSuccess {
		t.Fatalf("edit of a Market result: %+v", again)
	}

	// Inputs that cannot be read fail the task with 400, refunded.
	before := s.Credits()
	bad := waitMarket(t, s, createMarket(t, s, "nano-banana-pro", map[string]any{
		"prompt": "broken", "image_input": []string{src.URL + "/red.png", src.URL + "/missing.png"},
	}))
	if bad.State != StateFail || bad.FailCode != "400" || !strings.Contains(bad.FailMsg, "input.image_input[1]") ||
		s.Credits() != before {
		t.Fatalf("bad input: %+v, credits %v -> %v", bad, before, s.Credits())
	}
}

func TestMarketLinksExpireAndRefresh(t *testing.T) {
	s := startMock(t, Options{})
	d := waitMarket(t, s, createMarket(t, s, "bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "links", "max_images": 2}))
	urls := d.resultURLs(t)
	original := download(t, urls[1])
	s.ExpireLinks()
	for _, u := range urls {
		if resp, body := get(t, u); resp.StatusCode != 404 || !strings.Contains(string(body), "expired") {
			t.Fatalf("expired link: %d %s", resp.StatusCode, body)
		}
	}
	if again := marketInfo(t, s, d.TaskID); again.ResultJSON != d.ResultJSON {
		t.Fatal("recordInfo changed its links")
	}
	fresh := freshLink(t, s, urls[1])
	if fresh == urls[1] || !bytes.Equal(download(t, fresh), original) {
		t.Fatalf("fresh link %s", fresh)
	}
	for _, bad := range []string{
		s.URL() + "/files/" + d.TaskID + "-3.jpg",                 // past the count
		s.URL() + "/files/" + d.TaskID + "-1.png",                 // wrong format
		s.URL() + "/files/0123456789abcdef0123456789abcdef-1.jpg", // unknown task
	} {
		if r := downloadURL(t, s, bad); r.Code != 422 {
			t.Errorf("%s: %s", bad, r.Raw)
		}
	}
	// Failed tasks have no files to refresh.
	f := waitMarket(t, s, createMarket(t, s, "google/nano-banana", map[string]any{"prompt": MarkerGenerateFail}))
	if r := downloadURL(t, s, s.URL()+"/files/"+f.TaskID+"-1.png"); r.Code != 422 {
		t.Errorf("failed task: %s", r.Raw)
	}

	ttl := startMock(t, Options{LinkTTL: 300 * time.Millisecond})
	td := waitMarket(t, ttl, createMarket(t, ttl, "google/nano-banana", map[string]any{"prompt": "ttl"}))
	link := td.resultURLs(t)[0]
	if !strings.Contains(link, "sig=") {
		t.Fatalf("link without token: %s", link)
	}
	download(t, link)
	time.Sleep(350 * time.Millisecond)
	if resp, _ := get(t, link); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("after TTL: %d", resp.StatusCode)
	}
	download(t, freshLink(t, ttl, link))
	if st := ttl.Stats(); st.Downloads != 3 {
		t.Fatalf("downloads %d", st.Downloads)
	}
}

func TestParseMarketFile(t *testing.T) {
	const id = "0123456789abcdef0123456789abcdef"
	for path, ok := range map[string]bool{
		"/files/" + id + "-1.png":                                true,
		"/files/" + id + "-12.jpg":                               true,
		"/files/" + id + "-0.png":                                false,
		"/files/" + id + "-01.png":                               false,
		"/files/" + id + ".png":                                  false,
		"/files/" + strings.ToUpper(id) + "-1.png":               false,
		"/files/fluxkontext_0123456789abcdef01234567.jpg":        false,
		"/files/fluxkontext_0123456789abcdef01234567-origin.jpg": false,
		"/files/uploads/" + id + "-1.png":                        false,
	} {
		if _, _, _, got := parseMarketFile(path); got != ok {
			t.Errorf("%s: %v", path, got)
		}
	}
}
