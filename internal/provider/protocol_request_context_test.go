package provider

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tfsdklog"
)

type payloadKey struct{}

// collectedAfterCall calls plan with a context that carries 1 MiB, then reports whether the MiB can be
// garbage-collected once the call returned and its context was cancelled, as gRPC does.
func collectedAfterCall(t *testing.T, plan func(context.Context, *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error), wait time.Duration) bool {
	t.Helper()
	gone := make(chan struct{})
	func() {
		payload := new([1 << 20]byte)
		runtime.AddCleanup(payload, func(ch chan struct{}) { close(ch) }, gone)
		ctx, cancel := context.WithCancel(context.WithValue(context.Background(), payloadKey{}, payload))
		defer cancel()
		// An unknown type: the framework registers the call's context first, then answers with an error.
		if _, err := plan(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: "kie_nothing"}); err != nil {
			t.Fatal(err)
		}
	}()
	// The server (behind plan) must stay alive: whatever it keeps is what is measured.
	defer runtime.KeepAlive(plan)
	deadline := time.After(wait)
	for {
		runtime.GC()
		select {
		case <-gone:
			return true
		case <-deadline:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// The framework keeps every call's context until StopProvider; through requestContexts what it keeps
// no longer holds the call's values, so a long apply does not grow by every call it answered.
func TestCallContextsAreReleased(t *testing.T) {
	server := NewServer("test", "none")().(*requestContexts).ProviderServer
	for _, quiet := range []bool{false, true} {
		if !collectedAfterCall(t, withRequestContexts(server, quiet).PlanResourceChange, 10*time.Second) {
			t.Errorf("quiet %v: a call's context is still reachable after the call returned", quiet)
		}
	}
	// The premise: the framework alone keeps it. Should this fail after an upgrade of the framework,
	// the first half of requestContexts is no longer needed.
	fw := providerserver.NewProtocol6(New("test", "none")())()
	if collectedAfterCall(t, fw.PlanResourceChange, time.Second) {
		t.Error("the framework no longer keeps call contexts: requestContexts need not release them")
	}
}

type derivedKey struct{}

// Something that outlives the call (the callback receiver) still logs through the call's loggers.
func TestDurableContextKeepsTheCallsValues(t *testing.T) {
	s := withRequestContexts(nil, false)
	ctx := context.WithValue(context.Background(), payloadKey{}, "kept")
	c := s.begin(ctx)
	derived := context.WithValue(c, derivedKey{}, 1)
	durable := durableContext(derived) // taken during the call
	c.release()
	if derived.Value(payloadKey{}) != nil || derived.Err() == nil {
		t.Errorf("a released call context still answers: %v, %v", derived.Value(payloadKey{}), derived.Err())
	}
	if got := durable.Value(payloadKey{}); got != "kept" {
		t.Errorf("durableContext lost the call's values: %v", got)
	}
	if got := durableContext(derived); got != derived {
		t.Errorf("after the call, durableContext keeps nothing of it: %v", got)
	}
	if durableContext(ctx) != ctx {
		t.Error("a context of no call should be its own durable context")
	}
}

// Quiet calls write none of the framework's or the provider's log lines; others write them as before.
func TestQuietCallsLogNothing(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "provider.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logFile)
	ctx := tfsdklog.ContextWithTestLogging(context.Background(), t.Name())
	ctx = tfsdklog.NewRootSDKLogger(ctx)
	ctx = tfsdklog.NewRootProviderLogger(ctx)
	server := NewServer("test", "none")().(*requestContexts).ProviderServer
	logged := func(quiet bool) string {
		t.Helper()
		if err := os.Truncate(logFile, 0); err != nil {
			t.Fatal(err)
		}
		s := withRequestContexts(server, quiet)
		if _, err := s.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: "kie_nothing"}); err != nil {
			t.Fatal(err)
		}
		c := s.begin(ctx)
		tflog.Info(c, "a line of the provider's own")
		c.release()
		b, err := os.ReadFile(logFile)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := logged(false); !strings.Contains(got, "sdk.framework") || !strings.Contains(got, "a line of the provider's own") {
		t.Errorf("logs on: want the framework's and the provider's lines, got:\n%s", got)
	}
	if got := logged(true); got != "" {
		t.Errorf("quiet: want no log line, got:\n%s", got)
	}
}

func TestProviderLogsRead(t *testing.T) {
	for env, want := range map[string]bool{
		"":                         false,
		"HOME=/root PATH=/bin":     false,
		"TF_LOG=":                  false,
		"TF_LOG=trace":             true,
		"TF_LOG_PROVIDER=DEBUG":    true,
		"TF_LOG_PATH_MASK=log-%s":  true,
		"TF_ACC_LOG_PATH=/tmp/acc": true,
		"TOFU_LOG=info":            true,
		"KIE_LOG=trace":            false,
	} {
		if got := providerLogsRead(strings.Fields(env)); got != want {
			t.Errorf("providerLogsRead(%q) = %v, want %v", env, got, want)
		}
	}
}
