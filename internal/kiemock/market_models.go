package kiemock

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fieldKind is the JSON type a Market input field must have.
type fieldKind int

const (
	kindString    fieldKind = iota // string, minLen..maxLen characters (0 = no limit)
	kindEnum                       // one of enum
	kindBool                       // true or false
	kindInt                        // integral number in min..max (both 0 = any)
	kindNumber                     // number in min..max
	kindIntString                  // string holding an integer in min..max (num_images "1"-"4")
	kindURL                        // one http(s) URL
	kindURLs                       // list of minLen..maxLen http(s) URLs
)

// inputField is one documented field of a model's input object.
type inputField struct {
	name     string
	kind     fieldKind
	required bool
	enum     []string
	def      any    // applied to the effective input when absent
	aliasOf  string // deprecated alias: its value stands in for this field when that is absent
	minLen   int
	maxLen   int
	min, max float64
}

// marketModel is what the mock knows about one Market model id.
type marketModel struct {
	id       string
	fields   []inputField
	images   string                          // field holding input image URLs; "" for text-to-image models
	count    string                          // field asking for several results, if any
	inputMax int64                           // largest input image the model accepts, in bytes
	format   string                          // output format when the model has no output_format field
	perImage float64                         // credits per result image
	price    func(in map[string]any) float64 // per-image price when options change it; 0 = perImage
	size     func(in map[string]any) (label string, w, h int)
}

// Enums as the model pages list them.
var (
	bananaRatios   = []string{"1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"}
	proRatios      = []string{"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "auto"}
	banana2Ratios  = []string{"1:1", "1:4", "1:8", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5", "5:4", "8:1", "9:16", "16:9", "21:9", "auto"}
	seedream45     = []string{"1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"}
	seedreamSizes  = []string{"square", "square_hd", "portrait_4_3", "portrait_3_2", "portrait_16_9", "landscape_4_3", "landscape_3_2", "landscape_16_9", "landscape_21_9"}
	qwenSizes      = []string{"square", "square_hd", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}
	flux2Ratios    = []string{"1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3"}
	gptRatios      = []string{"1:1", "2:3", "3:2"}
	imagenRatios   = []string{"1:1", "16:9", "9:16", "3:4", "4:3", "auto"}
	resolutions    = []string{"1K", "2K", "4K"}
	namedSizeRatio = map[string]string{
		"square": "1:1", "square_hd": "1:1", "portrait_4_3": "3:4", "portrait_3_2": "2:3", "portrait_16_9": "9:16",
		"landscape_4_3": "4:3", "landscape_3_2": "3:2", "landscape_16_9": "16:9", "landscape_21_9": "21:9",
	}
)

func prompt(maxLen int) inputField {
	return inputField{name: "prompt", kind: kindString, required: true, minLen: 1, maxLen: maxLen}
}

func enum(name string, values []string, def string) inputField {
	f := inputField{name: name, kind: kindEnum, enum: values}
	if def != "" {
		f.def = def
	}
	return f
}

func required(f inputField) inputField { f.required = true; return f }

func alias(f inputField, of string) inputField { f.aliasOf = of; return f }

func urls(name string, minN, maxN int) inputField {
	return inputField{name: name, kind: kindURLs, required: minN > 0, minLen: minN, maxLen: maxN}
}

var (
	nsfwChecker = inputField{name: "nsfw_checker", kind: kindBool}
	anySeed     = inputField{name: "seed", kind: kindInt}
)

const mb = 1 << 20

// marketModels lists the Market image models the mock serves, with fields
// taken from KIE's model pages.
var marketModels = func() map[string]*marketModel {
	banana := []inputField{prompt(5000), enum("output_format", []string{"png", "jpeg"}, "png"),
		enum("aspect_ratio", bananaRatios, "1:1"), alias(enum("image_size", bananaRatios, ""), "aspect_ratio"), nsfwChecker}
	v4 := []inputField{prompt(5000), enum("image_size", seedreamSizes, "square_hd"), enum("image_resolution", resolutions, "1K"),
		{name: "max_images", kind: kindInt, def: 1.0, min: 1, max: 6}, anySeed, nsfwChecker}
	s45 := []inputField{prompt(3000), required(enum("aspect_ratio", seedream45, "1:1")),
		required(enum("quality", []string{"basic", "high"}, "basic")), nsfwChecker}
	flux2 := []inputField{{name: "prompt", kind: kindString, required: true, minLen: 3, maxLen: 5000},
		required(enum("aspect_ratio", flux2Ratios, "1:1")), required(enum("resolution", []string{"1K", "2K"}, "1K")), nsfwChecker}
	gpt := []inputField{prompt(0), required(enum("aspect_ratio", gptRatios, "1:1")),
		required(enum("quality", []string{"medium", "high"}, "medium")), nsfwChecker}
	imagen := func(ratioDef string, seed inputField) []inputField {
		return []inputField{prompt(5000), {name: "negative_prompt", kind: kindString, maxLen: 5000},
			enum("aspect_ratio", imagenRatios, ratioDef), seed, nsfwChecker}
	}
	pro := []inputField{prompt(10000), urls("image_input", 0, 8), enum("aspect_ratio", proRatios, "1:1"),
		enum("resolution", resolutions, "1K"), enum("output_format", []string{"png", "jpg"}, "png"), nsfwChecker}
	banana2 := []inputField{prompt(20000), urls("image_input", 0, 14), {name: "google_search", kind: kindBool, def: false},
		enum("aspect_ratio", banana2Ratios, "auto"), enum("resolution", resolutions, "1K"),
		enum("output_format", []string{"png", "jpg"}, "jpg"), nsfwChecker}
	qwenEdit := []inputField{prompt(2000), {name: "image_url", kind: kindURL, required: true},
		enum("image_size", qwenSizes, "landscape_4_3"), {name: "num_images", kind: kindIntString, def: "1", min: 1, max: 4},
		{name: "num_inference_steps", kind: kindInt, def: 25.0, min: 2, max: 49},
		{name: "guidance_scale", kind: kindNumber, def: 4.0, min: 0, max: 20}, anySeed,
		{name: "negative_prompt", kind: kindString, maxLen: 500}, enum("acceleration", []string{"none", "regular", "high"}, "none"),
		enum("output_format", []string{"jpeg", "png"}, "png"), {name: "sync_mode", kind: kindBool},
		{name: "enable_safety_checker", kind: kindBool, def: true}}

	list := []*marketModel{
		{id: "google/nano-banana", fields: banana, perImage: 4, size: ratioSized("aspect_ratio", "", 1024)},
		{id: "google/nano-banana-edit", fields: append(slices.Clone(banana), urls("image_urls", 1, 10)), images: "image_urls",
			inputMax: 10 * mb, perImage: 4, size: ratioSized("aspect_ratio", "", 1024)},
		{id: "nano-banana-pro", fields: pro, images: "image_input", inputMax: 30 * mb, perImage: 18,
			price: priceBy("resolution", map[string]float64{"4K": 24}),
			size:  ratioSized("aspect_ratio", "resolution", 1024)},
		{id: "nano-banana-2", fields: banana2, images: "image_input", inputMax: 30 * mb, perImage: 8,
			size: ratioSized("aspect_ratio", "resolution", 1024)},
		{id: "seedream/4.5-text-to-image", fields: s45, format: "jpeg", perImage: 6.5, size: ratioSized("aspect_ratio", "quality", 1024)},
		{id: "seedream/4.5-edit", fields: append(slices.Clone(s45), urls("image_urls", 1, 14)), images: "image_urls",
			inputMax: 10 * mb, format: "jpeg", perImage: 6.5, size: ratioSized("aspect_ratio", "quality", 1024)},
		{id: "bytedance/seedream-v4-text-to-image", fields: v4, count: "max_images", format: "jpeg", perImage: 5,
			size: namedSized("image_size", "image_resolution")},
		{id: "bytedance/seedream-v4-edit", fields: append(slices.Clone(v4), urls("image_urls", 1, 10)), images: "image_urls",
			count: "max_images", inputMax: 10 * mb, format: "jpeg", perImage: 5, size: namedSized("image_size", "image_resolution")},
		{id: "flux-2/pro-text-to-image", fields: flux2, format: "png", perImage: 5,
			price: priceBy("resolution", map[string]float64{"2K": 7}),
			size:  ratioSized("aspect_ratio", "resolution", 1024)},
		{id: "flux-2/pro-image-to-image", fields: append(slices.Clone(flux2), urls("input_urls", 1, 8)), images: "input_urls",
			inputMax: 10 * mb, format: "png", perImage: 5,
			price: priceBy("resolution", map[string]float64{"2K": 7}),
			size:  ratioSized("aspect_ratio", "resolution", 1024)},
		{id: "gpt-image/1.5-text-to-image", fields: gpt, format: "png", perImage: 4,
			price: priceBy("quality", map[string]float64{"high": 22}),
			size:  gptSized},
		{id: "gpt-image/1.5-image-to-image", fields: append(slices.Clone(gpt), urls("input_urls", 1, 16)), images: "input_urls",
			inputMax: 10 * mb, format: "png", perImage: 4,
			price: priceBy("quality", map[string]float64{"high": 22}),
			size:  gptSized},
		{id: "google/imagen4-fast", fields: imagen("16:9", anySeed), format: "png", perImage: 4,
			size: ratioSized("aspect_ratio", "", 1024)},
		{id: "google/imagen4", fields: imagen("1:1", inputField{name: "seed", kind: kindString, maxLen: 500}), format: "png",
			perImage: 8, size: ratioSized("aspect_ratio", "", 1024)},
		{id: "qwen/image-edit", fields: qwenEdit, images: "image_url", count: "num_images", inputMax: 10 * mb, perImage: 5,
			size: namedSized("image_size", "")},
	}
	// A model that asks for several results (or takes an image URL list) has that field; the
	// edit variants above got theirs appended, so every model's table is complete here.
	out := make(map[string]*marketModel, len(list))
	for _, m := range list {
		out[m.id] = m
	}
	return out
}()

// MarketModels lists the Market model ids the mock accepts, sorted.
func MarketModels() []string {
	ids := make([]string, 0, len(marketModels))
	for id := range marketModels {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func str(in map[string]any, key string) string {
	s, _ := in[key].(string)
	return s
}

// validateInput checks raw against the model's fields the way KIE's
// validator does (422 naming input.<field>) and returns the effective input:
// raw plus the documented defaults for absent fields. Unknown fields are kept.
func (m *marketModel) validateInput(raw map[string]any) (map[string]any, *apiError) {
	in := make(map[string]any, len(raw)+len(m.fields))
	for k, v := range raw {
		if v != nil {
			in[k] = v
		}
	}
	for _, f := range m.fields {
		if v, ok := in[f.name]; ok && f.aliasOf != "" {
			if e := f.check(v); e != nil {
				return nil, e
			}
			if _, set := in[f.aliasOf]; !set {
				in[f.aliasOf] = v
			}
		}
	}
	for _, f := range m.fields {
		v, ok := in[f.name]
		if !ok {
			if f.required {
				return nil, fieldErr(f.name, "is required")
			}
			if f.def != nil {
				in[f.name] = f.def
			}
			continue
		}
		if e := f.check(v); e != nil {
			return nil, e
		}
	}
	return in, nil
}

func fieldErr(name, problem string) *apiError {
	return apiErr(422, "input."+name+" "+problem)
}

func (f inputField) check(v any) *apiError {
	switch f.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return fieldErr(f.name, "must be a string")
		}
		n := utf8.RuneCountInString(s)
		if f.required && strings.TrimSpace(s) == "" {
			return fieldErr(f.name, "is required")
		}
		if n < f.minLen {
			return fieldErr(f.name, fmt.Sprintf("must be at least %d characters", f.minLen))
		}
		if f.maxLen > 0 && n > f.maxLen {
			return fieldErr(f.name, fmt.Sprintf("must be at most %d characters", f.maxLen))
		}
	case kindEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(f.enum, s) {
			return fieldErr(f.name, "must be one of "+strings.Join(f.enum, ", "))
		}
	case kindBool:
		if _, ok := v.(bool); !ok {
			return fieldErr(f.name, "must be a boolean")
		}
	case kindInt, kindNumber:
		n, ok := v.(float64)
		if !ok || (f.kind == kindInt && n != math.Trunc(n)) {
			what := "a number"
			if f.kind == kindInt {
				what = "an integer"
			}
			return fieldErr(f.name, "must be "+what)
		}
		if (f.min != 0 || f.max != 0) && (n < f.min || n > f.max) {
			return fieldErr(f.name, fmt.Sprintf("must be between %v and %v", f.min, f.max))
		}
	case kindIntString:
		s, ok := v.(string)
		n, err := strconv.Atoi(s)
		if !ok || err != nil || float64(n) < f.min || float64(n) > f.max {
			return fieldErr(f.name, fmt.Sprintf(`must be a string "%v" to "%v"`, f.min, f.max))
		}
	case kindURL:
		s, ok := v.(string)
		if !ok || !isHTTPURL(s) {
			return fieldErr(f.name, "must be an http(s) URL")
		}
	case kindURLs:
		list, ok := v.([]any)
		if !ok {
			return fieldErr(f.name, "must be a list of URLs")
		}
		if len(list) < f.minLen || len(list) > f.maxLen {
			return fieldErr(f.name, fmt.Sprintf("must have %d to %d items", f.minLen, f.maxLen))
		}
		for i, u := range list {
			if s, ok := u.(string); !ok || !isHTTPURL(s) {
				return fieldErr(fmt.Sprintf("%s[%d]", f.name, i), "must be an http(s) URL")
			}
		}
	}
	return nil
}

// inputURLs returns the image URLs of an effective input.
func (m *marketModel) inputURLs(in map[string]any) []string {
	if m.images == "" {
		return nil
	}
	switch v := in[m.images].(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, u := range v {
			out = append(out, u.(string)) // checked by validateInput
		}
		return out
	}
	return nil
}

// results is how many images the task makes.
func (m *marketModel) results(in map[string]any) int {
	switch v := in[m.count].(type) {
	case float64:
		return max(1, int(v))
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return max(1, n)
		}
	}
	return 1
}

// cost is the task's price in credits.
func (m *marketModel) cost(in map[string]any) float64 {
	per := m.perImage
	if m.price != nil {
		if p := m.price(in); p > 0 {
			per = p
		}
	}
	return per * float64(m.results(in))
}

// priceBy prices an image by the value of one field (absent values: 0).
func priceBy(field string, prices map[string]float64) func(map[string]any) float64 {
	return func(in map[string]any) float64 { return prices[str(in, field)] }
}

// outputFormat is "png" or "jpeg".
func (m *marketModel) outputFormat(in map[string]any) string {
	switch str(in, "output_format") {
	case "png":
		return "png"
	case "jpeg", "jpg":
		return "jpeg"
	}
	if m.format != "" {
		return m.format
	}
	return "png"
}

// resolutionScale turns 1K/2K/4K (and seedream 4.5's basic/high, which KIE
// documents as 2K/4K) into a side multiplier.
func resolutionScale(v string) int {
	switch v {
	case "2K", "basic":
		return 2
	case "4K", "high":
		return 4
	}
	return 1
}

// ratioPixels is about side*side pixels in ratio "a:b" ("auto": square),
// rounded to multiples of 16.
func ratioPixels(ratio string, side int) (int, int) {
	a, b := 1.0, 1.0
	if x, y, ok := strings.Cut(ratio, ":"); ok {
		fa, err1 := strconv.ParseFloat(x, 64)
		fb, err2 := strconv.ParseFloat(y, 64)
		if err1 == nil && err2 == nil && fa > 0 && fb > 0 {
			a, b = fa, fb
		}
	}
	r16 := func(v float64) int { return max(16, int(math.Round(v/16))*16) }
	return r16(float64(side) * math.Sqrt(a/b)), r16(float64(side) * math.Sqrt(b/a))
}

// ratioSized sizes by an aspect-ratio field and an optional resolution field.
func ratioSized(field, resField string, side int) func(map[string]any) (string, int, int) {
	return func(in map[string]any) (string, int, int) {
		ratio := str(in, field)
		label := ratio
		k := 1
		if resField != "" {
			k = resolutionScale(str(in, resField))
			label += " · " + str(in, resField)
		}
		w, h := ratioPixels(ratio, side*k)
		return label, w, h
	}
}

// namedSized sizes by a named size (square_hd, landscape_16_9, ...); plain
// "square" is half the side of square_hd, as on the upstream APIs.
func namedSized(field, resField string) func(map[string]any) (string, int, int) {
	return func(in map[string]any) (string, int, int) {
		name := str(in, field)
		side := 1024
		if name == "square" {
			side = 512
		}
		label := name
		if resField != "" {
			side *= resolutionScale(str(in, resField))
			label += " · " + str(in, resField)
		}
		w, h := ratioPixels(namedSizeRatio[name], side)
		return label, w, h
	}
}

// gptSized uses GPT Image's three fixed sizes.
func gptSized(in map[string]any) (string, int, int) {
	r := str(in, "aspect_ratio")
	switch r {
	case "2:3":
		return r, 1024, 1536
	case "3:2":
		return r, 1536, 1024
	}
	return r, 1024, 1024
}
