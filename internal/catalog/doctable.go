package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The guide's model table is generated from the catalogue so the docs cannot drift from the plan-time checks.
//go:generate go run ./modeltable ../../templates/guides/choosing-a-model.md.tmpl

// Markers around the generated model table in a docs template.
const (
	TableBegin = "<!-- BEGIN MODEL TABLE: generated from internal/catalog by `go generate ./internal/catalog`; do not edit -->"
	TableEnd   = "<!-- END MODEL TABLE -->"
)

// doubtMark follows a required field whose absence only warns.
const doubtMark = "†"

// ModelTable renders every model as a Markdown table, grouped by family: its page, what it is for, its
// image field, how many results a task returns and the input fields it requires.
func ModelTable() string {
	ms := Models()
	slices.SortStableFunc(ms, func(a, b *Model) int { return strings.Compare(a.Family, b.Family) })
	var b strings.Builder
	b.WriteString("| Model | What it is for | Image field | Results per task | Required in `input` |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, m := range ms {
		desc := m.Description
		if m.Uncertain {
			desc += " *(facts uncertain: the plan check only warns)*"
		}
		fmt.Fprintf(&b, "| [`%s`](%s) | %s | %s | %s | %s |\n",
			m.ID, m.DocURL, cell(desc), imageCell(m), resultsCell(m), requiredCell(m))
	}
	fmt.Fprintf(&b, "\n%s A missing field marked %s is only a warning: KIE's page gives it a default, or is unclear "+
		"whether it is required.\n", doubtMark, doubtMark)
	return b.String()
}

// ReplaceModelTable returns doc with the text between TableBegin and TableEnd replaced by ModelTable.
func ReplaceModelTable(doc string) (string, error) {
	before, rest, ok := strings.Cut(doc, TableBegin)
	if !ok {
		return "", errors.New("no model table begin marker: " + TableBegin)
	}
	_, after, ok := strings.Cut(rest, TableEnd)
	if !ok {
		return "", errors.New("no model table end marker: " + TableEnd)
	}
	if strings.Contains(after, TableBegin) {
		return "", errors.New("more than one model table")
	}
	// Blank lines keep the table a block of its own for every Markdown renderer.
	return before + TableBegin + "\n\n" + ModelTable() + "\n" + TableEnd + after, nil
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func imageCell(m *Model) string {
	if m.ImageField == "" {
		return "—"
	}
	need := "optional"
	if m.ImageRequired {
		need = "required"
	}
	var count string
	switch {
	case !m.ImageList:
		count = "one URL"
	case m.MaxImages == 0:
		count = fmt.Sprintf("%d or more URLs", max(m.MinImages, 1))
	case m.ImageRequired:
		count = fmt.Sprintf("%d–%d URLs", max(m.MinImages, 1), m.MaxImages)
	default:
		count = fmt.Sprintf("up to %d URLs", m.MaxImages)
	}
	s := fmt.Sprintf("`%s`: %s, %s", m.ImageField, count, need)
	switch {
	case m.ImagesUsed == 1:
		s += " (only the first is used)"
	case m.ImagesUsed > 1:
		s += fmt.Sprintf(" (only the first %d are used)", m.ImagesUsed)
	}
	return s
}

func resultsCell(m *Model) string {
	switch {
	case m.CountUndocumented:
		return "several (KIE does not say how many)"
	case m.ResultCountField == "":
		return "1"
	}
	f, ok := m.Field(m.ResultCountField)
	s := "`" + m.ResultCountField + "`"
	if !ok || f.Range == nil {
		return s
	}
	lo, hi := formatNumber(f.Range.Min), formatNumber(f.Range.Max)
	if f.Kind == KindIntString { // written as strings in input, which the table should show
		lo, hi = strconv.Quote(lo), strconv.Quote(hi)
	}
	s += fmt.Sprintf(": %s–%s", lo, hi)
	if f.Default != nil {
		s += ", default " + describe(f.Default)
	}
	return s
}

func requiredCell(m *Model) string {
	var names []string
	for _, f := range m.Fields {
		if !f.Required || f.Name == m.ImageField {
			continue
		}
		n := "`" + f.Name + "`"
		if f.Uncertain || f.Default != nil || m.Uncertain {
			n += doubtMark
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return "—"
	}
	return strings.Join(names, ", ")
}
