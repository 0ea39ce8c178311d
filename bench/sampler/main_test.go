package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The counter sees every match once, also one written in two pieces between two reads.
func TestLineCounter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "apply.log")
	c := &lineCounter{path: p, pattern: []byte("Creation complete after")}
	if got := c.count(); got != 0 {
		t.Fatalf("no file yet: %d", got)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, step := range []struct {
		write string
		want  int
	}{
		{"kie_flux_image.img[0]: Creating...\n", 0},
		{"kie_flux_image.img[0]: Creation complete after 2s [id=a]\nkie_flux_image.img[1]: Creation compl", 1},
		{"ete after 3s [id=b]\n", 2},
		{"", 2},
		{"kie_flux_image.img[2]: Creation complete after 1s [id=c]\n", 3},
	} {
		if _, err := f.WriteString(step.write); err != nil {
			t.Fatal(err)
		}
		if got := c.count(); got != step.want {
			t.Errorf("after %q: %d, want %d", step.write, got, step.want)
		}
	}
}
