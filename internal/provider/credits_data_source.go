package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = (*creditsDataSource)(nil)

// creditsDataSource reads the account balance, so a configuration can refuse to plan what it cannot pay.
type creditsDataSource struct {
	data *providerData
}

func newCreditsDataSource() datasource.DataSource { return &creditsDataSource{} }

type creditsModel struct {
	ID      types.String  `tfsdk:"id"`
	Credits types.Float64 `tfsdk:"credits"`
}

func (d *creditsDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_credits"
}

func (d *creditsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The KIE account's remaining credits, read at plan time. Combine it with a `precondition` " +
			"to stop a plan that would start more generations than the account can pay for.",
		Attributes: map[string]schema.Attribute{
			"id":      schema.StringAttribute{MarkdownDescription: "Always `credits`.", Computed: true},
			"credits": schema.Float64Attribute{MarkdownDescription: "Remaining credits.", Computed: true},
		},
	}
}

func (d *creditsDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = dataSourceProviderData(req, resp)
}

func (d *creditsDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if d.data == nil || !d.data.requireAPIKey("Reading the account's credits", &resp.Diagnostics) {
		return
	}
	ctx = d.data.logContext(ctx)
	credits, err := d.data.client.Credits(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Reading credits failed", fmt.Sprintf("%s", err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &creditsModel{
		ID:      types.StringValue("credits"),
		Credits: types.Float64Value(credits),
	})...)
}
