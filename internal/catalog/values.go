package catalog

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// UnknownValue is the type of Unknown.
type UnknownValue struct{}

// Unknown stands for a value not known until apply; Validate skips it, and list elements that are Unknown.
var Unknown = UnknownValue{}

func isUnknown(v any) bool {
	_, ok := v.(UnknownValue)
	return ok
}

// asNumber reads a JSON number as encoding/json decodes it; Go integer types are accepted for callers' convenience.
func asNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func isWhole(f float64) bool { return !math.IsInf(f, 0) && f == math.Trunc(f) }

// asList reads a JSON array ([]any, or []string for Go callers); ok is false when v is not a list.
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// describe renders a value for a problem's detail.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case bool:
		return strconv.FormatBool(x)
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	if f, ok := asNumber(v); ok {
		return formatNumber(f)
	}
	return "a value of an unexpected type"
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any, []string:
		return "a list"
	case map[string]any:
		return "an object"
	}
	if _, ok := asNumber(v); ok {
		return "a number"
	}
	return "an unexpected type"
}

func joinValues(vs []string) string { return strings.Join(vs, ", ") }
