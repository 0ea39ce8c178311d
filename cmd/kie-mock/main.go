// Command kie-mock serves the kiemock emulation of KIE's Flux Kontext API on
// a loopback port, for demos, benchmarks and pipelines that must not spend
// credits. Run "kie-mock -h" for its flags; the package documentation of
// internal/kiemock describes the API, prompt markers, faults and the
// /_mock/ control endpoints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kie-mock:", err)
		os.Exit(1)
	}
}
