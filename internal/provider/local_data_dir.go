package provider

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// envLocalDir overrides the folder where the provider keeps its files on this machine: the resume
// ledger (flux_image_resume.go) and the local file index (local_file_index.go).
const envLocalDir = "KIE_LOCAL_DIR"

// localDir is that folder: by default kie/ in Terraform's data directory of the working directory the
// provider runs in (Terraform starts providers there and passes TF_DATA_DIR on).
func localDir() string {
	if d := os.Getenv(envLocalDir); d != "" {
		return d
	}
	data := os.Getenv("TF_DATA_DIR")
	if data == "" {
		data = ".terraform"
	}
	return filepath.Join(data, "kie")
}

// writeJSONAtomic writes v as JSON to file in dir (created if missing): readers see the old file or the
// new one, never half of one.
func writeJSONAtomic(dir, file string, v any) error {
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
