package catalog

import (
	"fmt"
	"maps"
)

// WithImages returns a copy of input with urls put into m's image field: appended after the URLs the user gave
// for a list field, or set for a single-string field (an error if that makes more than one). input is not modified.
func WithImages(m *Model, input map[string]any, urls []string) (map[string]any, error) {
	if m == nil {
		return nil, fmt.Errorf("no model given")
	}
	if m.ImageField == "" {
		return nil, fmt.Errorf("%s takes no input image", m.ID)
	}
	out := make(map[string]any, len(input)+1)
	maps.Copy(out, input)
	if len(urls) == 0 {
		return out, nil
	}
	path := "input." + m.ImageField
	cur, present := input[m.ImageField]
	if isUnknown(cur) {
		return nil, fmt.Errorf("%s is not known yet, so uploaded images cannot be added to it for %s", path, m.ID)
	}
	if !m.ImageList {
		if s, isStr := cur.(string); present && cur != nil && (!isStr || s != "") {
			return nil, fmt.Errorf("%s already holds an image and %s takes only one; cannot add %d more", path, m.ID, len(urls))
		}
		if len(urls) > 1 {
			return nil, fmt.Errorf("%s takes only one image in %s, not %d", m.ID, path, len(urls))
		}
		out[m.ImageField] = urls[0]
		return out, nil
	}
	var list []any
	if present && cur != nil {
		l, ok := asList(cur)
		if !ok {
			return nil, fmt.Errorf("%s must be a list of URLs for %s, not %s", path, m.ID, typeName(cur))
		}
		list = append(list, l...)
	}
	for _, u := range urls {
		list = append(list, u)
	}
	out[m.ImageField] = list
	return out, nil
}
