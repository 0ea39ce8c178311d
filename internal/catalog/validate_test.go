package catalog

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

const img = "https://example.com/a.png"

// minimalInputs is the smallest valid input of every model.
var minimalInputs = map[string]map[string]any{
	"google/nano-banana":                  {"prompt": "a cat"},
	"google/nano-banana-edit":             {"prompt": "a cat", "image_urls": []any{img}},
	"nano-banana-pro":                     {"prompt": "a cat"},
	"nano-banana-2":                       {"prompt": "a cat"},
	"nano-banana-2-lite":                  {"prompt": "a cat"},
	"bytedance/seedream":                  {"prompt": "a cat"},
	"bytedance/seedream-v4-text-to-image": {"prompt": "a cat"},
	"bytedance/seedream-v4-edit":          {"prompt": "a cat", "image_urls": []any{img}},
	"seedream/4.5-text-to-image":          {"prompt": "a cat", "aspect_ratio": "1:1", "quality": "basic"},
	"seedream/4.5-edit":                   {"prompt": "a cat", "aspect_ratio": "1:1", "quality": "high", "image_urls": []any{img}},
	"seedream/5-lite-text-to-image":       {"prompt": "a cat"},
	"seedream/5-lite-image-to-image":      {"prompt": "a cat", "image_urls": []any{img}},
	"seedream/5-pro-text-to-image":        {"prompt": "a cat"},
	"seedream/5-pro-image-to-image":       {"prompt": "a cat", "image_urls": []any{img}},
	"flux-2/pro-text-to-image":            {"prompt": "a cat", "aspect_ratio": "1:1", "resolution": "1K"},
	"flux-2/pro-image-to-image":           {"prompt": "a cat", "aspect_ratio": "1:1", "resolution": "2K", "input_urls": []any{img}},
	"flux-2/flex-text-to-image":           {"prompt": "a cat", "aspect_ratio": "auto", "resolution": "1K"},
	"flux-2/flex-image-to-image":          {"prompt": "a cat", "aspect_ratio": "auto", "resolution": "1K", "input_urls": []any{img}},
	"gpt-image/1.5-text-to-image":         {"prompt": "a cat", "aspect_ratio": "1:1", "quality": "medium"},
	"gpt-image/1.5-image-to-image":        {"prompt": "a cat", "aspect_ratio": "3:2", "quality": "high", "input_urls": []any{img}},
	"gpt-image-2-text-to-image":           {"prompt": "a cat"},
	"gpt-image-2-image-to-image":          {"prompt": "a cat", "input_urls": []any{img}},
	"google/imagen4-fast":                 {"prompt": "a cat"},
	"google/imagen4":                      {"prompt": "a cat"},
	"google/imagen4-ultra":                {"prompt": "a cat"},
	"grok-imagine/text-to-image":          {"prompt": "a cat"},
	"grok-imagine/image-to-image":         {"image_urls": []any{img}},
	"ideogram/v3-text-to-image":           {"prompt": "a cat"},
	"ideogram/v3-edit":                    {"prompt": "a cat", "image_url": img, "mask_url": img},
	"ideogram/v3-remix":                   {"prompt": "a cat", "image_url": img},
	"ideogram/character":                  {"prompt": "a cat", "reference_image_urls": []any{img}},
	"ideogram/character-edit":             {"prompt": "a cat", "image_url": img, "mask_url": img, "reference_image_urls": []any{img}},
	"ideogram/character-remix":            {"prompt": "a cat", "image_url": img, "reference_image_urls": []any{img}},
	"ideogram/v3-reframe":                 {"image_url": img},
	"qwen/text-to-image":                  {"prompt": "a cat"},
	"qwen/image-to-image":                 {"prompt": "a cat", "image_url": img},
	"qwen/image-edit":                     {"prompt": "a cat", "image_url": img},
	"qwen2/image-edit":                    {"prompt": "a cat", "image_url": img},
	"qwen2/text-to-image":                 {"prompt": "a cat"},
	"z-image":                             {"prompt": "a cat", "aspect_ratio": "1:1"},
	"wan/2-7-image":                       {"prompt": "a cat"},
	"wan/2-7-image-pro":                   {"prompt": "a cat"},
	"recraft/remove-background":           {"image": img},
	"recraft/crisp-upscale":               {"image": img},
	"topaz/image-upscale":                 {"image_url": img},
}

func minimal(t *testing.T, id string) map[string]any {
	t.Helper()
	in, ok := minimalInputs[id]
	if !ok {
		t.Fatalf("no minimal input for %s", id)
	}
	out := map[string]any{}
	for k, v := range in {
		out[k] = v
	}
	return out
}

func TestMinimalInputEveryModel(t *testing.T) {
	for _, m := range Models() {
		if ps := Validate(m, minimal(t, m.ID)); len(ps) != 0 {
			t.Errorf("%s: minimal input gave %+v", m.ID, ps)
		}
	}
	if len(minimalInputs) != len(Models()) {
		t.Errorf("%d minimal inputs for %d models", len(minimalInputs), len(Models()))
	}
}

// TestMinimalInputFromJSON: values as encoding/json decodes them, with and without UseNumber.
func TestMinimalInputFromJSON(t *testing.T) {
	const doc = `{"prompt":"a cat","max_images":3,"seed":7,"image_urls":["` + img + `"]}`
	m, _ := Lookup("bytedance/seedream-v4-edit")
	var plain map[string]any
	if err := json.Unmarshal([]byte(doc), &plain); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	var numbers map[string]any
	if err := dec.Decode(&numbers); err != nil {
		t.Fatal(err)
	}
	for _, in := range []map[string]any{plain, numbers} {
		if ps := Validate(m, in); len(ps) != 0 {
			t.Errorf("%v gave %+v", in, ps)
		}
		if n, ok := ResultCount(m, in); n != 3 || !ok {
			t.Errorf("ResultCount(%v) = %d, %v", in, n, ok)
		}
	}
}

type want struct {
	sev     Severity
	path    string
	summary string
	detail  string // substring of Detail
}

func with(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func urlsN(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = img
	}
	return out
}

func TestValidateProblems(t *testing.T) {
	E, W := SeverityError, SeverityWarning
	nb := minimalInputs["google/nano-banana"]
	tests := []struct {
		name  string
		model string
		input map[string]any
		want  []want
	}{
		{"missing required", "google/nano-banana", map[string]any{},
			[]want{{E, "input.prompt", "Missing required input field", "input.prompt is required by google/nano-banana"}}},
		{"empty required string", "google/nano-banana", with(nb, "prompt", ""),
			[]want{{E, "input.prompt", "Missing required input field", "required"}}},
		{"null optional is absent", "google/nano-banana", map[string]any{"prompt": "a cat", "aspect_ratio": nil}, nil},
		{"enum", "google/nano-banana", with(nb, "aspect_ratio", "7:5"),
			[]want{{E, "input.aspect_ratio", "Value not allowed",
				`input.aspect_ratio "7:5" is not one of 1:1, 9:16, 16:9, 3:4, 4:3, 3:2, 2:3, 5:4, 4:5, 21:9, auto for google/nano-banana`}}},
		{"wrong type string", "google/nano-banana", with(nb, "prompt", 3.0),
			[]want{{E, "input.prompt", "Wrong input type", "input.prompt must be a string for google/nano-banana, not a number"}}},
		{"wrong type bool", "nano-banana-2", with(nb, "google_search", "yes"),
			[]want{{E, "input.google_search", "Wrong input type", "must be true or false"}}},
		{"integer given a string", "bytedance/seedream-v4-text-to-image", with(nb, "max_images", "3"),
			[]want{{E, "input.max_images", "Wrong input type", "must be an integer"}}},
		{"integer with fraction", "bytedance/seedream-v4-text-to-image", with(nb, "max_images", 2.5),
			[]want{{E, "input.max_images", "Not a whole number", "is 2.5"}}},
		{"range high", "bytedance/seedream-v4-text-to-image", with(nb, "max_images", 7.0),
			[]want{{E, "input.max_images", "Value out of range", "input.max_images is 7; bytedance/seedream-v4-text-to-image accepts 1 to 6"}}},
		{"range low float", "bytedance/seedream", with(nb, "guidance_scale", 0.5),
			[]want{{E, "input.guidance_scale", "Value out of range", "accepts 1 to 10"}}},
		{"range json.Number", "bytedance/seedream", with(nb, "guidance_scale", json.Number("11")),
			[]want{{E, "input.guidance_scale", "Value out of range", "is 11"}}},
		{"too long counts characters", "z-image", map[string]any{"prompt": strings.Repeat("é", 1001), "aspect_ratio": "1:1"},
			[]want{{E, "input.prompt", "Value too long", "input.prompt has 1001 characters; z-image accepts at most 1000"}}},
		{"multibyte at the limit", "z-image", map[string]any{"prompt": strings.Repeat("é", 1000), "aspect_ratio": "1:1"}, nil},
		{"too short", "flux-2/pro-text-to-image", with(minimalInputs["flux-2/pro-text-to-image"], "prompt", "ab"),
			[]want{{E, "input.prompt", "Value too short", "has 2 characters; flux-2/pro-text-to-image needs at least 3"}}},
		{"too many images", "google/nano-banana-edit", with(nb, "image_urls", urlsN(11)),
			[]want{{E, "input.image_urls", "Too many input images", "input.image_urls has 11 images; google/nano-banana-edit accepts at most 10"}}},
		{"max images allowed", "google/nano-banana-edit", with(nb, "image_urls", urlsN(10)), nil},
		{"empty required list", "flux-2/pro-image-to-image", with(minimalInputs["flux-2/pro-image-to-image"], "input_urls", []any{}),
			[]want{{E, "input.input_urls", "No input images", "needs at least 1 image"}}},
		{"missing required list", "google/nano-banana-edit", nb,
			[]want{{E, "input.image_urls", "Missing required input field", "required by google/nano-banana-edit"}}},
		{"optional list may be empty", "nano-banana-pro", with(nb, "image_input", []any{}), nil},
		{"list element type", "google/nano-banana-edit", with(nb, "image_urls", []any{img, 3.0}),
			[]want{{E, "input.image_urls[1]", "Wrong input type", "input.image_urls[1] must be a string"}}},
		{"list element not a URL", "google/nano-banana-edit", with(nb, "image_urls", []any{img, "cat.png"}),
			[]want{{W, "input.image_urls[1]", "Not an image URL", `"cat.png" is not an http(s) URL`}}},
		{"list given a string", "google/nano-banana-edit", with(nb, "image_urls", img),
			[]want{{E, "input.image_urls", "Wrong input type", "must be a list of strings"}}},
		{"single image given a list", "topaz/image-upscale", map[string]any{"image_url": []any{img}},
			[]want{{E, "input.image_url", "Wrong input type", "must be a string for topaz/image-upscale, not a list"}}},
		{"[]string accepted", "google/nano-banana-edit", with(nb, "image_urls", []string{img, img}), nil},
		{"undocumented field warns", "google/nano-banana", with(nb, "zeta", 1.0, "alpha", true),
			[]want{
				{W, "input.alpha", "Undocumented input field", "input.alpha is not among the documented fields of google/nano-banana (prompt, "},
				{W, "input.zeta", "Undocumented input field", "sent to KIE as given"},
			}},
		{"partial model does not warn on unknown fields", "wan/2-7-image", with(nb, "thinking_mode", true), nil},
		{"deprecated alias", "google/nano-banana", with(nb, "image_size", "16:9"),
			[]want{{W, "input.image_size", "Deprecated input field", "deprecated alias of input.aspect_ratio"}}},
		{"deprecated alias conflicting", "google/nano-banana", with(nb, "image_size", "16:9", "aspect_ratio", "1:1"),
			[]want{{W, "input.image_size", "Deprecated input field", `both are set and differ ("16:9" vs "1:1")`}}},
		{"deprecated alias still checked", "google/nano-banana", with(nb, "image_size", "7:5"),
			[]want{{W, "input.image_size", "Deprecated input field", ""}, {E, "input.image_size", "Value not allowed", ""}}},
		{"required with default only warns", "seedream/4.5-text-to-image", map[string]any{"prompt": "a cat"},
			[]want{
				{W, "input.aspect_ratio", "Missing required input field", `documents the default "1:1"`},
				{W, "input.quality", "Missing required input field", `documents the default "basic"`},
			}},
		{"doubtful field only warns", "google/imagen4", with(nb, "seed", 42.0),
			[]want{{W, "input.seed", "Wrong input type", "KIE's docs are unclear"}}},
		{"doubtful enum only warns", "nano-banana-2-lite", with(nb, "aspect_ratio", "2:1"),
			[]want{{W, "input.aspect_ratio", "Value not allowed", "KIE's docs are unclear"}}},
		{"doubtful required prompt warns", "bytedance/seedream", map[string]any{},
			[]want{{W, "input.prompt", "Missing required input field", "KIE's docs are unclear"}}},
		{"uncertain model only warns", "wan/2-7-image", with(nb, "n", 20.0, "resolution", "4K"),
			[]want{
				{W, "input.n", "Value out of range", "the catalogue's facts for this model are uncertain"},
				{W, "input.resolution", "Value not allowed", "is not one of 1K, 2K"},
				{W, "input.n", "Too many results without sequential mode", "enable_sequential"},
			}},
		{"wan sequential allows 12", "wan/2-7-image", with(nb, "n", 12.0, "enable_sequential", true), nil},
		{"wan pro 4K only text-to-image", "wan/2-7-image-pro", with(nb, "resolution", "4K", "input_urls", []any{img}),
			[]want{{W, "input.resolution", "Resolution not available with input images", "text-to-image only"}}},
		{"wan pro 4K text-to-image", "wan/2-7-image-pro", with(nb, "resolution", "4K"), nil},
		{"string number", "ideogram/v3-remix", with(minimalInputs["ideogram/v3-remix"], "num_images", "4"), nil},
		{"string number out of range", "ideogram/v3-remix", with(minimalInputs["ideogram/v3-remix"], "num_images", "5"),
			[]want{{E, "input.num_images", "Value out of range", "input.num_images is 5; ideogram/v3-remix accepts 1 to 4"}}},
		{"string number not a number", "qwen/image-edit", with(minimalInputs["qwen/image-edit"], "num_images", "two"),
			[]want{{E, "input.num_images", "Not a whole number", `input.num_images "two" must be a whole number written as a string`}}},
		{"string number given a number", "qwen/image-edit", with(minimalInputs["qwen/image-edit"], "num_images", 2.0),
			[]want{{W, "input.num_images", "Number sent as a number", `send "2"`}}},
		{"string number enum", "topaz/image-upscale", with(minimalInputs["topaz/image-upscale"], "upscale_factor", "3"),
			[]want{{E, "input.upscale_factor", "Value not allowed", `"3" is not one of 1, 2, 4, 8 for topaz/image-upscale`}}},
		{"grok extra images ignored", "grok-imagine/image-to-image", map[string]any{"image_urls": urlsN(3)},
			[]want{{W, "input.image_urls", "Extra input images ignored", "uses only the first 1"}}},
		{"grok schema max", "grok-imagine/image-to-image", map[string]any{"image_urls": urlsN(6)},
			[]want{{E, "input.image_urls", "Too many input images", "at most 5"}}},
		{"mask is required", "ideogram/v3-edit", map[string]any{"prompt": "x", "image_url": img},
			[]want{{E, "input.mask_url", "Missing required input field", ""}}},
		{"gpt-image-2 4K square", "gpt-image-2-text-to-image", with(nb, "resolution", "4K", "aspect_ratio", "1:1"),
			[]want{{W, "input.resolution", "Resolution not available for this aspect ratio", `"4K" is not available with aspect_ratio "1:1"`}}},
		{"gpt-image-2 2K 5:4", "gpt-image-2-image-to-image", with(minimalInputs["gpt-image-2-image-to-image"], "resolution", "2K", "aspect_ratio", "5:4"),
			[]want{{W, "input.resolution", "Resolution not available for this aspect ratio", `"2K" is not available with aspect_ratio "5:4"`}}},
		{"gpt-image-2 2K no ratio", "gpt-image-2-text-to-image", with(nb, "resolution", "2K"),
			[]want{{W, "input.resolution", "Resolution not available for this aspect ratio", "1K only"}}},
		{"gpt-image-2 4K auto", "gpt-image-2-text-to-image", with(nb, "resolution", "4K", "aspect_ratio", "auto"),
			[]want{{W, "input.resolution", "Resolution not available for this aspect ratio", "1K only"}}},
		{"gpt-image-2 1K auto", "gpt-image-2-text-to-image", with(nb, "resolution", "1K", "aspect_ratio", "auto"), nil},
		{"gpt-image-2 4K 16:9", "gpt-image-2-text-to-image", with(nb, "resolution", "4K", "aspect_ratio", "16:9"), nil},
		{"gpt-image-2 1:1 2K", "gpt-image-2-text-to-image", with(nb, "resolution", "2K", "aspect_ratio", "1:1"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := Lookup(tc.model)
			if !ok {
				t.Fatalf("no model %s", tc.model)
			}
			got := Validate(m, tc.input)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d: %+v", len(got), len(tc.want), got)
			}
			for i, w := range tc.want {
				p := got[i]
				if p.Severity != w.sev || p.Path != w.path || p.Summary != w.summary || !strings.Contains(p.Detail, w.detail) {
					t.Errorf("problem %d = %+v\nwant %v %s %q containing %q", i, p, w.sev, w.path, w.summary, w.detail)
				}
			}
			if HasErrors(got) != (len(tc.want) > 0 && hasErrorWant(tc.want)) {
				t.Errorf("HasErrors = %v", HasErrors(got))
			}
		})
	}
}

func hasErrorWant(ws []want) bool {
	for _, w := range ws {
		if w.sev == SeverityError {
			return true
		}
	}
	return false
}

func TestValidateSkipsUnknown(t *testing.T) {
	tests := []struct {
		model string
		input map[string]any
		want  []string // paths of expected problems
	}{
		{"google/nano-banana", map[string]any{"prompt": Unknown, "aspect_ratio": Unknown}, nil},
		{"google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": Unknown}, nil},
		{"google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": []any{Unknown, 3.0, Unknown}},
			[]string{"input.image_urls[1]"}},
		// Unknown elements still count: the list's length is known.
		{"google/nano-banana-edit", map[string]any{"prompt": "x", "image_urls": append(urlsN(10), Unknown)},
			[]string{"input.image_urls"}},
		{"gpt-image-2-text-to-image", map[string]any{"prompt": "x", "resolution": "4K", "aspect_ratio": Unknown}, nil},
		{"gpt-image-2-text-to-image", map[string]any{"prompt": "x", "resolution": Unknown, "aspect_ratio": "1:1"}, nil},
		{"wan/2-7-image", map[string]any{"prompt": "x", "n": 8.0, "enable_sequential": Unknown}, nil},
		{"ideogram/v3-remix", map[string]any{"prompt": "x", "image_url": Unknown, "num_images": Unknown}, nil},
		{"google/nano-banana", map[string]any{"prompt": "x", "image_size": Unknown}, nil},
		// An undocumented key is reported even when its value is unknown.
		{"google/nano-banana", map[string]any{"prompt": "x", "extra": Unknown}, []string{"input.extra"}},
	}
	for i, tc := range tests {
		m, _ := Lookup(tc.model)
		var paths []string
		for _, p := range Validate(m, tc.input) {
			paths = append(paths, p.Path)
		}
		if !reflect.DeepEqual(paths, tc.want) {
			t.Errorf("case %d (%s): problem paths %v, want %v", i, tc.model, paths, tc.want)
		}
	}
}

func TestValidateDeterministic(t *testing.T) {
	m, _ := Lookup("google/nano-banana")
	in := map[string]any{"aspect_ratio": "x", "output_format": "gif"}
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"} {
		in[k] = true
	}
	first := Validate(m, in)
	for range 20 {
		if got := Validate(m, in); !reflect.DeepEqual(got, first) {
			t.Fatalf("order changed:\n%+v\n%+v", first, got)
		}
	}
}

func TestValidateNilModel(t *testing.T) {
	ps := Validate(nil, map[string]any{})
	if len(ps) != 1 || ps[0].Severity != SeverityError || ps[0].Path != "model" {
		t.Fatalf("Validate(nil) = %+v", ps)
	}
}
