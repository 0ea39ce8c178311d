package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// fileClaims records, for one graph walk, which planned instances write which local file, so that a
// plan in which two of them write one file (count without count.index in output_path) fails before
// anything is paid: each would pay for an image and only the last one written would be kept.
type fileClaims struct {
	mu     sync.Mutex
	byPath map[string][]*fileWriter
}

// fileWriter is one planned instance, as far as a provider can tell: Terraform does not send the
// resource address.
type fileWriter struct {
	// who describes the instance in the others' diagnostics: its type and prompt or model.
	who string
	// config identifies the instance's configuration (a hash of it).
	config string
	// prior is true for an object in state (an update or no change), false for a create.
	prior bool
	// paired marks an object and its replacement, claimed once together.
	paired bool
}

// claim records w as the writer of every path (cleaned absolute paths) and returns the other writers
// of any of them. Terraform plans a replacement twice in one walk, against the object and then as a
// create with the same configuration; that create is paired with the object, not another writer.
func (c *fileClaims) claim(paths []string, w *fileWriter) []*fileWriter {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byPath == nil {
		c.byPath = map[string][]*fileWriter{}
	}
	var others []*fileWriter
	seen := map[*fileWriter]bool{}
	for _, p := range paths {
		earlier := c.byPath[p]
		if partner := replacedBy(earlier, w); partner != nil {
			partner.paired, w.paired = true, true
			earlier = without(earlier, partner)
		}
		for _, o := range earlier {
			if o.paired && o.prior {
				continue // an object being replaced: its replacement stands for it
			}
			if !seen[o] {
				seen[o] = true
				others = append(others, o)
			}
		}
		c.byPath[p] = append(c.byPath[p], w)
	}
	return others
}

// replacedBy is the writer among ws that w replaces (or that replaces w), if any.
func replacedBy(ws []*fileWriter, w *fileWriter) *fileWriter {
	for _, o := range ws {
		if !o.paired && o.prior != w.prior && o.config == w.config {
			return o
		}
	}
	return nil
}

func without(ws []*fileWriter, x *fileWriter) []*fileWriter {
	out := make([]*fileWriter, 0, len(ws))
	for _, w := range ws {
		if w != x {
			out = append(out, w)
		}
	}
	return out
}

// configID is the identity fileWriter.config compares: a hash of a configuration's value.
func configID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// absPaths are the cleaned absolute forms of paths, as claims compare them.
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("output_path %q: %w", p, err)
		}
		out[i] = abs
	}
	return out, nil
}

// planOutputFiles checks the files a planned instance writes (output_path, and for kie_image the
// further results' paths): each must be creatable as a file, and no other instance planned in the
// same walk may write one of them. Problems are errors on output_path; nothing has been paid.
func (d *providerData) planOutputFiles(walk *planWalk, paths []string, w *fileWriter, diags *diag.Diagnostics) {
	for _, p := range paths {
		if err := checkOutputFile(p); err != nil {
			diags.AddAttributeError(path.Root("output_path"), "output_path cannot be written", err.Error()+
				" The plan stops here, before any image is paid for.")
			return
		}
	}
	if walk == nil {
		return
	}
	abs, err := absPaths(paths)
	if err != nil {
		diags.AddAttributeError(path.Root("output_path"), "output_path cannot be resolved", err.Error())
		return
	}
	others := walk.files.claim(abs, w)
	if len(others) == 0 {
		return
	}
	names := writerNames(others)
	diags.AddAttributeError(path.Root("output_path"), "Several resources write the same output_path", fmt.Sprintf(
		"This %s writes %s, and so does every one of these, planned before it: %s. Each would pay for "+
			"its own image and only the last one written would be kept; every later plan would find the file "+
			"changed. Nothing was paid. Give every instance its own file: with count, put count.index in the "+
			"path (output_path = \"${path.module}/icon-${count.index}.jpg\"); with for_each, each.key. Terraform "+
			"names each instance that reports this error; the first one planned is only named in this message.",
		w.who, quoteList(abs), strings.Join(names, "; ")))
}

// writerNames lists the writers' descriptions in order, identical ones once with their number.
func writerNames(ws []*fileWriter) []string {
	var order []string
	n := map[string]int{}
	for _, w := range ws {
		if n[w.who] == 0 {
			order = append(order, w.who)
		}
		n[w.who]++
	}
	for i, who := range order {
		if n[who] > 1 {
			order[i] = fmt.Sprintf("%s (%d instances)", who, n[who])
		}
	}
	return order
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// describeWriter names an instance for other instances' diagnostics: its type and what sets it
// apart, shortened.
func describeWriter(typeName string, fields ...string) string {
	var parts []string
	for i := 0; i+1 < len(fields); i += 2 {
		if v := fields[i+1]; v != "" {
			if len(v) > 60 {
				v = v[:57] + "..."
			}
			parts = append(parts, fmt.Sprintf("%s %q", fields[i], v))
		}
	}
	if len(parts) == 0 {
		return typeName
	}
	return typeName + " (" + strings.Join(parts, ", ") + ")"
}
