package provider

import (
	"context"
	"errors"
	"fmt"
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

	once sync.Once
	url  string
	err  error
}

// start listens once and returns the URL KIE should call.
func (r *callbackReceiver) start(ctx context.Context) (string, error) {
	r.once.Do(func() {
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", r.listen)
		if err != nil {
			r.err = fmt.Errorf("callback_receiver.listen_address %q: %w", r.listen, err)
			return
		}
		srv := &http.Server{
			Handler:           r.handler,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second, // KIE gives up after 15 s
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				tflog.Warn(context.Background(), "callback receiver stopped", map[string]any{"error": err.Error()})
			}
		}()
		r.url = r.publicURL
		if r.url == "" {
			// Without a public URL only a caller on this machine (such as kie-mock) can reach us.
			r.url = "http://" + ln.Addr().String() + "/kie/callback"
		}
		tflog.Info(ctx, "callback receiver listening", map[string]any{"address": ln.Addr().String(), "url": r.url})
	})
	return r.url, r.err
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
