// Command modeltable rewrites the generated model table of a docs template from the catalogue
// (see go:generate in package catalog).
package main

import (
	"fmt"
	"os"

	"github.com/kie-community/terraform-provider-kie/internal/catalog"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: modeltable <template file>")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "modeltable:", err)
		os.Exit(1)
	}
}

func rewrite(p string) error {
	b, err := os.ReadFile(p) //nolint:gosec // the template named by go:generate
	if err != nil {
		return err
	}
	out, err := catalog.ReplaceModelTable(string(b))
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if out == string(b) {
		return nil
	}
	return os.WriteFile(p, []byte(out), 0o644) //nolint:gosec // the template named by go:generate
}
