package provider

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// callbackReceiver is the provider's optional HTTP endpoint for KIE's task-end callbacks. It starts on
// the first Create that needs it (plans never open a port) and lives as long as the provider process,
// which Terraform ends after the run.
type callbackReceiver struct {
	listen    string
	publicURL string
	handler   http.Handler
	secrets   []string // masked in everything the receiver logs: the API key and the HMAC key

	mu  sync.Mutex
	url string       // set once listening
	ln  net.Listener // the listener, once listening
}

// start listens on the first call that succeeds and returns the URL KIE should call. A failure is not
// kept: the port may be free by the next Create.
func (r *callbackReceiver) start(ctx context.Context) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.url != "" {
		return r.url, nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", r.listen)
	if err != nil {
		return "", fmt.Errorf("callback_receiver.listen_address %q: %w", r.listen, err)
	}
	// The server outlives this request: it logs through the request's logger, with the provider's masks,
	// but is not cancelled with it. A context without a logger would drop every record.
	// terraform-plugin-log masks a record by rewriting the field map its context carries, so goroutines
	// must not log through one context at once: every connection and record gets its own copy (SetField
	// copies), and the base is never logged to.
	base := maskSecrets(context.WithoutCancel(durableContext(ctx)), r.secrets...)
	addr := ln.Addr().String()
	logCtx := func() context.Context { return tflog.SetField(base, "callback_receiver", addr) }
	srv := &http.Server{
		Handler:           r.handler,
		ConnContext:       func(context.Context, net.Conn) context.Context { return logCtx() },
		ErrorLog:          log.New(tflogWriter{logCtx}, "", 0),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second, // KIE gives up after 15 s
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			tflog.Warn(logCtx(), "callback receiver stopped; waiting tasks fall back to the safety poll",
				map[string]any{"error": err.Error()})
		}
	}()
	r.ln = ln
	r.url = r.publicURL
	if r.url == "" {
		// Without a public URL only a caller on this machine (such as kie-mock) can reach us.
		r.url = "http://" + ln.Addr().String() + "/kie/callback"
	}
	tflog.Info(logCtx(), "callback receiver listening", map[string]any{"address": addr, "url": r.url})
	return r.url, nil
}

// Warn lets the client log refused callbacks as warnings.
func (tflogLogger) Warn(ctx context.Context, msg string, fields map[string]any) {
	tflog.Warn(ctx, msg, fields)
}

// tflogWriter turns the HTTP server's own error log into warnings of the provider's log.
type tflogWriter struct{ ctx func() context.Context }

func (w tflogWriter) Write(p []byte) (int, error) {
	tflog.Warn(w.ctx(), "callback receiver: "+strings.TrimSpace(string(p)))
	return len(p), nil
}

// loopbackOnly reports whether a listen address can only be reached from this machine.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
