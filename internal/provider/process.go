package provider

import (
	"os"
	"runtime/debug"
)

// Address is the provider's source address; main, examples, docs and the release config use the same one.
const Address = "registry.terraform.io/kie-community/kie"

// TuneProcess sets up the provider process before it serves; main and the benchmark's instant
// provider (bench/noop-provider) both call it, so they differ only in their answers.
//
// The plugin SDK logs every request at TRACE by default and Terraform throws those lines away unless
// TF_LOG asks for them; producing them costs more than the rest of a plan of many finished images, so
// they are turned off when no TF_LOG* setting is present (an explicit one keeps the SDK's behaviour).
// The provider's live heap stays small (images stream to disk), while a plan of many resources
// allocates heavily in short-lived protocol values: collecting less often saves much CPU, and a soft
// memory limit keeps that trade from growing the heap without bound; neither is set when GOGC or
// GOMEMLIMIT is.
func TuneProcess() {
	quietFrameworkLogs()
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(192 << 20)
	}
}

func quietFrameworkLogs() {
	for _, v := range []string{"TF_LOG", "TF_LOG_PROVIDER", "TF_LOG_PATH", "TF_ACC_LOG_PATH"} {
		if os.Getenv(v) != "" {
			return
		}
	}
	for _, v := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		if os.Getenv(v) == "" {
			_ = os.Setenv(v, "off")
		}
	}
}
