package catalog

import (
	"os"
	"strings"
	"testing"
)

const guideTemplate = "../../templates/guides/choosing-a-model.md.tmpl"

// TestGuideModelTableIsCurrent fails when the catalogue changed and the guide's table was not regenerated.
func TestGuideModelTableIsCurrent(t *testing.T) {
	b, err := os.ReadFile(guideTemplate)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReplaceModelTable(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(b) {
		t.Errorf("%s: the model table is out of date with the catalogue: run go generate ./internal/catalog, then make docs", guideTemplate)
	}
}

func TestModelTableRows(t *testing.T) {
	table := ModelTable()
	rows := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		id, ok := strings.CutPrefix(line, "| [`")
		if !ok {
			continue
		}
		id, _, _ = strings.Cut(id, "`")
		if _, dup := rows[id]; dup {
			t.Errorf("%s has two rows", id)
		}
		rows[id] = line
	}
	if len(rows) != len(Models()) {
		t.Errorf("%d rows for %d models", len(rows), len(Models()))
	}
	for _, m := range Models() {
		row, ok := rows[m.ID]
		if !ok {
			t.Errorf("no row for %s", m.ID)
			continue
		}
		if !strings.Contains(row, "]("+m.DocURL+")") || strings.Count(row, " | ") != 4 {
			t.Errorf("%s: row %q", m.ID, row)
		}
	}
	for id, want := range map[string][]string{
		"google/nano-banana":                  {"| — | 1 | `prompt` |"},
		"google/nano-banana-edit":             {"`image_urls`: 1–10 URLs, required", "| 1 | `prompt` |"},
		"nano-banana-pro":                     {"`image_input`: up to 8 URLs, optional"},
		"bytedance/seedream-v4-text-to-image": {"`max_images`: 1–6, default 1", "`prompt`†"},
		"qwen/image-edit":                     {"`image_url`: one URL, required", "`num_images`: \"1\"–\"4\""},
		"grok-imagine/image-to-image":         {"1–5 URLs, required (only the first is used)", "several (KIE does not say how many)"},
		"flux-2/pro-text-to-image":            {"`prompt`, `aspect_ratio`†, `resolution`†"},
		"recraft/remove-background":           {"`image`: one URL, required | 1 | — |"},
		"wan/2-7-image":                       {"only warns", "`n`: 1–12"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[id], w) {
				t.Errorf("%s: row %q lacks %q", id, rows[id], w)
			}
		}
	}
	if strings.Contains(rows["google/nano-banana"], "uncertain") {
		t.Errorf("nano-banana marked uncertain: %q", rows["google/nano-banana"])
	}
}

func TestReplaceModelTable(t *testing.T) {
	doc := "intro\n" + TableBegin + "\nstale\n" + TableEnd + "\noutro\n"
	got, err := ReplaceModelTable(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + TableBegin + "\n\n" + ModelTable() + "\n" + TableEnd + "\noutro\n"; got != want {
		t.Errorf("got %q", got)
	}
	if again, _ := ReplaceModelTable(got); again != got {
		t.Error("replacing twice changed the document")
	}
	for _, bad := range []string{"no markers", TableBegin + " only", TableEnd + " only",
		TableBegin + TableEnd + TableBegin + TableEnd} {
		if _, err := ReplaceModelTable(bad); err == nil {
			t.Errorf("ReplaceModelTable(%q) accepted", bad)
		}
	}
}
