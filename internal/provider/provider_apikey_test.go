package provider

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// An explicit api_key wins over KIE_API_KEY, even an empty one, which is refused (not replaced) and
// described as what it is; only a null api_key falls back to the environment. No problem text ever holds
// a key.
func TestResolveAPIKey(t *testing.T) {
	const envKey = "env-key-0123456789"
	for _, tc := range []struct {
		name    string
		cfg     types.String
		env     *string // nil: unset
		wantKey string
		problem []string // phrases of the problem; none when a key is found
	}{
		{name: "configured", cfg: types.StringValue("cfg-key-0123456789"), env: ptr(envKey), wantKey: "cfg-key-0123456789"},
		{name: "null falls back", cfg: types.StringNull(), env: ptr(envKey), wantKey: envKey},
		{name: "empty is not replaced by the environment", cfg: types.StringValue(""), env: ptr(envKey),
			problem: []string{"api_key is set to an empty string", "never replaced by the KIE_API_KEY", "set but was not used", "set it to null"}},
		{name: "blank is not replaced by the environment", cfg: types.StringValue(" \n"), env: ptr(envKey),
			problem: []string{"api_key is set to a string of only whitespace", "set but was not used"}},
		{name: "empty without environment", cfg: types.StringValue(""),
			problem: []string{"api_key is set to an empty string", "KIE_API_KEY environment variable is not set either"}},
		{name: "null with an empty environment variable", cfg: types.StringNull(), env: ptr(""),
			problem: []string{"api_key is not set", "KIE_API_KEY environment variable is empty"}},
		{name: "null with a blank environment variable", cfg: types.StringNull(), env: ptr("  "),
			problem: []string{"api_key is not set", "KIE_API_KEY environment variable is empty"}},
		{name: "null without environment", cfg: types.StringNull(),
			problem: []string{"api_key is not set", "KIE_API_KEY environment variable is not set"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env == nil {
				unsetenv(t, envAPIKey)
			} else {
				t.Setenv(envAPIKey, *tc.env)
			}
			key, problem := resolveAPIKey(tc.cfg)
			if key != tc.wantKey {
				t.Errorf("key %q, want %q", key, tc.wantKey)
			}
			if (problem == "") != (len(tc.problem) == 0) {
				t.Fatalf("problem %q, want phrases %q", problem, tc.problem)
			}
			for _, p := range tc.problem {
				if !strings.Contains(problem, p) {
					t.Errorf("problem lacks %q: %s", p, problem)
				}
			}
			if strings.Contains(problem, envKey) {
				t.Errorf("problem holds the key: %s", problem)
			}
		})
	}
}

// requireAPIKey adds one error, naming what needed the API and that nothing was paid, only when there
// is no key.
func TestRequireAPIKey(t *testing.T) {
	var diags diag.Diagnostics
	if !(*providerData)(nil).requireAPIKey("x", &diags) || !(&providerData{apiKey: "k"}).requireAPIKey("x", &diags) || diags.HasError() {
		t.Fatalf("refused with a key or unconfigured: %v", diags)
	}
	d := &providerData{keyProblem: "api_key is set to an empty string in the kie provider block."}
	if d.requireAPIKey("Reading task t1", &diags) {
		t.Fatal("no refusal without a key")
	}
	if len(diags) != 1 || diags[0].Summary() != "Missing KIE API key" ||
		!strings.HasPrefix(diags[0].Detail(), "Reading task t1 needs the KIE API, but api_key is set to an empty string") ||
		!strings.Contains(diags[0].Detail(), "Nothing was sent to KIE and nothing was paid.") ||
		!strings.Contains(diags[0].Detail(), "terraform destroy, run it with -refresh=false") {
		t.Fatalf("diagnostics %v", diags)
	}
}
