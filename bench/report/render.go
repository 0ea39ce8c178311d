package main

import (
	"embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/template"
)

//go:embed report.md.tmpl
var templates embed.FS

// newTemplate parses report.md.tmpl for r. "include" runs a block named at run time, so a target's
// Kind picks the block that words its figures; "trial" finds a shared scenario's account by ID.
func newTemplate(r *Report) (*template.Template, error) {
	var t *template.Template
	funcs := template.FuncMap{
		"include": func(name string, data any) (string, error) {
			var b strings.Builder
			err := t.ExecuteTemplate(&b, name, data)
			return b.String(), err
		},
		"trial": func(id string) (Account, error) {
			if a, ok := trialAccount(r, id); ok {
				return a, nil
			}
			return Account{}, fmt.Errorf("no one-account scenario %q", id)
		},
		"f0":       func(v any) string { return fmt.Sprintf("%.0f", deref(v)) },
		"f1":       func(v any) string { return fmt.Sprintf("%.1f", deref(v)) },
		"f2":       func(v any) string { return fmt.Sprintf("%.2f", deref(v)) },
		"finite":   func(r Ratio) bool { return !math.IsInf(float64(r), 0) && !math.IsNaN(float64(r)) },
		"div":      func(a, b float64) float64 { return a / b },
		"add":      func(a, b float64) float64 { return a + b },
		"inc":      func(i int) int { return i + 1 },
		"mib":      mib,
		"perImage": perImage,
		"passFail": passFail,
		"join": func(xs []int, sep string) string {
			s := make([]string, len(xs))
			for i, x := range xs {
				s[i] = strconv.Itoa(x)
			}
			return strings.Join(s, sep)
		},
	}
	var err error
	t, err = template.New("report.md.tmpl").Funcs(funcs).ParseFS(templates, "report.md.tmpl")
	return t, err
}

// render writes the report's Markdown.
func render(r *Report) (string, error) {
	t, err := newTemplate(r)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.ExecuteTemplate(&b, "report", r)
	return b.String(), err
}

// mib formats KiB as MiB; 0 means no sample caught the process (it lived under 200 ms).
func mib(kib int64) string {
	if kib == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", float64(kib)/1024)
}

func mb(kib int64) float64 { return float64(kib) * 1024 / 1e6 }

func perImage(v, n int) string {
	if n == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(v)/float64(n))
}

func passFail(ok bool) string {
	if ok {
		return "**PASS**"
	}
	return "**FAIL**"
}

// deref formats an optional figure (a *float64 that is set) like a plain one.
func deref(v any) any {
	if p, ok := v.(*float64); ok && p != nil {
		return *p
	}
	return v
}
