package catalog

// Builders for the model table. They run once while the package initialises.

const mb = 1 << 20

func allModels() []*Model {
	var ms []*Model
	ms = append(ms, googleModels()...)
	ms = append(ms, seedreamModels()...)
	ms = append(ms, fluxGPTModels()...)
	ms = append(ms, ideogramModels()...)
	ms = append(ms, qwenModels()...)
	ms = append(ms, otherModels()...)
	return ms
}

func model(id, family, page, desc string) *Model {
	return &Model{ID: id, Family: family, DocURL: DocBase + page, Description: desc}
}

// with appends input fields.
func (m *Model) with(fs ...Field) *Model {
	m.Fields = append(m.Fields, fs...)
	return m
}

// imageList declares a list image field holding at most max URLs (0 = undocumented).
func (m *Model) imageList(name string, required bool, min, max int) *Model {
	m.ImageField, m.ImageRequired, m.ImageList, m.MinImages, m.MaxImages = name, required, true, min, max
	f := urls(name)
	f.Required = required
	return m.with(f)
}

// imageURL declares a single-string image field.
func (m *Model) imageURL(name string, required bool) *Model {
	m.ImageField, m.ImageRequired, m.MinImages, m.MaxImages = name, required, 0, 1
	f := url(name)
	f.Required = required
	return m.with(f)
}

// doubtfulImages makes the image field's problems warnings (its required-ness or limits are inferred).
func (m *Model) doubtfulImages() *Model {
	for i := range m.Fields {
		if m.Fields[i].Name == m.ImageField {
			m.Fields[i].Uncertain = true
		}
	}
	return m
}

func (m *Model) maxMB(n int64) *Model      { m.MaxImageBytes = n * mb; return m }
func (m *Model) used(n int) *Model         { m.ImagesUsed = n; return m }
func (m *Model) count(field string) *Model { m.ResultCountField = field; return m }
func (m *Model) countUndocumented() *Model { m.CountUndocumented = true; return m }
func (m *Model) uncertain() *Model         { m.Uncertain = true; return m }
func (m *Model) partial() *Model           { m.Partial = true; return m }
func (m *Model) rule(r rule) *Model        { m.rules = append(m.rules, r); return m }

func text(name string, maxLen int) Field { return Field{Name: name, Kind: KindString, MaxLen: maxLen} }
func prompt(maxLen int) Field            { return text("prompt", maxLen) }
func url(name string) Field              { return Field{Name: name, Kind: KindString, URL: true} }
func urls(name string) Field             { return Field{Name: name, Kind: KindStringList, URL: true} }
func integer(name string) Field          { return Field{Name: name, Kind: KindInteger} }
func seed() Field                        { return integer("seed") }
func boolean(name string) Field          { return Field{Name: name, Kind: KindBool} }
func nsfw() Field                        { return boolean("nsfw_checker").def(false) }

func number(name string, min, max float64) Field {
	return Field{Name: name, Kind: KindNumber, Range: &Range{min, max}}
}

// choice is a string enum; def "" means no documented default.
func choice(name, def string, values ...string) Field {
	f := Field{Name: name, Kind: KindString, Enum: values}
	if def != "" {
		f.Default = def
	}
	return f
}

// intString is a whole number KIE takes as a JSON string, like num_images "1"–"4".
func intString(name string, min, max int) Field {
	return Field{Name: name, Kind: KindIntString, Range: &Range{float64(min), float64(max)}}
}

func (f Field) req() Field                   { f.Required = true; return f }
func (f Field) def(v any) Field              { f.Default = v; return f }
func (f Field) between(lo, hi float64) Field { f.Range = &Range{lo, hi}; return f }
func (f Field) minLen(n int) Field           { f.MinLen = n; return f }
func (f Field) doubtful() Field              { f.Uncertain = true; return f }
func (f Field) deprecatedFor(n string) Field { f.DeprecatedFor = n; return f }

// reqDoubtful: the page does not mark the field required, but the model cannot work without it.
func (f Field) reqDoubtful() Field { f.Required, f.Uncertain = true, true; return f }

// clone copies a model under a new id, so a variant can change fields without touching the original.
func (m *Model) clone(id, page, desc string) *Model {
	c := *m
	c.ID, c.DocURL, c.Description = id, DocBase+page, desc
	c.Fields = append([]Field(nil), m.Fields...)
	c.rules = append([]rule(nil), m.rules...)
	return &c
}

// set replaces the named field (it must exist).
func (m *Model) set(f Field) *Model {
	for i := range m.Fields {
		if m.Fields[i].Name == f.Name {
			m.Fields[i] = f
			return m
		}
	}
	panic("catalog: " + m.ID + " has no field " + f.Name)
}
