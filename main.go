// Command terraform-provider-kie serves the KIE Flux Kontext provider to Terraform and OpenTofu.
package main

import (
	"flag"
	"log"
	"os"
	"runtime/debug"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

// Set by the release build (goreleaser ldflags).
var (
	version = "dev"
	commit  = "none"
)

// Address is the provider's source address; examples, docs and release config use the same one.
const address = "registry.terraform.io/kie-community/kie"

func main() {
	var debugMode bool
	flag.BoolVar(&debugMode, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	quietFrameworkLogs()
	// The provider's live heap stays small (images stream to disk), while a plan of many resources
	// allocates heavily in short-lived protocol values: collecting less often saves much CPU.
	// A soft memory limit keeps that trade from growing the heap without bound on very large plans.
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(400)
		debug.SetMemoryLimit(192 << 20)
	}

	var opts []tf6server.ServeOpt
	if debugMode {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	if err := tf6server.Serve(address, provider.NewServer(version, commit), opts...); err != nil {
		log.Fatal(err.Error())
	}
}

// quietFrameworkLogs turns off the plugin SDK's own request logging when nobody asked for logs. The SDK
// logs every request at TRACE by default and Terraform throws those lines away unless TF_LOG asks for
// them; producing them costs more than the rest of a plan of many finished images. An explicit TF_LOG,
// TF_LOG_PROVIDER or TF_LOG_SDK* setting keeps the SDK's usual behaviour.
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
