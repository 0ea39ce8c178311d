package provider

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// httpURLValidator accepts absolute http(s) URLs with a host: the API fetches input images and calls
// callbacks over HTTP, so anything else would only fail later, after a paid task was started.
type httpURLValidator struct{}

func httpURL() validator.String { return httpURLValidator{} }

func (httpURLValidator) Description(context.Context) string {
	return "must be an absolute http:// or https:// URL"
}

func (v httpURLValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (httpURLValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := checkHTTPURL(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid URL",
			fmt.Sprintf("%s must be an absolute http:// or https:// URL: %s.", req.Path, err))
	}
}

func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("cannot parse %q", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// goDurationValidator accepts Go duration strings such as "90s" or "2m".
type goDurationValidator struct{}

func goDuration() validator.String { return goDurationValidator{} }

func (goDurationValidator) Description(context.Context) string {
	return `must be a positive Go duration such as "30s" or "2m"`
}

func (v goDurationValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (goDurationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s must be a positive Go duration such as \"30s\" or \"2m\"; got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}

// notBlankValidator rejects strings that are empty or only white space.
type notBlankValidator struct{}

func notBlank() validator.String { return notBlankValidator{} }

func (notBlankValidator) Description(context.Context) string {
	return "must not be empty or only white space"
}

func (v notBlankValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (notBlankValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if strings.TrimSpace(req.ConfigValue.ValueString()) == "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Empty value",
			fmt.Sprintf("%s must not be empty or only white space.", req.Path))
	}
}

// durationAttr reads an optional duration attribute (timetypes checked its syntax); ok is false when it
// is unset or not positive.
func durationAttr(v timetypes.GoDuration, p path.Path, diags *diag.Diagnostics) (time.Duration, bool) {
	if v.IsNull() || v.IsUnknown() || v.ValueString() == "" {
		return 0, false
	}
	d, vd := v.ValueGoDuration()
	diags.Append(vd...)
	if vd.HasError() || d <= 0 {
		diags.AddAttributeError(p, "Invalid duration", fmt.Sprintf("%s: %q is not a positive Go duration.", p, v.ValueString()))
		return 0, false
	}
	return d, true
}
