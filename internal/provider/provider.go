// Package provider is the Terraform plugin framework glue for KIE's image APIs.
package provider

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timetypes/timetypes"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/kie-community/terraform-provider-kie/internal/kie"
	"github.com/kie-community/terraform-provider-kie/internal/localstate"
	"github.com/kie-community/terraform-provider-kie/internal/paidtask"
)

// Environment variables read when the matching provider argument is not set.
const (
	envAPIKey        = "KIE_API_KEY"
	envBaseURL       = "KIE_BASE_URL"
	envUploadBaseURL = "KIE_UPLOAD_BASE_URL"
	envMaxNewImages  = "KIE_MAX_NEW_IMAGES"
	envCallbackKey   = "KIE_CALLBACK_HMAC_KEY"
)

var _ provider.Provider = (*kieProvider)(nil)

// kieProvider is one provider instance; everything it owns (the shared client, the spend counter and the
// pool of resumable tasks) lives here, never in package variables.
type kieProvider struct {
	version string
	commit  string
	// onConfigure hands what Configure produced to the protocol server (protocol.go); nil in tests
	// that serve the framework alone.
	onConfigure func(*providerData)
}

// New returns the provider factory used by main and by the acceptance tests.
func New(version, commit string) func() provider.Provider {
	return func() provider.Provider {
		return &kieProvider{version: version, commit: commit}
	}
}

type providerModel struct {
	APIKey            types.String         `tfsdk:"api_key"`
	BaseURL           types.String         `tfsdk:"base_url"`
	UploadBaseURL     types.String         `tfsdk:"upload_base_url"`
	RequestTimeout    timetypes.GoDuration `tfsdk:"request_timeout"`
	PollMinInterval   timetypes.GoDuration `tfsdk:"poll_min_interval"`
	PollMaxInterval   timetypes.GoDuration `tfsdk:"poll_max_interval"`
	CreateRateLimit   types.Int64          `tfsdk:"create_rate_limit"`
	CreateRateWindow  timetypes.GoDuration `tfsdk:"create_rate_window"`
	StatusQueryRate   types.Float64        `tfsdk:"status_query_rate"`
	MaxNewImages      types.Int64          `tfsdk:"max_new_images"`
	MaxDownloadMBytes types.Int64          `tfsdk:"max_download_mb"`
	PollInitialDelay  timetypes.GoDuration `tfsdk:"poll_initial_delay"`
	CallbackReceiver  *receiverModel       `tfsdk:"callback_receiver"`
}

type receiverModel struct {
	ListenAddress      types.String         `tfsdk:"listen_address"`
	PublicURL          types.String         `tfsdk:"public_url"`
	HMACKey            types.String         `tfsdk:"hmac_key"`
	SafetyPollInterval timetypes.GoDuration `tfsdk:"safety_poll_interval"`
}

func (p *kieProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "kie"
	resp.Version = p.version
}

func (p *kieProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The KIE provider generates and edits images with KIE's current Market image models " +
			"(`kie_image`) and its Flux Kontext API (`kie_flux_image`). Every generation is a paid task: the provider " +
			"never retries a generation request whose outcome is unknown, keeps every task id in state, " +
			"and restores lost local files by downloading again, never by generating again.",
		Attributes: map[string]schema.Attribute{
			"api_key": schema.StringAttribute{
				MarkdownDescription: "KIE API key, sent as a Bearer token. Defaults to the `KIE_API_KEY` " +
					"environment variable when `api_key` is not set (or is `null`); an empty string is not " +
					"replaced by `KIE_API_KEY`. Only needed once the API is called: plans and refreshes of " +
					"finished images, and destroys, work without it. Without a key, a plan that creates or " +
					"replaces an image, finishes a task still running, imports a task or reads a data source " +
					"fails before anything is sent or paid, with an error naming `api_key` (`terraform destroy` " +
					"runs such a plan first to refresh: add `-refresh=false` to destroy without a key).",
				Optional:  true,
				Sensitive: true,
			},
			"base_url": schema.StringAttribute{
				MarkdownDescription: "Base URL of the KIE API. Defaults to the `KIE_BASE_URL` environment " +
					"variable, then `" + kie.DefaultBaseURL + "`. Point it at `kie-mock` to test without paying.",
				Optional:   true,
				Validators: []validator.String{httpURL()},
			},
			"upload_base_url": schema.StringAttribute{
				MarkdownDescription: "Base URL of KIE's file-upload API, used by `input_image_file`. Defaults " +
					"to the `KIE_UPLOAD_BASE_URL` environment variable, then `" + kie.DefaultUploadBaseURL + "`.",
				Optional:   true,
				Validators: []validator.String{httpURL()},
			},
			"request_timeout": schema.StringAttribute{
				CustomType:          timetypes.GoDurationType{},
				MarkdownDescription: "Timeout of one HTTP request, as a Go duration such as `60s`. Default `" + secondsText(kie.DefaultRequestTimeout) + "`.",
				Optional:            true,
				Validators:          []validator.String{goDuration()},
			},
			"poll_min_interval": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: "Shortest wait between two status queries of one task, as a Go duration. " +
					"Default `" + secondsText(kie.DefaultPollMin) + "`. The wait grows towards `poll_max_interval` while a task runs.",
				Optional:   true,
				Validators: []validator.String{goDuration()},
			},
			"poll_max_interval": schema.StringAttribute{
				CustomType:          timetypes.GoDurationType{},
				MarkdownDescription: "Longest wait between two status queries of one task. Default `" + secondsText(kie.DefaultPollMax) + "`.",
				Optional:            true,
				Validators:          []validator.String{goDuration()},
			},
			"poll_initial_delay": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: "How long to wait before the first status query of a new task, as a Go duration. " +
					"Default `" + secondsText(kie.DefaultFirstPoll) + "`: generations take 10 to 30 seconds, so earlier queries only spend the query budget.",
				Optional:   true,
				Validators: []validator.String{goDuration()},
			},
			"create_rate_limit": schema.Int64Attribute{
				MarkdownDescription: "Most new generations this provider starts per `create_rate_window` (10 seconds), " +
					"shared by all resources. Default `" + strconv.Itoa(kie.DefaultCreateLimit) + "`, KIE's account limit. A ceiling: " +
					"when KIE refuses requests (other runs share the account), the provider slows below it and recovers gradually.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"create_rate_window": schema.StringAttribute{
				CustomType: timetypes.GoDurationType{},
				MarkdownDescription: "The window `create_rate_limit` counts in, as a Go duration. Default `" + secondsText(kie.DefaultCreateWindow) + "`, KIE's. " +
					"Change it only for an API (or a time-scaled `kie-mock`) with other limits.",
				Optional:   true,
				Validators: []validator.String{goDuration()},
			},
			"status_query_rate": schema.Float64Attribute{
				MarkdownDescription: "Most status queries per second, shared by all resources. Default `" + strconv.FormatFloat(kie.DefaultQueryRate, 'f', -1, 64) + "`. " +
					"A ceiling, like `create_rate_limit`: a 429 slows queries down, and they recover gradually.",
				Optional:   true,
				Validators: []validator.Float64{float64validator.AtLeast(0.1)},
			},
			"max_new_images": schema.Int64Attribute{
				MarkdownDescription: "Spend guard: the most paid generations one run may start (one plan, and " +
					"one apply; each run of a `terraform test` file on its own). A plan that would start more (creates " +
					"and replacements together) fails before anything is paid, and the apply refuses any generation " +
					"beyond it. Finishing an interrupted task does not count. Every planned resource instance counts, " +
					"identical ones too; the apply counts every request it sends. " +
					"Defaults to the `KIE_MAX_NEW_IMAGES` environment variable; unset means no limit.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(0)},
			},
			"max_download_mb": schema.Int64Attribute{
				MarkdownDescription: "Largest result image the provider downloads, in MiB. Default `" + strconv.Itoa(kie.DefaultMaxDownloadMiB) + "`.",
				Optional:            true,
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"callback_receiver": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Receive KIE's task-end callbacks instead of polling: the provider listens on " +
					"`listen_address`, sends `public_url` as every task's `callBackUrl` (replacing `callback_url`), " +
					"and queries a task only once its callback arrived, or every `safety_poll_interval` in case a " +
					"callback is lost. Off when unset.",
				Attributes: map[string]schema.Attribute{
					"listen_address": schema.StringAttribute{
						MarkdownDescription: "Local address to listen on, such as `127.0.0.1:8700` or `:8700`.",
						Required:            true,
					},
					"public_url": schema.StringAttribute{
						MarkdownDescription: "The URL at which KIE reaches the listener (through your ingress or tunnel). " +
							"May be omitted only when `listen_address` is a loopback address, for a local `kie-mock`.",
						Optional:   true,
						Validators: []validator.String{httpURL()},
					},
					"hmac_key": schema.StringAttribute{
						MarkdownDescription: "Key of KIE's webhook signing (`X-Webhook-Signature`). When set, callbacks " +
							"without a valid, recent signature are refused. Defaults to the `KIE_CALLBACK_HMAC_KEY` environment variable.",
						Optional:  true,
						Sensitive: true,
					},
					"safety_poll_interval": schema.StringAttribute{
						CustomType:          timetypes.GoDurationType{},
						MarkdownDescription: "How often to query a task whose callback has not arrived. Default `" + secondsText(kie.DefaultCallbackPolling) + "`.",
						Optional:            true,
						Validators:          []validator.String{goDuration()},
					},
				},
			},
		},
	}
}

func (p *kieProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	if !requireKnownConfig(ctx, req.Config, &resp.Diagnostics) {
		return
	}
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}

	apiKey, keyProblem := resolveAPIKey(cfg.APIKey)
	baseURL := stringOrEnv(cfg.BaseURL, envBaseURL, kie.DefaultBaseURL)
	uploadURL := stringOrEnv(cfg.UploadBaseURL, envUploadBaseURL, kie.DefaultUploadBaseURL)

	opts := []kie.Option{
		kie.WithBaseURL(baseURL),
		kie.WithUploadBaseURL(uploadURL),
		kie.WithUserAgent(fmt.Sprintf("terraform-provider-kie/%s (+%s)", p.version, req.TerraformVersion)),
		kie.WithLogger(tflogLogger{}),
	}
	if d, ok := durationAttr(cfg.RequestTimeout, path.Root("request_timeout"), &resp.Diagnostics); ok {
		opts = append(opts, kie.WithRequestTimeout(d))
	}
	minPoll, okMin := durationAttr(cfg.PollMinInterval, path.Root("poll_min_interval"), &resp.Diagnostics)
	maxPoll, okMax := durationAttr(cfg.PollMaxInterval, path.Root("poll_max_interval"), &resp.Diagnostics)
	if okMin || okMax {
		if !okMin {
			minPoll = kie.DefaultPollMin
		}
		if !okMax {
			maxPoll = kie.DefaultPollMax
		}
		if maxPoll < minPoll {
			resp.Diagnostics.AddAttributeError(path.Root("poll_max_interval"), "Invalid poll interval",
				fmt.Sprintf("poll_max_interval (%s) must not be shorter than poll_min_interval (%s).", maxPoll, minPoll))
		}
		opts = append(opts, kie.WithPollInterval(minPoll, maxPoll))
	}
	createN, createWindow := int64(kie.DefaultCreateLimit), kie.DefaultCreateWindow
	if !cfg.CreateRateLimit.IsNull() && !cfg.CreateRateLimit.IsUnknown() {
		createN = cfg.CreateRateLimit.ValueInt64()
	}
	if d, ok := durationAttr(cfg.CreateRateWindow, path.Root("create_rate_window"), &resp.Diagnostics); ok {
		createWindow = d
	}
	opts = append(opts, kie.WithCreateLimit(int(createN), createWindow))
	if !cfg.StatusQueryRate.IsNull() && !cfg.StatusQueryRate.IsUnknown() {
		opts = append(opts, kie.WithQueryRate(cfg.StatusQueryRate.ValueFloat64()))
	}
	if d, ok := durationAttr(cfg.PollInitialDelay, path.Root("poll_initial_delay"), &resp.Diagnostics); ok {
		opts = append(opts, kie.WithFirstPollDelay(d))
	}
	receiver := configureReceiver(cfg.CallbackReceiver, &resp.Diagnostics)
	if receiver != nil {
		interval, ok := durationAttr(cfg.CallbackReceiver.SafetyPollInterval,
			path.Root("callback_receiver").AtName("safety_poll_interval"), &resp.Diagnostics)
		if !ok {
			interval = kie.DefaultCallbackPolling
		}
		opts = append(opts, kie.WithCallbackPolling(interval))
	}
	if !cfg.MaxDownloadMBytes.IsNull() && !cfg.MaxDownloadMBytes.IsUnknown() {
		opts = append(opts, kie.WithMaxDownloadBytes(cfg.MaxDownloadMBytes.ValueInt64()<<20))
	}

	limit := int64(-1)
	switch {
	case !cfg.MaxNewImages.IsNull() && !cfg.MaxNewImages.IsUnknown():
		limit = cfg.MaxNewImages.ValueInt64()
	case os.Getenv(envMaxNewImages) != "":
		n, err := strconv.ParseInt(os.Getenv(envMaxNewImages), 10, 64)
		if err != nil || n < 0 {
			resp.Diagnostics.AddAttributeError(path.Root("max_new_images"), "Invalid "+envMaxNewImages,
				fmt.Sprintf("%s must be a whole number of images, 0 or more; got %q.", envMaxNewImages, os.Getenv(envMaxNewImages)))
		}
		limit = n
	}
	if resp.Diagnostics.HasError() {
		return
	}

	data := &providerData{
		client:     kie.New(apiKey, opts...),
		apiKey:     apiKey,
		keyProblem: keyProblem,
		tasks:      paidtask.New(localstate.NewLedger(localstate.LedgerDir(), baseURL), paidtask.NewSpendGuard(limit)),
		files:      localstate.NewFileIndex(localstate.FileIndexDir()),
		walks:      &planWalks{},
	}
	if receiver != nil {
		hmacKey := stringOrEnv(cfg.CallbackReceiver.HMACKey, envCallbackKey, "")
		receiver.handler = kie.NewCallbackHandler(data.client, hmacKey)
		receiver.secrets = []string{apiKey, hmacKey}
		data.receiver = receiver
	}
	resp.ResourceData = data
	resp.DataSourceData = data
	if p.onConfigure != nil {
		p.onConfigure(data)
	}
}

func (p *kieProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newFluxImageResource,
		newImageResource,
	}
}

func (p *kieProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newFluxTaskDataSource,
		newMarketTaskDataSource,
		newCreditsDataSource,
	}
}

// configureReceiver validates the callback_receiver block; nil when it is absent.
func configureReceiver(m *receiverModel, diags *diag.Diagnostics) *callbackReceiver {
	if m == nil {
		return nil
	}
	block := path.Root("callback_receiver")
	if m.ListenAddress.IsNull() || m.ListenAddress.ValueString() == "" {
		diags.AddAttributeError(block.AtName("listen_address"), "Missing listen_address",
			"callback_receiver needs listen_address, the local address to receive KIE's callbacks on.")
		return nil
	}
	r := &callbackReceiver{listen: m.ListenAddress.ValueString(), publicURL: m.PublicURL.ValueString()}
	if r.publicURL == "" && !loopbackOnly(r.listen) {
		diags.AddAttributeError(block.AtName("public_url"), "Missing public_url",
			"callback_receiver.public_url is required unless listen_address is a loopback address: KIE must know where to call.")
		return nil
	}
	return r
}

// secondsText writes a default duration as the configuration would, "60s" rather than "1m0s".
func secondsText(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// stringOrEnv picks the configured value, then the environment variable, then the default.
func stringOrEnv(v types.String, env, def string) string {
	if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
		return v.ValueString()
	}
	if s := os.Getenv(env); s != "" {
		return s
	}
	return def
}
