package provider

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/hashicorp/terraform-plugin-log/tflogtest"
)

// TestLogContextMasksTheKeyAsSent: a key read with file() ends in a newline, but the client sends (and
// servers echo) it trimmed; the log must hide both forms, in messages and in fields.
func TestLogContextMasksTheKeyAsSent(t *testing.T) {
	const key = "kq7Vx2Lm9Tz4Rb8Nw3Pd6Hs1Jf5Gc0Yu"
	for _, configured := range []string{key, key + "\n", "  " + key + "\r\n"} {
		var buf bytes.Buffer
		ctx := tflogtest.RootLogger(context.Background(), &buf)
		ctx = (&providerData{apiKey: configured}).logContext(ctx)
		tflog.Warn(ctx, "server said: Authorization: Bearer "+key, map[string]any{"error": "bad header Bearer " + key})
		tflog.Warn(ctx, "as configured: "+configured, map[string]any{"configured": configured})
		out := buf.String()
		if strings.Contains(out, key[:12]) || strings.Contains(out, key[len(key)-12:]) {
			t.Errorf("configured %q: the log shows the key:\n%s", configured, out)
		}
		if !strings.Contains(out, "server said") || !strings.Contains(out, "***") {
			t.Errorf("configured %q: nothing masked was logged:\n%s", configured, out)
		}
	}
}

// TestLogContextIgnoresBlankKeys: a key of whitespace only must not mask spaces or newlines everywhere.
func TestLogContextIgnoresBlankKeys(t *testing.T) {
	for _, configured := range []string{"", "\n", "   "} {
		var buf bytes.Buffer
		ctx := (&providerData{apiKey: configured}).logContext(tflogtest.RootLogger(context.Background(), &buf))
		tflog.Warn(ctx, "two   words\nand a line")
		if !strings.Contains(buf.String(), `two   words\nand a line`) {
			t.Errorf("configured %q: the log line was garbled: %s", configured, buf.String())
		}
	}
}
