package catalog

import (
	"encoding/json"
	"testing"
)

func TestResultCount(t *testing.T) {
	tests := []struct {
		model string
		input map[string]any
		n     int
		known bool
	}{
		{"google/nano-banana", map[string]any{"prompt": "x"}, 1, true},
		{"topaz/image-upscale", nil, 1, true},
		{"bytedance/seedream-v4-text-to-image", map[string]any{}, 1, true}, // documented default 1
		{"bytedance/seedream-v4-text-to-image", map[string]any{"max_images": 4.0}, 4, true},
		{"bytedance/seedream-v4-edit", map[string]any{"max_images": json.Number("6")}, 6, true},
		{"bytedance/seedream-v4-edit", map[string]any{"max_images": 2}, 2, true},
		{"bytedance/seedream-v4-edit", map[string]any{"max_images": Unknown}, 0, false},
		{"bytedance/seedream-v4-edit", map[string]any{"max_images": 2.5}, 0, false},
		{"bytedance/seedream-v4-edit", map[string]any{"max_images": 0.0}, 0, false},
		{"ideogram/v3-remix", map[string]any{"num_images": "3"}, 3, true},
		{"ideogram/character", map[string]any{"num_images": "2"}, 2, true},
		{"qwen/image-edit", map[string]any{"num_images": 4.0}, 4, true},
		{"qwen/image-edit", map[string]any{"num_images": "many"}, 0, false},
		{"qwen/image-edit", map[string]any{"num_images": nil}, 1, true},
		{"ideogram/v3-remix", map[string]any{"num_images": Unknown}, 0, false},
		{"wan/2-7-image", map[string]any{"n": 8.0, "enable_sequential": true}, 8, true},
		{"grok-imagine/text-to-image", map[string]any{"prompt": "x"}, 0, false},
		{"grok-imagine/image-to-image", map[string]any{}, 0, false},
	}
	for _, tc := range tests {
		m, _ := Lookup(tc.model)
		if n, known := ResultCount(m, tc.input); n != tc.n || known != tc.known {
			t.Errorf("ResultCount(%s, %v) = %d, %v; want %d, %v", tc.model, tc.input, n, known, tc.n, tc.known)
		}
	}
	if _, known := ResultCount(nil, nil); known {
		t.Error("ResultCount(nil) is known")
	}
}
