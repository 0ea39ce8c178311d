package catalog

import "strconv"

// ResultCount returns how many images a task with this input produces. known is false when the count
// field is Unknown or invalid, or when KIE does not document the count for the model.
func ResultCount(m *Model, input map[string]any) (n int, known bool) {
	if m == nil || m.CountUndocumented {
		return 0, false
	}
	if m.ResultCountField == "" {
		return 1, true
	}
	v, present := input[m.ResultCountField]
	if !present || v == nil {
		f, _ := m.Field(m.ResultCountField)
		if f != nil && f.Default != nil {
			v = f.Default
		} else {
			return 1, true
		}
	}
	if isUnknown(v) {
		return 0, false
	}
	if s, ok := v.(string); ok {
		c, err := strconv.Atoi(s)
		if err != nil || c < 1 {
			return 0, false
		}
		return c, true
	}
	f, ok := asNumber(v)
	if !ok || !isWhole(f) || f < 1 || f > 1<<20 {
		return 0, false
	}
	return int(f), true
}
