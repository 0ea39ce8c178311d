package kiemock

import (
	"net/http"
	"strings"
	"testing"
)

func TestMarketModelValidation(t *testing.T) {
	const img = "http://127.0.0.1:1/in.png" // never fetched successfully; only create is checked
	long := func(n int) string { return strings.Repeat("é", n) }
	type bad struct {
		input map[string]any
		field string // named in msg as input.<field>
	}
	cases := []struct {
		model    string
		good     map[string]any
		defaults map[string]any // expected in the effective input
		bad      []bad
	}{
		{"google/nano-banana", map[string]any{"prompt": "p"},
			map[string]any{"output_format": "png", "aspect_ratio": "1:1"},
			[]bad{{map[string]any{}, "prompt"}, {map[string]any{"prompt": long(5001)}, "prompt"},
				{map[string]any{"prompt": "p", "aspect_ratio": "7:5"}, "aspect_ratio"},
				{map[string]any{"prompt": "p", "output_format": "webp"}, "output_format"},
				{map[string]any{"prompt": "p", "image_size": "huge"}, "image_size"},
				{map[string]any{"prompt": "p", "nsfw_checker": "yes"}, "nsfw_checker"}}},
		{"google/nano-banana-edit", map[string]any{"prompt": long(5000), "image_urls": []string{img, img}},
			map[string]any{"output_format": "png", "aspect_ratio": "1:1"},
			[]bad{{map[string]any{"prompt": "p"}, "image_urls"}, {map[string]any{"prompt": "p", "image_urls": []string{}}, "image_urls"},
				{map[string]any{"prompt": "p", "image_urls": make([]string, 11)}, "image_urls"},
				{map[string]any{"prompt": "p", "image_urls": []string{"ftp://x/y.png"}}, "image_urls[0]"},
				{map[string]any{"prompt": "p", "image_urls": img}, "image_urls"}}},
		{"nano-banana-pro", map[string]any{"prompt": long(10000)},
			map[string]any{"resolution": "1K", "output_format": "png", "aspect_ratio": "1:1"},
			[]bad{{map[string]any{"prompt": long(10001)}, "prompt"}, {map[string]any{"prompt": "p", "resolution": "8K"}, "resolution"},
				{map[string]any{"prompt": "p", "output_format": "jpeg"}, "output_format"},
				{map[string]any{"prompt": "p", "image_input": make([]string, 9)}, "image_input"}}},
		{"nano-banana-2", map[string]any{"prompt": "p", "aspect_ratio": "8:1"},
			map[string]any{"resolution": "1K", "output_format": "jpg", "google_search": false},
			[]bad{{map[string]any{"prompt": "p", "google_search": "true"}, "google_search"},
				{map[string]any{"prompt": "p", "image_input": make([]string, 15)}, "image_input"}}},
		{"seedream/4.5-text-to-image", map[string]any{"prompt": "p", "aspect_ratio": "21:9", "quality": "high"}, nil,
			[]bad{{map[string]any{"prompt": "p", "quality": "basic"}, "aspect_ratio"},
				{map[string]any{"prompt": "p", "aspect_ratio": "1:1"}, "quality"},
				{map[string]any{"prompt": long(3001), "aspect_ratio": "1:1", "quality": "basic"}, "prompt"},
				{map[string]any{"prompt": "p", "aspect_ratio": "auto", "quality": "basic"}, "aspect_ratio"}}},
		{"seedream/4.5-edit", map[string]any{"prompt": "p", "aspect_ratio": "1:1", "quality": "basic", "image_urls": make14(img)}, nil,
			[]bad{{map[string]any{"prompt": "p", "aspect_ratio": "1:1", "quality": "basic"}, "image_urls"},
				{map[string]any{"prompt": "p", "aspect_ratio": "1:1", "quality": "basic", "image_urls": append(make14(img), img)}, "image_urls"}}},
		{"bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "p", "max_images": 6, "seed": 42},
			map[string]any{"image_size": "square_hd", "image_resolution": "1K"},
			[]bad{{map[string]any{"prompt": "p", "max_images": 0}, "max_images"}, {map[string]any{"prompt": "p", "max_images": 2.5}, "max_images"},
				{map[string]any{"prompt": "p", "max_images": "2"}, "max_images"}, {map[string]any{"prompt": "p", "image_size": "16:9"}, "image_size"},
				{map[string]any{"prompt": "p", "image_resolution": "8K"}, "image_resolution"}}},
		{"bytedance/seedream-v4-edit", map[string]any{"prompt": "p", "image_urls": []string{img}},
			map[string]any{"max_images": 1.0},
			[]bad{{map[string]any{"prompt": "p"}, "image_urls"}}},
		{"flux-2/pro-text-to-image", map[string]any{"prompt": "abc", "aspect_ratio": "3:2", "resolution": "2K"}, nil,
			[]bad{{map[string]any{"prompt": "ab", "aspect_ratio": "1:1", "resolution": "1K"}, "prompt"},
				{map[string]any{"prompt": long(5001), "aspect_ratio": "1:1", "resolution": "1K"}, "prompt"},
				{map[string]any{"prompt": "abc", "aspect_ratio": "21:9", "resolution": "1K"}, "aspect_ratio"},
				{map[string]any{"prompt": "abc", "aspect_ratio": "1:1", "resolution": "4K"}, "resolution"},
				{map[string]any{"prompt": "abc", "aspect_ratio": "1:1"}, "resolution"}}},
		{"flux-2/pro-image-to-image", map[string]any{"prompt": "abc", "aspect_ratio": "1:1", "resolution": "1K", "input_urls": []string{img}}, nil,
			[]bad{{map[string]any{"prompt": "abc", "aspect_ratio": "1:1", "resolution": "1K"}, "input_urls"},
				{map[string]any{"prompt": "abc", "aspect_ratio": "1:1", "resolution": "1K", "input_urls": make([]string, 9)}, "input_urls"},
				{map[string]any{"prompt": "abc", "aspect_ratio": "1:1", "resolution": "1K", "image_urls": []string{img}}, "input_urls"}}},
		{"gpt-image/1.5-text-to-image", map[string]any{"prompt": long(30000), "aspect_ratio": "2:3", "quality": "high"}, nil,
			[]bad{{map[string]any{"prompt": "p", "aspect_ratio": "16:9", "quality": "high"}, "aspect_ratio"},
				{map[string]any{"prompt": "p", "aspect_ratio": "1:1", "quality": "low"}, "quality"},
				{map[string]any{"prompt": " ", "aspect_ratio": "1:1", "quality": "high"}, "prompt"}}},
		{"gpt-image/1.5-image-to-image", map[string]any{"prompt": "p", "aspect_ratio": "3:2", "quality": "medium", "input_urls": []string{img}}, nil,
			[]bad{{map[string]any{"prompt": "p", "aspect_ratio": "3:2", "quality": "medium", "input_urls": make([]string, 17)}, "input_urls"}}},
		{"google/imagen4-fast", map[string]any{"prompt": "p", "seed": 7, "negative_prompt": "blur"},
			map[string]any{"aspect_ratio": "16:9"},
			[]bad{{map[string]any{"prompt": "p", "seed": "7"}, "seed"}, {map[string]any{"prompt": "p", "seed": 1.5}, "seed"},
				{map[string]any{"prompt": "p", "negative_prompt": long(5001)}, "negative_prompt"},
				{map[string]any{"prompt": "p", "aspect_ratio": "2:3"}, "aspect_ratio"}}},
		{"google/imagen4", map[string]any{"prompt": "p", "seed": "seven"},
			map[string]any{"aspect_ratio": "1:1"},
			[]bad{{map[string]any{"prompt": "p", "seed": 7}, "seed"}, {map[string]any{"prompt": "p", "seed": long(501)}, "seed"}}},
		{"qwen/image-edit", map[string]any{"prompt": "p", "image_url": img},
			map[string]any{"num_images": "1", "image_size": "landscape_4_3", "output_format": "png"},
			[]bad{{map[string]any{"prompt": "p"}, "image_url"}, {map[string]any{"prompt": "p", "image_url": img, "num_images": 2}, "num_images"},
				{map[string]any{"prompt": "p", "image_url": img, "num_images": "5"}, "num_images"},
				{map[string]any{"prompt": long(2001), "image_url": img}, "prompt"},
				{map[string]any{"prompt": "p", "image_url": img, "num_inference_steps": 50}, "num_inference_steps"}}},
	}
	s := startMock(t, Options{})
	tested := map[string]bool{}
	for _, c := range cases {
		tested[c.model] = true
		id := createMarket(t, s, c.model, c.good)
		snap, _ := s.MarketTask(id)
		for k, v := range c.defaults {
			if snap.Input[k] != v {
				t.Errorf("%s: effective input.%s = %v, want %v", c.model, k, snap.Input[k], v)
			}
		}
		for _, b := range c.bad {
			r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, map[string]any{"model": c.model, "input": b.input})
			if r.Status != 422 || r.Code != 422 || !strings.Contains(r.Msg, "input."+b.field+" ") {
				t.Errorf("%s %v: HTTP %d %s (want input.%s)", c.model, b.input, r.Status, r.Raw, b.field)
			}
		}
	}
	for _, id := range MarketModels() {
		if !tested[id] {
			t.Errorf("model %s has no validation case", id)
		}
	}
	if st := s.Stats(); st.MarketTasksCreated != len(cases) {
		t.Fatalf("invalid inputs created tasks: %+v", st)
	}
}

func make14(u string) []string {
	out := make([]string, 14)
	for i := range out {
		out[i] = u
	}
	return out
}

func TestMarketTopLevelValidation(t *testing.T) {
	s := startMock(t, Options{})
	for body, want := range map[string]string{
		`{"input":{"prompt":"p"}}`:                                                "model is required",
		`{"model":7,"input":{"prompt":"p"}}`:                                      "model must be a string",
		`{"model":"flux-kontext-pro","input":{"prompt":"p"}}`:                     "model flux-kontext-pro is not supported",
		`{"model":"google/nano-banana"}`:                                          "input is required",
		`{"model":"google/nano-banana","input":"p"}`:                              "input must be an object",
		`{"model":"google/nano-banana","input":{"prompt":"p"},"callBackUrl":"x"}`: "callBackUrl",
		`{"model":"google/nano-banana","input":{"prompt":"p"},"callBackUrl":1}`:   "callBackUrl",
	} {
		r := call(t, http.MethodPost, s.URL()+pathCreateTask, testKey, body)
		if r.Status != 422 || r.Code != 422 || !strings.Contains(r.Msg, want) {
			t.Errorf("%s: HTTP %d %s", body, r.Status, r.Raw)
		}
	}
	// The deprecated image_size stands in for an absent aspect_ratio; unknown fields are kept.
	id := createMarket(t, s, "google/nano-banana", map[string]any{"prompt": "p", "image_size": "16:9", "extra": 1})
	snap, _ := s.MarketTask(id)
	if snap.Input["aspect_ratio"] != "16:9" || snap.Input["extra"] != 1.0 || snap.Width <= snap.Height {
		t.Fatalf("alias: %+v", snap)
	}
	if st := s.Stats(); st.MarketTasksCreated != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestMarketSizesAndFormats(t *testing.T) {
	s := startMock(t, Options{ImageScale: 0.1})
	cases := []struct {
		model  string
		input  map[string]any
		w, h   int // before scaling
		format string
	}{
		{"google/nano-banana", map[string]any{"prompt": "p"}, 1024, 1024, "png"},
		{"google/nano-banana", map[string]any{"prompt": "p", "aspect_ratio": "16:9", "output_format": "jpeg"}, 1360, 768, "jpeg"},
		{"nano-banana-pro", map[string]any{"prompt": "p", "resolution": "2K", "output_format": "jpg"}, 2048, 2048, "jpeg"},
		{"seedream/4.5-text-to-image", map[string]any{"prompt": "p", "aspect_ratio": "1:1", "quality": "basic"}, 2048, 2048, "jpeg"},
		{"bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "p", "image_size": "portrait_16_9"}, 768, 1360, "jpeg"},
		{"bytedance/seedream-v4-text-to-image", map[string]any{"prompt": "p", "image_size": "square", "image_resolution": "2K"}, 1024, 1024, "jpeg"},
		{"flux-2/pro-text-to-image", map[string]any{"prompt": "abc", "aspect_ratio": "4:3", "resolution": "1K"}, 1184, 880, "png"},
		{"gpt-image/1.5-text-to-image", map[string]any{"prompt": "p", "aspect_ratio": "3:2", "quality": "medium"}, 1536, 1024, "png"},
		{"google/imagen4-fast", map[string]any{"prompt": "p"}, 1360, 768, "png"},
	}
	for _, c := range cases {
		d := waitMarket(t, s, createMarket(t, s, c.model, c.input))
		urls := d.resultURLs(t)
		if len(urls) != 1 {
			t.Fatalf("%s: %v", c.model, urls)
		}
		img, format := decodeImage(t, download(t, urls[0]))
		w, h := scaleSize(c.w, 0.1), scaleSize(c.h, 0.1)
		if format != c.format || img.Bounds().Dx() != w || img.Bounds().Dy() != h {
			t.Errorf("%s %v: %s %v, want %s %dx%d", c.model, c.input, format, img.Bounds(), c.format, w, h)
		}
	}
}
