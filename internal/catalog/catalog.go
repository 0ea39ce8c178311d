// Package catalog describes KIE Market image models and checks a task's input against what KIE documents,
// so a plan can be refused before a paid request is sent. It knows nothing about Terraform.
package catalog

import "sort"

// DocBase is the prefix of every model's KIE documentation page.
const DocBase = "https://docs.kie.ai/market/"

// Kind is the JSON type KIE expects for an input field.
type Kind int

const (
	KindString     Kind = iota
	KindInteger         // a JSON number without fraction
	KindNumber          // any JSON number
	KindBool            // true or false
	KindStringList      // a JSON array of strings
	KindIntString       // an integer sent as a JSON string, e.g. num_images "1"–"4"
)

func (k Kind) String() string {
	switch k {
	case KindString:
		return "a string"
	case KindInteger:
		return "an integer"
	case KindNumber:
		return "a number"
	case KindBool:
		return "true or false"
	case KindStringList:
		return "a list of strings"
	case KindIntString:
		return "a string holding a whole number"
	}
	return "an unknown kind"
}

// Range bounds a numeric value, both ends included.
type Range struct{ Min, Max float64 }

// Field is what KIE documents about one key of a model's input object.
type Field struct {
	Name     string
	Kind     Kind
	Required bool
	Enum     []string // allowed values (KindString, KindIntString); nil = any
	Default  any      // documented default: string, float64 or bool; nil = none documented
	Range    *Range   // numeric bounds (KindInteger, KindNumber, KindIntString)
	MinLen   int      // minimum length in characters; 0 = none
	MaxLen   int      // maximum length in characters; 0 = none
	URL      bool     // carries image URLs, which must be public http(s) links

	// DeprecatedFor names the field that replaces this one; using this one is a warning.
	DeprecatedFor string
	// Uncertain marks facts the docs contradict or that were inferred: its problems are warnings only.
	Uncertain bool
}

// Model is one KIE Market image model id and what its input accepts.
type Model struct {
	ID          string
	Description string // what it is for: text-to-image, edit, upscale ...
	Family      string
	DocURL      string

	ImageField    string // input field carrying image URLs; "" when the model takes none
	ImageRequired bool
	ImageList     bool  // ImageField is a list of URLs rather than one string
	MinImages     int   // fewest URLs when the field is given
	MaxImages     int   // most URLs KIE accepts; 0 = not documented
	ImagesUsed    int   // KIE's text says only the first N are used; more is a warning; 0 = all
	MaxImageBytes int64 // largest input image KIE documents; 0 = not documented

	ResultCountField string // max_images, num_images, n, or "" for one image per task
	// CountUndocumented: KIE does not say how many images one task returns.
	CountUndocumented bool

	// Uncertain marks a model whose facts are third-party or inferred: every problem is a warning.
	Uncertain bool
	// Partial marks a field list known to be incomplete: unknown fields are not reported.
	Partial bool

	Fields []Field
	rules  []rule
}

// Field returns the spec of the named input field.
func (m *Model) Field(name string) (*Field, bool) {
	for i := range m.Fields {
		if m.Fields[i].Name == name {
			return &m.Fields[i], true
		}
	}
	return nil, false
}

// Lookup returns the model with the given id. The model is shared and must not be modified.
func Lookup(id string) (*Model, bool) {
	m, ok := index[id]
	return m, ok
}

// Models returns every model, sorted by id. The models are shared and must not be modified.
func Models() []*Model {
	return append([]*Model(nil), sorted...)
}

var index, sorted = buildIndex(allModels())

func buildIndex(ms []*Model) (map[string]*Model, []*Model) {
	idx := make(map[string]*Model, len(ms))
	for _, m := range ms {
		if _, dup := idx[m.ID]; dup {
			panic("catalog: duplicate model id " + m.ID)
		}
		idx[m.ID] = m
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return idx, ms
}
