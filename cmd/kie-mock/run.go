package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// run starts the mock, prints its URL and serves until ctx is cancelled.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("kie-mock", flag.ContinueOnError)
	fs.SetOutput(stdout)
	latencyDefault := 3 * time.Second
	if v := os.Getenv("KIE_MOCK_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("KIE_MOCK_LATENCY: %w", err)
		}
		latencyDefault = d
	}
	var (
		addr        = fs.String("addr", envOr("KIE_MOCK_ADDR", "127.0.0.1:8787"), "listen address; port 0 picks a free one (env KIE_MOCK_ADDR)")
		apiKey      = fs.String("api-key", envOr("KIE_MOCK_API_KEY", kiemock.DefaultAPIKey), "bearer key clients must send (env KIE_MOCK_API_KEY)")
		latency     = fs.Duration("latency", latencyDefault, "time a task stays generating (env KIE_MOCK_LATENCY)")
		jitter      = fs.Duration("jitter", 0, "extra per-task latency, up to this much")
		maxLatency  = fs.Duration("max-latency", 0, "latency for flux-kontext-max tasks (0 = same as -latency)")
		createLimit = fs.Int("create-limit", 0, "generate requests accepted per -create-window (0 = unlimited; KIE allows 20)")
		window      = fs.Duration("create-window", kiemock.DefaultCreateWindow, "rate-limit window")
		raUnit      = fs.Duration("retry-after-unit", time.Second, "precision of a 429's Retry-After, sent in seconds (scale it with -create-window)")
		secret      = fs.String("callback-secret", "", "sign callbacks with HMAC-SHA256 using this secret")
		retries     = fs.Int("callback-retries", 0, "retries of a failed callback")
		linkTTL     = fs.Duration("link-ttl", 0, "result links expire after this (0 = never)")
		scale       = fs.Float64("image-scale", 1, "scale of the documented image sizes (0 < scale <= 4)")
		padMin      = fs.Int64("image-min-bytes", 0, "pad images with skipped metadata to at least this many bytes (with -image-max-bytes)")
		padMax      = fs.Int64("image-max-bytes", 0, "pad images to a size drawn per task up to this many bytes, like KIE's 1-2 MB (0 = no padding)")
		timeFormat  = fs.String("time-format", "", "pin createTime/completeTime format: rfc3339, epoch-ms or datetime (default: rotate per task)")
		credits     = fs.Float64("credits", kiemock.DefaultCredits, "starting credit balance")
		http200     = fs.Bool("errors-as-http200", false, "send API errors as HTTP 200 with the code only in the body")
		nullQueries = fs.Int("record-info-null", 0, "a new Market task answers 422 \"recordInfo is null\" to its first N recordInfo queries")
		messageKey  = fs.String("message-key", "msg", "text field of Market answers: msg, message or rotate (KIE's pages show both)")
		publicURL   = fs.String("public-url", "", "base URL used in links (default: the request's host)")
		urlFile     = fs.String("url-file", "", "write the base URL to this file once listening (removed on exit)")
		allowRemote = fs.Bool("allow-remote", false, "allow binding a non-loopback address")
		verbose     = fs.Bool("v", false, "log every request")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := checkAddr(*addr, *allowRemote); err != nil {
		return err
	}
	switch *timeFormat {
	case kiemock.TimeFormatRotate, kiemock.TimeFormatRFC3339, kiemock.TimeFormatEpochMillis, kiemock.TimeFormatDateTime:
	default:
		return fmt.Errorf("-time-format %q: want rfc3339, epoch-ms or datetime", *timeFormat)
	}
	if *nullQueries < 0 {
		return fmt.Errorf("-record-info-null %d: want 0 or more", *nullQueries)
	}
	msgKey := *messageKey
	switch msgKey {
	case "msg":
		msgKey = kiemock.MessageKeyMsg
	case kiemock.MessageKeyMessage, kiemock.MessageKeyRotate:
	default:
		return fmt.Errorf("-message-key %q: want msg, message or rotate", *messageKey)
	}
	if *scale <= 0 || *scale > 4 {
		return fmt.Errorf("-image-scale %v: want 0 < scale <= 4", *scale)
	}
	if *padMin < 0 || *padMax < 0 || *padMax > 1<<30 || (*padMin > 0 && *padMin > *padMax) {
		return fmt.Errorf("-image-min-bytes %d, -image-max-bytes %d: want 0 <= min <= max <= 1 GiB", *padMin, *padMax)
	}

	opts := kiemock.Options{
		APIKey: *apiKey, Latency: *latency, LatencyJitter: *jitter, MaxLatency: *maxLatency,
		CreateLimit: *createLimit, CreateWindow: *window, RetryAfterUnit: *raUnit, CallbackSecret: *secret, CallbackRetries: *retries,
		LinkTTL: *linkTTL, ImageScale: *scale, ImageMinBytes: *padMin, ImageMaxBytes: *padMax,
		TimeFormat: *timeFormat, Credits: *credits,
		ErrorsAsHTTP200: *http200, PublicURL: *publicURL, RecordInfoNullQueries: *nullQueries, MessageKey: msgKey,
	}
	if *verbose {
		logger := log.New(stdout, "", log.LstdFlags|log.Lmicroseconds)
		opts.Logf = logger.Printf
	}
	if *urlFile != "" {
		// A stale file from an earlier run must not be mistaken for this one.
		if err := os.Remove(*urlFile); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	srv, err := kiemock.StartAt(*addr, opts)
	if err != nil {
		return err
	}
	if *credits == 0 {
		srv.SetCredits(0) // Options reads 0 as "use the default"
	}
	defer srv.Close()
	if _, err := fmt.Fprintf(stdout, "kie-mock listening on %s\n", srv.URL()); err != nil {
		return err
	}
	if *urlFile != "" {
		if err := writeFileAtomic(*urlFile, []byte(srv.URL())); err != nil {
			return err
		}
		defer os.Remove(*urlFile)
	}
	<-ctx.Done()
	return srv.Close()
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// checkAddr refuses non-loopback binds unless allowed: the mock accepts a
// well-known key and must not be reachable from the network by accident.
func checkAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("-addr %q is not a loopback address; pass -allow-remote to expose the mock", addr)
}

// writeFileAtomic renames a complete temporary file into place, so a script
// polling for path never reads a partial URL.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kie-mock-url-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
