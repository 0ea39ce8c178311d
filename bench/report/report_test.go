package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/ from the fixtures")

// renderBlock runs one block of report.md.tmpl on r.
func renderBlock(t *testing.T, name string, r *Report) string {
	t.Helper()
	tmpl, err := newTemplate(r)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, name, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The fixtures' figures match testdata/NAME.json, and the template renders that data to
// testdata/NAME.md: the Markdown the report wrote before it was split into data and template.
func TestGolden(t *testing.T) {
	for name, f := range map[string]fixture{"full": fullFixture(), "degraded": degradedFixture(), "empty": emptyFixture(),
		"mixed": mixedFixture()} {
		t.Run(name, func(t *testing.T) {
			r := build(f.m, f.runs, f.plans, f.cdn, "inflight.png", f.shared, f.mixed)
			data, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			data = append(data, '\n')
			jsonPath, mdPath := filepath.Join("testdata", name+".json"), filepath.Join("testdata", name+".md")
			md, err := render(r)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				if err := os.WriteFile(jsonPath, data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			wantJSON, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, wantJSON) {
				t.Errorf("figures differ from %s (go test -update rewrites it)", jsonPath)
			}
			wantMD, err := os.ReadFile(mdPath)
			if err != nil {
				t.Fatal(err)
			}
			if md != string(wantMD) {
				t.Errorf("Markdown differs from %s:\n%s", mdPath, firstDiff(md, string(wantMD)))
			}
			// The saved data alone renders the same: REPORT.json is enough to re-render a report.
			var back Report
			if err := json.Unmarshal(wantJSON, &back); err != nil {
				t.Fatal(err)
			}
			if md2, err := render(&back); err != nil || md2 != string(wantMD) {
				t.Errorf("%s renders differently (%v):\n%s", jsonPath, err, firstDiff(md2, string(wantMD)))
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range min(len(g), len(w)) {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("got %d lines, want %d", len(g), len(w))
}
