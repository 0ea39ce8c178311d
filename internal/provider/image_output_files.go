package provider

import (
	"context"

	"github.com/kie-community/terraform-provider-kie/internal/catalog"
)

// plannedFiles are the files a planned kie_image writes: output_path and, where the number of
// results is known (from state, or from the catalogue and the input), the "-2", "-3", ... paths.
func (m *imageModel) plannedFiles(ctx context.Context) []string {
	if m.OutputPath.IsNull() || m.OutputPath.IsUnknown() {
		return nil
	}
	n := 1
	if !m.Results.IsNull() && !m.Results.IsUnknown() && len(m.Results.Elements()) > 0 {
		n = len(m.results(ctx))
	} else if model, ok := catalog.Lookup(m.Model.ValueString()); ok {
		if input, err := m.inputJSON(catalog.Unknown); err == nil {
			if c, known := catalog.ResultCount(model, input); known && c > 1 {
				n = c
			}
		}
	}
	paths := make([]string, n)
	for i := range paths {
		paths[i] = resultPath(m.OutputPath.ValueString(), i)
	}
	return paths
}

// writerName describes the image in another instance's diagnostics: its model and prompt.
func (m *imageModel) writerName() string {
	prompt := ""
	if input, err := m.inputJSON(catalog.Unknown); err == nil {
		prompt, _ = input["prompt"].(string)
	}
	return describeWriter(imageTypeName, "model", m.Model.ValueString(), "prompt", prompt)
}
