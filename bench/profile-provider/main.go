// Command profile-provider serves the real provider, unchanged, and profiles the process: with
// BENCH_PROFILE=1, scripts/bench.sh runs the large apply with it (through dev_overrides, like
// bench/noop-provider). Each process writes, when Terraform shuts it down, into KIE_PROFILE_DIR:
// cpu-PID.pprof, heap-PID.pprof (after the run), mutex-PID.pprof and block-PID.pprof (waits of 1 ms
// and more). Read them with `go tool pprof -top FILE`. A measuring tool only, kept out of main.
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/kie-community/terraform-provider-kie/internal/provider"
)

func main() {
	dir := os.Getenv("KIE_PROFILE_DIR")
	if dir == "" {
		log.Fatal("KIE_PROFILE_DIR is not set")
	}
	name := func(kind string) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", kind, os.Getpid())) }
	cpu, err := os.Create(name("cpu"))
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		log.Fatal(err)
	}
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(int(time.Millisecond))

	serveErr := tf6server.Serve(provider.Address, provider.NewServer("profile", "none"))

	// Terraform kills a provider that has not exited 2 s after asking it to: write quickly.
	pprof.StopCPUProfile()
	_ = cpu.Close()
	for _, p := range []string{"heap", "mutex", "block"} {
		if f, err := os.Create(name(p)); err == nil {
			_ = pprof.Lookup(p).WriteTo(f, 0)
			_ = f.Close()
		}
	}
	if serveErr != nil {
		log.Fatal(serveErr)
	}
}
