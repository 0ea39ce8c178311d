package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// configureWith runs Configure on a configuration whose attributes are null but for set; receiver, when
// not nil, is the callback_receiver block's attributes (null but for those given), or tftypes.UnknownValue
// for an unknown block.
func configureWith(t *testing.T, set map[string]tftypes.Value, receiver any) *provider.ConfigureResponse {
	t.Helper()
	ctx := context.Background()
	p := &kieProvider{version: "test"}
	var sresp provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &sresp)
	typ, ok := sresp.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("the provider schema is not an object")
	}
	vals := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		vals[name] = tftypes.NewValue(at, nil)
	}
	for name, v := range set {
		vals[name] = v
	}
	rtyp := typ.AttributeTypes["callback_receiver"].(tftypes.Object)
	switch r := receiver.(type) {
	case nil:
	case map[string]tftypes.Value:
		attrs := map[string]tftypes.Value{}
		for name, at := range rtyp.AttributeTypes {
			attrs[name] = tftypes.NewValue(at, nil)
		}
		for name, v := range r {
			attrs[name] = v
		}
		vals["callback_receiver"] = tftypes.NewValue(rtyp, attrs)
	default:
		vals["callback_receiver"] = tftypes.NewValue(rtyp, r)
	}
	resp := &provider.ConfigureResponse{}
	p.Configure(ctx, provider.ConfigureRequest{
		Config: tfsdk.Config{Schema: sresp.Schema, Raw: tftypes.NewValue(typ, vals)},
	}, resp)
	return resp
}

func unknownString() tftypes.Value { return tftypes.NewValue(tftypes.String, tftypes.UnknownValue) }
func knownString(s string) tftypes.Value {
	return tftypes.NewValue(tftypes.String, s)
}

// TestConfigure_unknownArgumentsFailInsteadOfFallingBack: every argument that decides where requests go,
// which secret they carry or how much may be spent fails Configure with an error on that argument when its
// value is unknown, although environment variables that could replace it are set: those must not be used.
func TestConfigure_unknownArgumentsFailInsteadOfFallingBack(t *testing.T) {
	t.Setenv(envAPIKey, "env-key-0123456789")
	t.Setenv(envBaseURL, "http://127.0.0.1:9/env-base")
	t.Setenv(envUploadBaseURL, "http://127.0.0.1:9/env-upload")
	t.Setenv(envMaxNewImages, "5")
	t.Setenv(envCallbackKey, "env-hmac-key")
	loopback := knownString("127.0.0.1:0")
	for _, tc := range []struct {
		name     string
		set      map[string]tftypes.Value
		receiver any
		path     path.Path
		summary  string
		env      string
	}{
		{name: "api_key", set: map[string]tftypes.Value{"api_key": unknownString()},
			path: path.Root("api_key"), summary: "Unknown KIE API key", env: envAPIKey},
		{name: "base_url", set: map[string]tftypes.Value{"base_url": unknownString()},
			path: path.Root("base_url"), summary: "Unknown KIE API base URL", env: envBaseURL},
		{name: "upload_base_url", set: map[string]tftypes.Value{"upload_base_url": unknownString()},
			path: path.Root("upload_base_url"), summary: "Unknown KIE upload base URL", env: envUploadBaseURL},
		{name: "max_new_images", set: map[string]tftypes.Value{"max_new_images": tftypes.NewValue(tftypes.Number, tftypes.UnknownValue)},
			path: path.Root("max_new_images"), summary: "Unknown spend limit", env: envMaxNewImages},
		{name: "request_timeout", set: map[string]tftypes.Value{"request_timeout": unknownString()},
			path: path.Root("request_timeout"), summary: "Unknown request_timeout"},
		{name: "create_rate_limit", set: map[string]tftypes.Value{"create_rate_limit": tftypes.NewValue(tftypes.Number, tftypes.UnknownValue)},
			path: path.Root("create_rate_limit"), summary: "Unknown create_rate_limit"},
		{name: "safety_poll_interval", receiver: map[string]tftypes.Value{"listen_address": loopback, "safety_poll_interval": unknownString()},
			path: path.Root("callback_receiver").AtName("safety_poll_interval"), summary: "Unknown callback receiver safety_poll_interval"},
		{name: "callback_receiver block", receiver: tftypes.UnknownValue,
			path: path.Root("callback_receiver"), summary: "Unknown callback receiver"},
		{name: "listen_address", receiver: map[string]tftypes.Value{"listen_address": unknownString()},
			path: path.Root("callback_receiver").AtName("listen_address"), summary: "Unknown callback receiver listen address"},
		{name: "public_url", receiver: map[string]tftypes.Value{"listen_address": loopback, "public_url": unknownString()},
			path: path.Root("callback_receiver").AtName("public_url"), summary: "Unknown callback receiver public URL"},
		{name: "hmac_key", receiver: map[string]tftypes.Value{"listen_address": loopback, "hmac_key": unknownString()},
			path: path.Root("callback_receiver").AtName("hmac_key"), summary: "Unknown callback receiver HMAC key", env: envCallbackKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := configureWith(t, tc.set, tc.receiver)
			if resp.ResourceData != nil || resp.DataSourceData != nil {
				t.Error("Configure handed out a client built from fallback values")
			}
			errs := resp.Diagnostics.Errors()
			if len(errs) != 1 {
				t.Fatalf("want exactly one error, got %v", resp.Diagnostics)
			}
			d := errs[0]
			wp, ok := d.(interface{ Path() path.Path })
			if !ok || !wp.Path().Equal(tc.path) {
				t.Errorf("the error is not on %s: %v", tc.path, d)
			}
			if !strings.HasPrefix(d.Summary(), tc.summary) {
				t.Errorf("summary %q, want %q", d.Summary(), tc.summary)
			}
			for _, want := range []string{"target apply the source of the value first", "set the value statically"} {
				if !strings.Contains(d.Detail(), want) {
					t.Errorf("detail lacks %q: %s", want, d.Detail())
				}
			}
			if tc.env != "" && !strings.Contains(d.Detail(), tc.env) {
				t.Errorf("detail does not name %s: %s", tc.env, d.Detail())
			}
		})
	}
}

// TestConfigure_knownArgumentsStillConfigure is the control: the same arguments, known, configure a client.
func TestConfigure_knownArgumentsStillConfigure(t *testing.T) {
	resp := configureWith(t, map[string]tftypes.Value{
		"api_key":         knownString("cfg-key-0123456789"),
		"base_url":        knownString("http://127.0.0.1:9"),
		"upload_base_url": knownString("http://127.0.0.1:9"),
		"max_new_images":  tftypes.NewValue(tftypes.Number, 3),
	}, map[string]tftypes.Value{"listen_address": knownString("127.0.0.1:0"), "hmac_key": knownString("k")})
	if resp.Diagnostics.HasError() || resp.ResourceData == nil {
		t.Fatalf("Configure failed: %v", resp.Diagnostics)
	}
	// Unset arguments still fall back to the environment, as documented.
	t.Setenv(envBaseURL, "http://127.0.0.1:9")
	if resp := configureWith(t, nil, nil); resp.Diagnostics.HasError() || resp.ResourceData == nil {
		t.Fatalf("Configure of an empty block failed: %v", resp.Diagnostics)
	}
}

// unknownConfigCase is one provider argument made unknown by taking it from a terraform_data resource
// that is not applied yet.
type unknownConfigCase struct {
	name    string
	replace string // the line of providerBlock to replace ("" to add the line)
	line    string // the provider block line that reads terraform_data.src.output
	extra   string // inside the provider block
	env     map[string]string
	err     []string
}

// TestAccProviderUnknownConfig_neverFallsBack: a provider argument that comes from a resource not yet
// applied must fail the plan with an error that names it, and must not be replaced by an environment
// variable: here the environment points at a decoy mock that accepts the same key, so a fallback would
// read credits from (and send the key to) the decoy. Neither mock may see any request or create any task,
// of either image API.
func TestAccProviderUnknownConfig_neverFallsBack(t *testing.T) {
	srv := testMock(t, kiemock.Options{})
	decoy := testMock(t, kiemock.Options{})
	cases := []unknownConfigCase{
		{
			name: "base_url", replace: "base_url          = " + hcl(srv.URL()),
			line: "base_url = terraform_data.src.output", env: map[string]string{envBaseURL: decoy.URL()},
			err: []string{"Unknown KIE API base URL", "target apply the source of the value first", envBaseURL},
		},
		{
			name: "upload_base_url", replace: "upload_base_url   = " + hcl(srv.URL()),
			line: "upload_base_url = terraform_data.src.output", env: map[string]string{envUploadBaseURL: decoy.URL()},
			err: []string{"Unknown KIE upload base URL", envUploadBaseURL},
		},
		{
			name: "api_key", replace: "api_key           = " + hcl(testAPIKey),
			line: "api_key = terraform_data.src.output", env: map[string]string{envAPIKey: testAPIKey},
			err: []string{"Unknown KIE API key", envAPIKey},
		},
		{
			name: "callback_receiver.public_url",
			extra: `callback_receiver = {
    listen_address = "127.0.0.1:0"
    public_url     = terraform_data.src.output
  }`,
			err: []string{"Unknown callback receiver public URL", "set the value statically"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			block := providerBlock(srv, tc.extra)
			if tc.replace != "" {
				if !strings.Contains(block, tc.replace) {
					t.Fatalf("the provider block lacks %q:\n%s", tc.replace, block)
				}
				block = strings.Replace(block, tc.replace, tc.line, 1)
			}
			cfg := block + fmt.Sprintf(`
resource "terraform_data" "src" {
  input = %q
}

data "kie_credits" "account" {}

resource "kie_flux_image" "test" {
  prompt = "a harbour at night"
}

resource "kie_image" "test" {
  model = "google/nano-banana"
  input = { prompt = "a harbour at dawn" }
}
`, srv.URL())
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviderFactories,
				Steps: []resource.TestStep{{
					Config:      cfg,
					ExpectError: errText(tc.err...),
				}},
			})
			for name, s := range map[string]*kiemock.Server{"mock": srv, "decoy": decoy} {
				st := s.Stats()
				if st != (kiemock.Stats{}) {
					t.Errorf("the %s was used (tasks created %d, credit queries %d); want no request at all (stats %+v)",
						name, st.TasksCreated, st.CreditQueries, st)
				}
			}
		})
	}
}
