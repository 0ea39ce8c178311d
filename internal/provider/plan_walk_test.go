package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A walk is told from the next by a flip of the deferral capability (terraform test's plan, then
// apply) or by an object in state planned again; creates and one object's replacement stay in it.
func TestPlanWalksTellWalksApart(t *testing.T) {
	var w planWalks
	plan := w.current(false, "")
	if w.current(false, "") != plan || w.current(false, "t1") != plan {
		t.Fatal("creates and a first object of one plan walk started a new walk")
	}
	apply := w.current(true, "")
	if apply == plan || w.latest() != apply {
		t.Fatal("the apply's re-plans share the plan's walk")
	}
	next := w.current(true, "t2")
	if next != apply {
		t.Fatal("an object first seen in the apply walk started a new walk")
	}
	if w.current(true, "t2") == apply {
		t.Fatal("an object planned twice did not start a new walk")
	}
}

// Two creates writing one file collide, as do an object and a create of another configuration; an
// object and the create of the same configuration are its replacement, once.
func TestFileClaims(t *testing.T) {
	var c fileClaims
	obj := &fileWriter{who: "object", config: "a", prior: true}
	if others := c.claim([]string{"/f"}, obj); len(others) != 0 {
		t.Fatalf("first writer: %v", others)
	}
	if others := c.claim([]string{"/f"}, &fileWriter{who: "replacement", config: "a"}); len(others) != 0 {
		t.Fatalf("a replacement collided with its object: %v", others[0].who)
	}
	others := c.claim([]string{"/g", "/f"}, &fileWriter{who: "twin", config: "a"})
	if len(others) != 1 || others[0].who != "replacement" {
		t.Fatalf("a second create of the same configuration: %v; want a collision with the replacement", others)
	}
	if others := c.claim([]string{"/g"}, &fileWriter{who: "other", config: "b", prior: true}); len(others) != 1 || others[0].who != "twin" {
		t.Fatalf("another object writing /g: %v; want the twin named", others)
	}
}

// A path that is a directory, or under a regular file, cannot take an image; a missing directory
// can be created.
func TestCheckOutputFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		dir:                                    "is an existing directory",
		filepath.Join(file, "x.png"):           "is a file, not a directory",
		filepath.Join(file, "a", "b", "x.png"): "is a file, not a directory",
		filepath.Join(dir, "new", "x.png"):     "",
		file:                                   "",
	} {
		err := checkOutputFile(p)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("checkOutputFile(%q) = %v; want %q", p, err, want)
		}
	}
}
