package catalog

import (
	"slices"
	"strings"
	"testing"
)

var wantIDs = []string{
	"bytedance/seedream", "bytedance/seedream-v4-edit", "bytedance/seedream-v4-text-to-image",
	"flux-2/flex-image-to-image", "flux-2/flex-text-to-image", "flux-2/pro-image-to-image", "flux-2/pro-text-to-image",
	"google/imagen4", "google/imagen4-fast", "google/imagen4-ultra", "google/nano-banana", "google/nano-banana-edit",
	"gpt-image-2-image-to-image", "gpt-image-2-text-to-image", "gpt-image/1.5-image-to-image", "gpt-image/1.5-text-to-image",
	"grok-imagine/image-to-image", "grok-imagine/text-to-image",
	"ideogram/character", "ideogram/character-edit", "ideogram/character-remix",
	"ideogram/v3-edit", "ideogram/v3-reframe", "ideogram/v3-remix", "ideogram/v3-text-to-image",
	"nano-banana-2", "nano-banana-2-lite", "nano-banana-pro",
	"qwen/image-edit", "qwen/image-to-image", "qwen/text-to-image", "qwen2/image-edit", "qwen2/text-to-image",
	"recraft/crisp-upscale", "recraft/remove-background",
	"seedream/4.5-edit", "seedream/4.5-text-to-image",
	"seedream/5-lite-image-to-image", "seedream/5-lite-text-to-image",
	"seedream/5-pro-image-to-image", "seedream/5-pro-text-to-image",
	"topaz/image-upscale", "wan/2-7-image", "wan/2-7-image-pro", "z-image",
}

func TestModelsSortedAndComplete(t *testing.T) {
	var got []string
	for _, m := range Models() {
		got = append(got, m.ID)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Models() not sorted by id: %v", got)
	}
	want := slices.Sorted(slices.Values(wantIDs))
	if !slices.Equal(got, want) {
		t.Errorf("model ids:\n got %v\nwant %v", got, want)
	}
}

func TestModelsReturnsFreshSlice(t *testing.T) {
	a := Models()
	a[0] = nil
	if Models()[0] == nil {
		t.Fatal("Models() shares its slice with callers")
	}
}

func TestLookup(t *testing.T) {
	m, ok := Lookup("google/nano-banana-edit")
	if !ok || m.ID != "google/nano-banana-edit" {
		t.Fatalf("Lookup(google/nano-banana-edit) = %v, %v", m, ok)
	}
	if m.DocURL != "https://docs.kie.ai/market/google/nano-banana-edit" || m.ImageField != "image_urls" ||
		!m.ImageRequired || !m.ImageList || m.MaxImages != 10 || m.MaxImageBytes != 10<<20 {
		t.Errorf("nano-banana-edit image facts wrong: %+v", m)
	}
	for _, id := range []string{"", "nano-banana", "flux-kontext-pro", "GOOGLE/NANO-BANANA"} {
		if _, ok := Lookup(id); ok {
			t.Errorf("Lookup(%q) found a model", id)
		}
	}
}

// TestModelInvariants checks the table's self-consistency for every model.
func TestModelInvariants(t *testing.T) {
	for _, m := range Models() {
		if !strings.HasPrefix(m.DocURL, DocBase) || len(m.DocURL) == len(DocBase) {
			t.Errorf("%s: doc URL %q", m.ID, m.DocURL)
		}
		if m.Description == "" || m.Family == "" {
			t.Errorf("%s: missing description or family", m.ID)
		}
		seen := map[string]bool{}
		for _, f := range m.Fields {
			if seen[f.Name] {
				t.Errorf("%s: field %s twice", m.ID, f.Name)
			}
			seen[f.Name] = true
			if f.Default != nil && f.Enum != nil {
				if s, ok := f.Default.(string); !ok || !slices.Contains(f.Enum, s) {
					t.Errorf("%s: %s default %v not in enum %v", m.ID, f.Name, f.Default, f.Enum)
				}
			}
			if f.DeprecatedFor != "" {
				if _, ok := m.Field(f.DeprecatedFor); !ok {
					t.Errorf("%s: %s deprecated for missing field %s", m.ID, f.Name, f.DeprecatedFor)
				}
			}
			if f.Range != nil && f.Range.Min > f.Range.Max {
				t.Errorf("%s: %s range %v", m.ID, f.Name, *f.Range)
			}
		}
		if m.ImageField != "" {
			f, ok := m.Field(m.ImageField)
			if !ok {
				t.Errorf("%s: image field %s is not a field", m.ID, m.ImageField)
				continue
			}
			if (f.Kind == KindStringList) != m.ImageList || (f.Kind != KindStringList && f.Kind != KindString) {
				t.Errorf("%s: image field kind %v vs ImageList %v", m.ID, f.Kind, m.ImageList)
			}
			if f.Required != m.ImageRequired || !f.URL {
				t.Errorf("%s: image field required=%v url=%v, model says required=%v", m.ID, f.Required, f.URL, m.ImageRequired)
			}
			if m.MaxImages != 0 && m.MaxImages < max(m.MinImages, 1) {
				t.Errorf("%s: images %d..%d", m.ID, m.MinImages, m.MaxImages)
			}
		} else if m.ImageRequired || m.ImageList || m.MaxImages != 0 || m.MaxImageBytes != 0 {
			t.Errorf("%s: image facts without an image field", m.ID)
		}
		if m.ResultCountField != "" {
			if _, ok := m.Field(m.ResultCountField); !ok {
				t.Errorf("%s: count field %s is not a field", m.ID, m.ResultCountField)
			}
		}
	}
}

// TestDefaultsValidate: an input made of every documented default passes without any problem.
func TestDefaultsValidate(t *testing.T) {
	for _, m := range Models() {
		in := minimal(t, m.ID)
		for _, f := range m.Fields {
			if f.Default != nil && f.DeprecatedFor == "" {
				in[f.Name] = f.Default
			}
		}
		if ps := Validate(m, in); len(ps) != 0 {
			t.Errorf("%s: defaults gave %+v", m.ID, ps)
		}
	}
}

func field(t *testing.T, id, name string) *Field {
	t.Helper()
	m, ok := Lookup(id)
	if !ok {
		t.Fatalf("no model %s", id)
	}
	f, ok := m.Field(name)
	if !ok {
		t.Fatalf("%s has no field %s", id, name)
	}
	return f
}

func TestDocumentedFacts(t *testing.T) {
	tests := []struct {
		id, field string
		kind      Kind
		required  bool
		def       any
		enum      []string
		rng       *Range
		maxLen    int
	}{
		{"google/nano-banana", "prompt", KindString, true, nil, nil, nil, 5000},
		{"google/nano-banana", "aspect_ratio", KindString, false, "1:1",
			[]string{"1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"}, nil, 0},
		{"google/nano-banana", "output_format", KindString, false, "png", []string{"png", "jpeg"}, nil, 0},
		{"nano-banana-pro", "output_format", KindString, false, "png", []string{"png", "jpg"}, nil, 0},
		{"nano-banana-pro", "resolution", KindString, false, "1K", []string{"1K", "2K", "4K"}, nil, 0},
		{"nano-banana-2", "output_format", KindString, false, "jpg", []string{"png", "jpg"}, nil, 0},
		{"nano-banana-2", "prompt", KindString, true, nil, nil, nil, 20000},
		{"nano-banana-2", "google_search", KindBool, false, false, nil, nil, 0},
		{"bytedance/seedream", "guidance_scale", KindNumber, false, 2.5, nil, &Range{1, 10}, 0},
		{"bytedance/seedream-v4-text-to-image", "max_images", KindInteger, false, 1.0, nil, &Range{1, 6}, 0},
		{"seedream/4.5-edit", "quality", KindString, true, "basic", []string{"basic", "high"}, nil, 0},
		{"flux-2/pro-text-to-image", "resolution", KindString, true, "1K", []string{"1K", "2K"}, nil, 0},
		{"gpt-image/1.5-image-to-image", "aspect_ratio", KindString, true, "3:2", []string{"1:1", "2:3", "3:2"}, nil, 0},
		{"google/imagen4-fast", "aspect_ratio", KindString, false, "16:9", []string{"1:1", "16:9", "9:16", "3:4", "4:3", "auto"}, nil, 0},
		{"google/imagen4-fast", "seed", KindInteger, false, nil, nil, nil, 0},
		{"google/imagen4-ultra", "seed", KindString, false, nil, nil, nil, 500},
		{"google/imagen4", "aspect_ratio", KindString, false, "1:1", []string{"1:1", "16:9", "9:16", "3:4", "4:3", "auto"}, nil, 0},
		{"ideogram/v3-remix", "num_images", KindIntString, false, nil, nil, &Range{1, 4}, 0},
		{"ideogram/v3-remix", "strength", KindNumber, false, nil, nil, &Range{0.01, 1}, 0},
		{"ideogram/v3-edit", "expand_prompt", KindBool, false, true, nil, nil, 0},
		{"qwen/text-to-image", "num_inference_steps", KindInteger, false, 30.0, nil, &Range{2, 250}, 0},
		{"qwen/text-to-image", "negative_prompt", KindString, false, nil, nil, nil, 500},
		{"qwen/image-edit", "num_images", KindIntString, false, nil, nil, &Range{1, 4}, 0},
		{"qwen2/text-to-image", "image_size", KindString, false, "16:9", []string{"1:1", "3:4", "4:3", "9:16", "16:9"}, nil, 0},
		{"z-image", "prompt", KindString, true, nil, nil, nil, 1000},
		{"topaz/image-upscale", "upscale_factor", KindIntString, false, "2", []string{"1", "2", "4", "8"}, &Range{1, 8}, 0},
	}
	for _, tc := range tests {
		f := field(t, tc.id, tc.field)
		if f.Kind != tc.kind || f.Required != tc.required || f.Default != tc.def || !slices.Equal(f.Enum, tc.enum) ||
			f.MaxLen != tc.maxLen || (f.Range == nil) != (tc.rng == nil) || (f.Range != nil && *f.Range != *tc.rng) {
			t.Errorf("%s %s = %+v", tc.id, tc.field, *f)
		}
	}
	if f := field(t, "google/nano-banana", "image_size"); f.DeprecatedFor != "aspect_ratio" {
		t.Errorf("nano-banana image_size not deprecated for aspect_ratio: %+v", *f)
	}
	if !slices.Contains(field(t, "flux-2/flex-text-to-image", "aspect_ratio").Enum, "auto") ||
		slices.Contains(field(t, "flux-2/pro-text-to-image", "aspect_ratio").Enum, "auto") {
		t.Error("only flux-2 flex takes aspect_ratio auto")
	}
}

func TestImageFacts(t *testing.T) {
	tests := []struct {
		id, field         string
		list, required    bool
		min, max, used    int
		countField        string
		countUndocumented bool
	}{
		{"google/nano-banana", "", false, false, 0, 0, 0, "", false},
		{"nano-banana-pro", "image_input", true, false, 0, 8, 0, "", false},
		{"nano-banana-2", "image_input", true, false, 0, 14, 0, "", false},
		{"seedream/4.5-edit", "image_urls", true, true, 1, 14, 0, "", false},
		{"bytedance/seedream-v4-edit", "image_urls", true, true, 1, 10, 0, "max_images", false},
		{"flux-2/pro-image-to-image", "input_urls", true, true, 1, 8, 0, "", false},
		{"gpt-image-2-image-to-image", "input_urls", true, true, 1, 16, 0, "", false},
		{"grok-imagine/image-to-image", "image_urls", true, true, 1, 5, 1, "", true},
		{"grok-imagine/text-to-image", "", false, false, 0, 0, 0, "", true},
		{"ideogram/v3-remix", "image_url", false, true, 0, 1, 0, "num_images", false},
		{"ideogram/character", "reference_image_urls", true, true, 1, 0, 1, "num_images", false},
		{"wan/2-7-image", "input_urls", true, false, 0, 9, 0, "n", false},
		{"recraft/remove-background", "image", false, true, 0, 1, 0, "", false},
		{"topaz/image-upscale", "image_url", false, true, 0, 1, 0, "", false},
	}
	for _, tc := range tests {
		m, _ := Lookup(tc.id)
		if m.ImageField != tc.field || m.ImageList != tc.list || m.ImageRequired != tc.required ||
			m.MinImages != tc.min || m.MaxImages != tc.max || m.ImagesUsed != tc.used ||
			m.ResultCountField != tc.countField || m.CountUndocumented != tc.countUndocumented {
			t.Errorf("%s = %+v", tc.id, m)
		}
	}
}
