package catalog

import (
	"fmt"
	"slices"
)

// rule is a cross-field check from KIE's docs. The sources are [C?] at best, so rules only warn.
type rule func(m *Model, input map[string]any) []Problem

// knownString returns a field's string value; ok is false when it is absent, Unknown or not a string.
func knownString(input map[string]any, name string) (string, bool) {
	s, ok := input[name].(string)
	return s, ok
}

func warn(path, summary, detail string) []Problem {
	return []Problem{{Severity: SeverityWarning, Path: path, Summary: summary, Detail: detail}}
}

// gptImage2Sizes: 2K/4K refuse some ratios, 1:1 has no 4K, and auto (or no ratio) is 1K only.
func gptImage2Sizes(m *Model, input map[string]any) []Problem {
	res, ok := knownString(input, "resolution")
	if !ok || (res != "2K" && res != "4K") {
		return nil
	}
	rv, present := input["aspect_ratio"]
	ratio, isStr := rv.(string)
	if present && rv != nil && !isStr {
		return nil // Unknown or of the wrong type
	}
	const summary = "Resolution not available for this aspect ratio"
	switch {
	case ratio == "" || ratio == "auto":
		return warn("input.resolution", summary, fmt.Sprintf(
			"input.resolution %q needs an explicit input.aspect_ratio: with auto or none %s renders 1K only", res, m.ID))
	case res == "4K" && ratio == "1:1":
		return warn("input.resolution", summary, fmt.Sprintf(
			"input.resolution \"4K\" is not available with aspect_ratio \"1:1\" for %s; use 1K or 2K", m.ID))
	case slices.Contains([]string{"5:4", "4:5", "3:1", "1:3", "9:21"}, ratio):
		return warn("input.resolution", summary, fmt.Sprintf(
			"input.resolution %q is not available with aspect_ratio %q for %s (2K and 4K refuse 5:4, 4:5, 3:1, 1:3, 9:21)",
			res, ratio, m.ID))
	}
	return nil
}

// wanSequential: n above 4 needs enable_sequential.
func wanSequential(m *Model, input map[string]any) []Problem {
	n, ok := asNumber(input["n"])
	if !ok || n <= 4 {
		return nil
	}
	seq := input["enable_sequential"]
	if isUnknown(seq) || seq == true {
		return nil
	}
	return warn("input.n", "Too many results without sequential mode", fmt.Sprintf(
		"input.n is %s; %s makes 1 to 4 images unless input.enable_sequential is true (then up to 12)",
		formatNumber(n), m.ID))
}

// wanPro4K: 4K is documented for text-to-image only.
func wanPro4K(m *Model, input map[string]any) []Problem {
	if res, ok := knownString(input, "resolution"); !ok || res != "4K" {
		return nil
	}
	if l, ok := asList(input[m.ImageField]); !ok || len(l) == 0 {
		return nil
	}
	return warn("input.resolution", "Resolution not available with input images", fmt.Sprintf(
		"input.resolution \"4K\" is documented for text-to-image only; with input.%s, %s offers 1K or 2K",
		m.ImageField, m.ID))
}
