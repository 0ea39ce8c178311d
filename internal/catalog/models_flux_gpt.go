package catalog

var (
	fluxRatios  = []string{"1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3"}
	gpt2Ratios  = []string{"auto", "1:1", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "16:9", "9:16", "2:1", "1:2", "3:1", "1:3", "21:9", "9:21"}
	grokRatios  = []string{"2:3", "3:2", "1:1", "16:9", "9:16"}
	gpt15Ratios = []string{"1:1", "2:3", "3:2"}
)

func fluxGPTModels() []*Model {
	// Required fields with a documented default only warn when missing (see Validate).
	fluxPro := model("flux-2/pro-text-to-image", "flux-2", "flux2/pro-text-to-image", "Flux 2 Pro text-to-image").with(
		prompt(5000).minLen(3).req(),
		choice("aspect_ratio", "1:1", fluxRatios...).req(),
		choice("resolution", "1K", "1K", "2K").req(),
		nsfw(),
	)
	fluxProI2I := fluxPro.clone("flux-2/pro-image-to-image", "flux2/pro-image-to-image",
		"Flux 2 Pro image-to-image from 1–8 input images").
		imageList("input_urls", true, 1, 8).maxMB(10)
	flexRatios := append(append([]string(nil), fluxRatios...), "auto")
	fluxFlex := fluxPro.clone("flux-2/flex-text-to-image", "flux2/flex-text-to-image", "Flux 2 Flex text-to-image").
		set(choice("aspect_ratio", "1:1", flexRatios...).req())
	fluxFlexI2I := fluxFlex.clone("flux-2/flex-image-to-image", "flux2/flex-image-to-image",
		"Flux 2 Flex image-to-image from 1–8 input images (aspect_ratio auto matches the first)").
		imageList("input_urls", true, 1, 8)

	gpt15 := model("gpt-image/1.5-text-to-image", "gpt-image", "gpt-image/1-5-text-to-image",
		"GPT Image 1.5 text-to-image").with(
		prompt(0).req(),
		choice("aspect_ratio", "1:1", gpt15Ratios...).req(),
		choice("quality", "medium", "medium", "high").req(),
		nsfw(),
	)
	gpt15I2I := gpt15.clone("gpt-image/1.5-image-to-image", "gpt-image/1-5-image-to-image",
		"GPT Image 1.5 image-to-image from up to 16 input images").
		set(choice("aspect_ratio", "3:2", gpt15Ratios...).req()).
		imageList("input_urls", true, 1, 16).maxMB(10)

	gpt2 := model("gpt-image-2-text-to-image", "gpt-image", "gpt/gpt-image-2-text-to-image",
		"GPT Image 2 text-to-image, 1K–4K").with(
		prompt(20000).reqDoubtful(),
		choice("aspect_ratio", "auto", gpt2Ratios...),
		choice("resolution", "", res124K...),
		nsfw(),
	).rule(gptImage2Sizes)
	gpt2I2I := gpt2.clone("gpt-image-2-image-to-image", "gpt/gpt-image-2-image-to-image",
		"GPT Image 2 image-to-image from up to 16 input images, 1K–4K").
		imageList("input_urls", true, 1, 16)

	// Counts are undocumented: pricing bills text-to-image "per 6 images" (speed) or "per 4" (quality).
	grok := model("grok-imagine/text-to-image", "grok-imagine", "grok-imagine/text-to-image",
		"Grok Imagine text-to-image (several images per task)").with(
		prompt(5000).req(),
		choice("aspect_ratio", "1:1", grokRatios...),
		boolean("enable_pro"),
		nsfw(),
	).countUndocumented()
	// The schema allows 5 image URLs but the text says 1: accept 5, warn above 1.
	grokI2I := model("grok-imagine/image-to-image", "grok-imagine", "grok-imagine/image-to-image",
		"Grok Imagine image-to-image").
		imageList("image_urls", true, 1, 5).used(1).
		with(prompt(0), nsfw()).countUndocumented()

	return []*Model{fluxPro, fluxProI2I, fluxFlex, fluxFlexI2I, gpt15, gpt15I2I, gpt2, gpt2I2I, grok, grokI2I}
}
