package catalog

import (
	"reflect"
	"strings"
	"testing"
)

func TestWithImages(t *testing.T) {
	const u1, u2, u3 = "https://up/1", "https://up/2", "https://up/3"
	tests := []struct {
		model string
		input map[string]any
		urls  []string
		want  map[string]any
		err   string // substring; "" = success
	}{
		{"google/nano-banana-edit", map[string]any{"prompt": "p"}, []string{u1, u2},
			map[string]any{"prompt": "p", "image_urls": []any{u1, u2}}, ""},
		{"google/nano-banana-edit", map[string]any{"prompt": "p", "image_urls": []any{u3}}, []string{u1},
			map[string]any{"prompt": "p", "image_urls": []any{u3, u1}}, ""},
		{"nano-banana-pro", map[string]any{"image_input": []string{u3}}, []string{u1},
			map[string]any{"image_input": []any{u3, u1}}, ""},
		{"flux-2/pro-image-to-image", nil, []string{u1}, map[string]any{"input_urls": []any{u1}}, ""},
		{"flux-2/pro-image-to-image", map[string]any{"input_urls": nil}, []string{u1}, map[string]any{"input_urls": []any{u1}}, ""},
		{"google/nano-banana-edit", map[string]any{"prompt": "p"}, nil, map[string]any{"prompt": "p"}, ""},
		{"topaz/image-upscale", map[string]any{"upscale_factor": "4"}, []string{u1},
			map[string]any{"upscale_factor": "4", "image_url": u1}, ""},
		{"recraft/remove-background", map[string]any{"image": ""}, []string{u1}, map[string]any{"image": u1}, ""},
		{"topaz/image-upscale", nil, []string{u1, u2}, nil, "topaz/image-upscale takes only one image in input.image_url, not 2"},
		{"topaz/image-upscale", map[string]any{"image_url": u3}, []string{u1}, nil, "input.image_url already holds an image"},
		{"topaz/image-upscale", map[string]any{"image_url": 3.0}, []string{u1}, nil, "already holds an image"},
		{"google/nano-banana", map[string]any{"prompt": "p"}, []string{u1}, nil, "google/nano-banana takes no input image"},
		{"google/nano-banana", map[string]any{"prompt": "p"}, nil, nil, "google/nano-banana takes no input image"},
		{"google/nano-banana-edit", map[string]any{"image_urls": Unknown}, []string{u1}, nil, "input.image_urls is not known yet"},
		{"google/nano-banana-edit", map[string]any{"image_urls": u3}, []string{u1}, nil, "must be a list of URLs"},
	}
	for i, tc := range tests {
		before := deepCopy(tc.input)
		m, _ := Lookup(tc.model)
		got, err := WithImages(m, tc.input, tc.urls)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("case %d: err = %v, want %q", i, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("case %d: %v", i, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("case %d: got %#v, want %#v", i, got, tc.want)
		}
		if !reflect.DeepEqual(tc.input, before) {
			t.Errorf("case %d: input modified to %#v", i, tc.input)
		}
	}
}

// TestWithImagesThenValidate: uploaded URLs complete an input that lacked its required images.
func TestWithImagesThenValidate(t *testing.T) {
	m, _ := Lookup("flux-2/pro-image-to-image")
	in := with(minimalInputs[m.ID], "input_urls", nil)
	if ps := Validate(m, in); !HasErrors(ps) || ps[0].Path != "input.input_urls" {
		t.Fatalf("without images: %+v", ps)
	}
	got, err := WithImages(m, in, []string{"https://up/1"})
	if err != nil {
		t.Fatal(err)
	}
	if ps := Validate(m, got); len(ps) != 0 {
		t.Fatalf("with images: %+v", ps)
	}
	got, _ = WithImages(m, in, strings.Fields(strings.Repeat("https://up/x ", 9)))
	if ps := Validate(m, got); len(ps) != 1 || ps[0].Summary != "Too many input images" {
		t.Fatalf("with 9 images: %+v", ps)
	}
}

// TestWithImagesDoesNotAlias: appending must not write into the caller's backing array.
func TestWithImagesDoesNotAlias(t *testing.T) {
	m, _ := Lookup("google/nano-banana-edit")
	list := make([]any, 1, 4)
	list[0] = "https://a"
	in := map[string]any{"image_urls": list}
	a, _ := WithImages(m, in, []string{"https://b"})
	b, _ := WithImages(m, in, []string{"https://c"})
	if a["image_urls"].([]any)[1] != "https://b" || b["image_urls"].([]any)[1] != "https://c" {
		t.Fatalf("results share storage: %v %v", a, b)
	}
}

func deepCopy(in map[string]any) map[string]any {
	if in == nil {
		return nil
	}
	out := map[string]any{}
	for k, v := range in {
		if l, ok := v.([]any); ok {
			v = append([]any(nil), l...)
		}
		out[k] = v
	}
	return out
}
