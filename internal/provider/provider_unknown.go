package provider

import (
	"context"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// mustBeKnown is a provider argument whose unknown value (one that comes from a resource not yet applied)
// must stop Configure: falling back to the environment or a default would send requests, and the key they
// carry, somewhere the configuration did not say, or lift the spend guard.
type mustBeKnown struct {
	name string // attribute name
	what string // what it is, for the error summary
	env  string // the environment variable that may replace it; "" for none
}

var (
	knownTopLevel = []mustBeKnown{
		{"api_key", "KIE API key", envAPIKey},
		{"base_url", "KIE API base URL", envBaseURL},
		{"upload_base_url", "KIE upload base URL", envUploadBaseURL},
		{"max_new_images", "spend limit (max_new_images)", envMaxNewImages},
	}
	knownInReceiver = []mustBeKnown{
		{"listen_address", "callback receiver listen address", ""},
		{"public_url", "callback receiver public URL", ""},
		{"hmac_key", "callback receiver HMAC key", envCallbackKey},
	}
)

// requireKnownConfig reports, as attribute errors, every argument of mustBeKnown whose value is unknown.
// It runs before the configuration is read into the model, so an unknown callback_receiver block gets
// this error too, not a type conversion failure.
func requireKnownConfig(ctx context.Context, cfg tfsdk.Config, diags *diag.Diagnostics) bool {
	before := diags.ErrorsCount()
	named := map[string]mustBeKnown{}
	for _, a := range knownTopLevel {
		named[a.name] = a
	}
	var top map[string]tftypes.Value
	if err := cfg.Raw.As(&top); err != nil {
		diags.AddError("Reading the provider configuration failed", err.Error())
		return false
	}
	names := make([]string, 0, len(top))
	for name := range top {
		names = append(names, name)
	}
	sort.Strings(names)
	// Every other argument (timeouts, rates, limits) must be known too: falling back to its default would
	// run with settings the configuration did not ask for.
	for _, name := range names {
		if name == "callback_receiver" || top[name].IsKnown() {
			continue
		}
		a, ok := named[name]
		if !ok {
			a = mustBeKnown{name: name, what: name}
		}
		addUnknownError(diags, path.Root(name), a)
	}

	block := path.Root("callback_receiver")
	var receiver types.Object
	diags.Append(cfg.GetAttribute(ctx, block, &receiver)...)
	switch {
	case receiver.IsUnknown():
		addUnknownError(diags, block, mustBeKnown{name: "callback_receiver", what: "callback receiver"})
	case !receiver.IsNull():
		attrs := receiver.Attributes()
		for _, a := range knownInReceiver {
			if v, ok := attrs[a.name]; ok && v.IsUnknown() {
				addUnknownError(diags, block.AtName(a.name), a)
			}
		}
		if v, ok := attrs["safety_poll_interval"]; ok && v.IsUnknown() {
			addUnknownError(diags, block.AtName("safety_poll_interval"), mustBeKnown{what: "callback receiver safety_poll_interval"})
		}
	}
	return diags.ErrorsCount() == before
}

func addUnknownError(diags *diag.Diagnostics, p path.Path, a mustBeKnown) {
	fix := "Either target apply the source of the value first, or set the value statically in the configuration."
	if a.env != "" {
		fix = fmt.Sprintf("Either target apply the source of the value first, set the value statically in the "+
			"configuration, or use the %s environment variable.", a.env)
	}
	diags.AddAttributeError(p, "Unknown "+a.what,
		fmt.Sprintf("The provider cannot create the KIE API client as there is an unknown configuration value for "+
			"the %s (%s): it comes from something not yet applied. An unknown value is never replaced by an "+
			"environment variable or a default, which could send requests and the API key elsewhere. %s",
			a.what, p, fix))
}
