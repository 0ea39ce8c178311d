package provider

import (
	"os"
	"path/filepath"
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
