package catalog

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Severity says whether a problem should stop a plan.
type Severity int

const (
	SeverityError   Severity = iota // KIE is documented to refuse this
	SeverityWarning                 // doubtful; KIE may still accept it
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Problem is one finding about a task's input. Path is like "input.aspect_ratio" or "input.image_urls[3]".
type Problem struct {
	Severity Severity
	Path     string
	Summary  string
	Detail   string
}

// HasErrors reports whether any problem is an error.
func HasErrors(ps []Problem) bool {
	return slices.ContainsFunc(ps, func(p Problem) bool { return p.Severity == SeverityError })
}

const (
	fieldDoubt = " (KIE's docs are unclear about this, so it is only a warning)"
	modelDoubt = " (the catalogue's facts for this model are uncertain, so it is only a warning)"
)

// Validate checks input, the decoded JSON object sent as the task's "input", against what KIE documents for m.
// Fields and list elements whose value is Unknown are skipped. The order of problems is deterministic.
func Validate(m *Model, input map[string]any) []Problem {
	if m == nil {
		return []Problem{{SeverityError, "model", "Unknown model", "no model was given to validate the input against"}}
	}
	v := validator{m: m}
	for i := range m.Fields {
		v.field(&m.Fields[i], input)
	}
	v.imageCount(input)
	v.undocumented(input)
	for _, r := range m.rules {
		v.ps = append(v.ps, r(m, input)...)
	}
	if m.Uncertain {
		for i := range v.ps {
			if v.ps[i].Severity == SeverityError {
				v.ps[i].Severity = SeverityWarning
				v.ps[i].Detail += modelDoubt
			}
		}
	}
	return v.ps
}

type validator struct {
	m  *Model
	ps []Problem
}

// add records a problem; an uncertain field's errors become warnings.
func (v *validator) add(f *Field, sev Severity, path, summary, detail string) {
	if f != nil && f.Uncertain && sev == SeverityError {
		sev, detail = SeverityWarning, detail+fieldDoubt
	}
	v.ps = append(v.ps, Problem{Severity: sev, Path: path, Summary: summary, Detail: detail})
}

func (v *validator) field(f *Field, input map[string]any) {
	path := "input." + f.Name
	val, present := input[f.Name]
	if isUnknown(val) {
		return
	}
	if s, isStr := val.(string); !present || val == nil || (isStr && s == "" && f.Required) {
		if f.Required {
			v.missing(f, path)
		}
		return
	}
	if f.DeprecatedFor != "" {
		v.deprecated(f, path, val, input)
	}
	switch f.Kind {
	case KindString:
		s, ok := val.(string)
		if !ok {
			v.wrongType(f, path, val)
			return
		}
		v.str(f, path, s)
	case KindInteger, KindNumber:
		n, ok := asNumber(val)
		if !ok {
			v.wrongType(f, path, val)
			return
		}
		if f.Kind == KindInteger && !isWhole(n) {
			v.add(f, SeverityError, path, "Not a whole number",
				fmt.Sprintf("%s is %s; %s takes a whole number there", path, formatNumber(n), v.m.ID))
			return
		}
		v.inRange(f, path, n)
	case KindBool:
		if _, ok := val.(bool); !ok {
			v.wrongType(f, path, val)
		}
	case KindStringList:
		l, ok := asList(val)
		if !ok {
			v.wrongType(f, path, val)
			return
		}
		for i, e := range l {
			if isUnknown(e) {
				continue
			}
			ep := fmt.Sprintf("%s[%d]", path, i)
			s, ok := e.(string)
			if !ok {
				v.add(f, SeverityError, ep, "Wrong input type",
					fmt.Sprintf("%s must be a string for %s, not %s", ep, v.m.ID, typeName(e)))
				continue
			}
			v.url(f, ep, s)
		}
	case KindIntString:
		v.intString(f, path, val)
	}
}

func (v *validator) missing(f *Field, path string) {
	sev, detail := SeverityError, fmt.Sprintf("%s is required by %s", path, v.m.ID)
	if f.Default != nil {
		// A required field with a documented default contradicts itself; KIE probably fills it in.
		sev = SeverityWarning
		detail += fmt.Sprintf("; its page also documents the default %s, so KIE may fill it in - set it to be sure", describe(f.Default))
	}
	v.add(f, sev, path, "Missing required input field", detail)
}

func (v *validator) deprecated(f *Field, path string, val any, input map[string]any) {
	detail := fmt.Sprintf("%s is a deprecated alias of input.%s for %s; use %s instead", path, f.DeprecatedFor, v.m.ID, f.DeprecatedFor)
	a, aok := val.(string)
	b, bok := input[f.DeprecatedFor].(string)
	if aok && bok && a != b {
		detail += fmt.Sprintf("; both are set and differ (%q vs %q), and which one KIE uses is not documented", a, b)
	}
	v.add(nil, SeverityWarning, path, "Deprecated input field", detail)
}

func (v *validator) wrongType(f *Field, path string, val any) {
	v.add(f, SeverityError, path, "Wrong input type",
		fmt.Sprintf("%s must be %s for %s, not %s", path, f.Kind, v.m.ID, typeName(val)))
}

func (v *validator) str(f *Field, path, s string) {
	if f.Enum != nil && !slices.Contains(f.Enum, s) {
		v.add(f, SeverityError, path, "Value not allowed",
			fmt.Sprintf("%s %q is not one of %s for %s", path, s, joinValues(f.Enum), v.m.ID))
	}
	n := utf8.RuneCountInString(s)
	if f.MaxLen > 0 && n > f.MaxLen {
		v.add(f, SeverityError, path, "Value too long",
			fmt.Sprintf("%s has %d characters; %s accepts at most %d", path, n, v.m.ID, f.MaxLen))
	}
	if f.MinLen > 0 && n < f.MinLen {
		v.add(f, SeverityError, path, "Value too short",
			fmt.Sprintf("%s has %d characters; %s needs at least %d", path, n, v.m.ID, f.MinLen))
	}
	v.url(f, path, s)
}

// url warns about image references that are not http(s) links: KIE fetches inputs from public URLs.
func (v *validator) url(f *Field, path, s string) {
	if !f.URL {
		return
	}
	l := strings.ToLower(s)
	if strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "http://") {
		return
	}
	v.add(nil, SeverityWarning, path, "Not an image URL",
		fmt.Sprintf("%s %q is not an http(s) URL; %s fetches input images from public links", path, s, v.m.ID))
}

func (v *validator) inRange(f *Field, path string, n float64) {
	if f.Range == nil || (n >= f.Range.Min && n <= f.Range.Max) {
		return
	}
	v.add(f, SeverityError, path, "Value out of range",
		fmt.Sprintf("%s is %s; %s accepts %s to %s", path, formatNumber(n), v.m.ID,
			formatNumber(f.Range.Min), formatNumber(f.Range.Max)))
}

// intString checks a number KIE takes as a string; a JSON number is accepted with a warning.
func (v *validator) intString(f *Field, path string, val any) {
	var s string
	switch x := val.(type) {
	case string:
		s = x
		if _, err := strconv.Atoi(s); err != nil {
			v.add(f, SeverityError, path, "Not a whole number",
				fmt.Sprintf("%s %q must be a whole number written as a string (like \"2\") for %s", path, s, v.m.ID))
			return
		}
	default:
		n, ok := asNumber(val)
		if !ok {
			v.wrongType(f, path, val)
			return
		}
		if !isWhole(n) {
			v.add(f, SeverityError, path, "Not a whole number",
				fmt.Sprintf("%s is %s; %s takes a whole number there", path, formatNumber(n), v.m.ID))
			return
		}
		s = formatNumber(n)
		v.add(nil, SeverityWarning, path, "Number sent as a number",
			fmt.Sprintf("%s is the number %s, but %s documents it as a string; send %q", path, s, v.m.ID, s))
	}
	if f.Enum != nil && !slices.Contains(f.Enum, s) {
		v.add(f, SeverityError, path, "Value not allowed",
			fmt.Sprintf("%s %q is not one of %s for %s", path, s, joinValues(f.Enum), v.m.ID))
		return
	}
	n, _ := strconv.Atoi(s)
	v.inRange(f, path, float64(n))
}

func (v *validator) imageCount(input map[string]any) {
	m := v.m
	if !m.ImageList {
		return
	}
	f, _ := m.Field(m.ImageField)
	path := "input." + m.ImageField
	l, ok := asList(input[m.ImageField])
	if !ok {
		return // absent, Unknown or of the wrong type: reported elsewhere
	}
	n := len(l)
	switch {
	case n == 0 && m.ImageRequired:
		v.add(f, SeverityError, path, "No input images",
			fmt.Sprintf("%s is empty; %s needs at least %d image", path, m.ID, max(m.MinImages, 1)))
	case n > 0 && n < m.MinImages:
		v.add(f, SeverityError, path, "Too few input images",
			fmt.Sprintf("%s has %d images; %s needs at least %d", path, n, m.ID, m.MinImages))
	case m.MaxImages > 0 && n > m.MaxImages:
		v.add(f, SeverityError, path, "Too many input images",
			fmt.Sprintf("%s has %d images; %s accepts at most %d", path, n, m.ID, m.MaxImages))
	case m.ImagesUsed > 0 && n > m.ImagesUsed:
		v.add(nil, SeverityWarning, path, "Extra input images ignored",
			fmt.Sprintf("%s has %d images; KIE's docs say %s uses only the first %d", path, n, m.ID, m.ImagesUsed))
	}
}

// undocumented warns about keys the catalogue does not know: KIE's pages are incomplete, so they are sent anyway.
func (v *validator) undocumented(input map[string]any) {
	if v.m.Partial {
		return
	}
	var keys []string
	for k := range input {
		if _, ok := v.m.Field(k); !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	names := make([]string, len(v.m.Fields))
	for i, f := range v.m.Fields {
		names[i] = f.Name
	}
	for _, k := range keys {
		path := "input." + k
		v.add(nil, SeverityWarning, path, "Undocumented input field",
			fmt.Sprintf("%s is not among the documented fields of %s (%s); it is sent to KIE as given, which may refuse or ignore it",
				path, v.m.ID, joinValues(names)))
	}
}
