// Package localstate is what the provider keeps on the machine it runs on, beside Terraform's own
// working files: the resume ledger of paid tasks that did not end in state, and the index that vouches
// for unchanged output files. Both are caches of facts Terraform cannot carry; losing them costs
// hashing again, never a payment, as long as the state survives.
package localstate

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// EnvDir overrides the folder the provider keeps its files in.
const EnvDir = "KIE_LOCAL_DIR"

// Dir is that folder: by default kie/ in Terraform's data directory of the working directory the
// provider runs in (Terraform starts providers there and passes TF_DATA_DIR on).
func Dir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	data := os.Getenv("TF_DATA_DIR")
	if data == "" {
		data = ".terraform"
	}
	return filepath.Join(data, "kie")
}

// LedgerDir and FileIndexDir are the two folders inside Dir.
func LedgerDir() string    { return filepath.Join(Dir(), "pending-tasks") }
func FileIndexDir() string { return filepath.Join(Dir(), "file-index") }

// writeJSON writes v as JSON to file in dir (created if missing), whole or not at all.
func writeJSON(dir, file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return localfile.WriteAtomic(file, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
