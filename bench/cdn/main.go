// Command cdn is a stand-in for KIE's file CDN in the large-download benchmark. kie-mock renders
// smooth test images that stay below about 2 MB even at its largest -image-scale; to measure the
// provider while it downloads many ~20 MB images, scripts/bench.sh starts kie-mock with
// -public-url pointing here, so the result links the mock hands out are served by this program:
// every GET /files/... answers the same PNG of random noise (incompressible, about -mib MiB), at
// most -rate-mib MiB/s per download, like a CDN over a real network rather than loopback at memory
// speed (which would also finish each download before the next one starts).
//
//	cdn -addr 127.0.0.1:0 -url-file cdn.url -mib 20 -rate-mib 4
//
// It listens on loopback only and exits on SIGINT/SIGTERM or after -max.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cdn:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		addr    = flag.String("addr", "127.0.0.1:0", "loopback listen address")
		urlFile = flag.String("url-file", "", "write the base URL here once listening")
		mib     = flag.Float64("mib", 20, "approximate size of the served PNG in MiB")
		rateMiB = flag.Float64("rate-mib", 4, "bytes per second of one download, in MiB (0 = unthrottled)")
		maxLife = flag.Duration("max", 30*time.Minute, "exit after this long whatever happens")
	)
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-addr %s is not a loopback address", *addr)
	}
	if *mib <= 0 || *mib > 512 {
		return errors.New("-mib must be in (0, 512]")
	}

	img, err := noisePNG(int64(*mib * (1 << 20)))
	if err != nil {
		return err
	}
	var served, active, peak atomic.Int64
	mod := time.Now()
	mux := http.NewServeMux()
	mux.HandleFunc("/files/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.Method == http.MethodGet {
			served.Add(1)
			n := active.Add(1)
			defer active.Add(-1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
		}
		w.Header().Set("Content-Type", "image/png")
		var body io.ReadSeeker = bytes.NewReader(img)
		if *rateMiB > 0 {
			body = &throttled{r: bytes.NewReader(img), perSec: *rateMiB * (1 << 20)}
		}
		http.ServeContent(w, r, "", mod, body)
	})
	mux.HandleFunc("/_cdn/stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"downloads":%d,"peakConcurrent":%d,"bytes":%d}`+"\n", served.Load(), peak.Load(), len(img))
	})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	fmt.Printf("cdn listening on %s, serving a %d-byte PNG\n", base, len(img))
	if *urlFile != "" {
		tmp := *urlFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(base), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, *urlFile); err != nil {
			return err
		}
		defer os.Remove(*urlFile)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxLife)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	if err := srv.Shutdown(shutdown); err != nil && !strings.Contains(err.Error(), "closed") {
		return err
	}
	return nil
}

// noisePNG encodes an opaque square of random pixels, uncompressed, of about size bytes.
func noisePNG(size int64) ([]byte, error) {
	side := int(math.Ceil(math.Sqrt(float64(size) / 3)))
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	var seed [32]byte
	copy(seed[:], "kie bench cdn: deterministic noise")
	if _, err := rand.NewChaCha8(seed).Read(img.Pix); err != nil {
		return nil, err
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255 // opaque, so the PNG is RGB
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.NoCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// throttled delivers bytes no faster than perSec, counted from its first Read.
type throttled struct {
	r      *bytes.Reader
	perSec float64
	start  time.Time
	sent   int64
}

func (t *throttled) Read(p []byte) (int, error) {
	if t.start.IsZero() {
		t.start = time.Now()
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	n, err := t.r.Read(p)
	t.sent += int64(n)
	if due := t.start.Add(time.Duration(float64(t.sent) / t.perSec * float64(time.Second))); time.Until(due) > 0 {
		time.Sleep(time.Until(due))
	}
	return n, err
}

func (t *throttled) Seek(offset int64, whence int) (int64, error) { return t.r.Seek(offset, whence) }
