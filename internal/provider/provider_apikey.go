package provider

import (
	"os"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// resolveAPIKey picks the API key from the configuration or the environment. problem is empty when a
// key was found, else a sentence saying which source is empty, for the error of whatever needs the API;
// it never holds the key. An unknown api_key never reaches here (requireKnownConfig stops Configure).
//
// Configure cannot refuse a missing key itself: plans of settled images and destroys need no API call
// and must keep working without one. The refusal waits for a plan, import or read that needs the API.
func resolveAPIKey(v types.String) (key, problem string) {
	env := strings.TrimSpace(os.Getenv(envAPIKey))
	if !v.IsNull() {
		// An explicit value wins over the environment, even an empty one: an empty string is almost always
		// a variable or CI secret that was not set, and using KIE_API_KEY instead could charge whichever
		// account the machine's environment belongs to.
		if k := strings.TrimSpace(v.ValueString()); k != "" {
			return v.ValueString(), ""
		}
		what := "api_key is set to an empty string in the kie provider block"
		if v.ValueString() != "" {
			what = "api_key is set to a string of only whitespace in the kie provider block"
		}
		if env != "" {
			return "", what + "; an explicit api_key is never replaced by the " + envAPIKey + " environment " +
				"variable, which is set but was not used. Give api_key a key (an empty value usually comes from " +
				"a variable or CI secret that was not set), or remove api_key (or set it to null) to use " + envAPIKey + "."
		}
		return "", what + ", and the " + envAPIKey + " environment variable is not set either. Give api_key a key " +
			"(an empty value usually comes from a variable or CI secret that was not set), or remove api_key " +
			"and set " + envAPIKey + "."
	}
	if env != "" {
		return os.Getenv(envAPIKey), ""
	}
	what := "the " + envAPIKey + " environment variable is not set"
	if _, set := os.LookupEnv(envAPIKey); set {
		what = "the " + envAPIKey + " environment variable is empty"
	}
	return "", "api_key is not set in the kie provider block and " + what + ". Set api_key (for example " +
		"from a variable marked sensitive) or " + envAPIKey + "."
}

// requireAPIKey refuses, at plan or read time, work that needs the KIE API when no key is configured,
// so the refusal comes before a plan is approved rather than at apply. needs says what needed it.
//
// terraform destroy first runs a normal plan to refresh, which a provider cannot tell from any other
// plan: an object that plan would create or finish is refused there too. The destroy itself needs no
// key, hence the hint.
func (d *providerData) requireAPIKey(needs string, diags *diag.Diagnostics) bool {
	if d == nil || d.keyProblem == "" {
		return true
	}
	diags.AddError("Missing KIE API key", needs+" needs the KIE API, but "+d.keyProblem+
		" Nothing was sent to KIE and nothing was paid. (Destroying needs no key: if this is "+
		"terraform destroy, run it with -refresh=false.)")
	return false
}
