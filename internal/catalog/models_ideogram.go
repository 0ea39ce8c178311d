package catalog

var (
	ideogramSpeeds    = []string{"TURBO", "BALANCED", "QUALITY"}
	ideogramStyles    = []string{"AUTO", "GENERAL", "REALISTIC", "DESIGN"}
	ideogramCharStyle = []string{"AUTO", "REALISTIC", "FICTION"}
)

// namedSizes: pages say "6 named sizes" without listing them; the usual six are a guess, so only warn.
func namedSizes(def string) Field {
	return choice("image_size", def, seedreamSizes...).doubtful()
}

func ideogramModels() []*Model {
	t2i := model("ideogram/v3-text-to-image", "ideogram", "ideogram/v3-text-to-image",
		"Ideogram V3 text-to-image").with(
		prompt(5000).reqDoubtful(),
		choice("rendering_speed", "", ideogramSpeeds...),
		choice("style", "", ideogramStyles...),
		boolean("expand_prompt"),
		namedSizes(""),
		seed(),
		text("negative_prompt", 5000),
		nsfw(),
	)

	edit := model("ideogram/v3-edit", "ideogram", "ideogram/v3-edit",
		"Ideogram V3 masked edit (mask the same size as the image)").
		imageURL("image_url", true).maxMB(10).
		with(
			url("mask_url").req(),
			prompt(0).reqDoubtful(),
			choice("rendering_speed", "BALANCED", ideogramSpeeds...),
			boolean("expand_prompt").def(true),
			seed(),
			nsfw(),
		)

	remix := model("ideogram/v3-remix", "ideogram", "ideogram/v3-remix", "Ideogram V3 remix of one image, 1–4 results").
		imageURL("image_url", true).
		with(
			prompt(0).reqDoubtful(),
			choice("style", "", ideogramStyles...),
			namedSizes(""),
			intString("num_images", 1, 4),
			number("strength", 0.01, 1),
			seed(),
			text("negative_prompt", 0),
			nsfw(),
		).count("num_images")

	// KIE says only one reference image is used.
	charFields := []Field{
		prompt(0).reqDoubtful(),
		choice("style", "", ideogramCharStyle...),
		choice("rendering_speed", "", ideogramSpeeds...),
		intString("num_images", 1, 4),
		namedSizes(""),
		seed(),
		text("negative_prompt", 0),
		nsfw(),
	}
	char := model("ideogram/character", "ideogram", "ideogram/character",
		"Ideogram Character: new images of the character in a reference image, 1–4 results").
		imageList("reference_image_urls", true, 1, 0).doubtfulImages().used(1).
		with(charFields...).count("num_images")
	charEdit := model("ideogram/character-edit", "ideogram", "ideogram/character-edit",
		"Ideogram Character masked edit keeping a reference character, 1–4 results").
		imageURL("image_url", true).
		with(url("mask_url").req(), urls("reference_image_urls").reqDoubtful()).
		with(charFields...).count("num_images")
	charRemix := model("ideogram/character-remix", "ideogram", "ideogram/character-remix",
		"Ideogram Character remix of one image keeping a reference character, 1–4 results").
		imageURL("image_url", true).
		with(urls("reference_image_urls").reqDoubtful(), urls("image_urls"), urls("reference_mask_urls")).
		with(charFields...).count("num_images")

	// Reframe is not in KIE's page snapshot; its fields come from third-party code only.
	reframe := model("ideogram/v3-reframe", "ideogram", "ideogram/v3-reframe",
		"Ideogram V3 reframe (extend one image to a new size)").
		imageURL("image_url", true).
		with(
			namedSizes(""),
			choice("rendering_speed", "", ideogramSpeeds...),
			choice("style", "", ideogramStyles...),
			intString("num_images", 1, 4),
			seed(),
		).count("num_images").uncertain()

	return []*Model{t2i, edit, remix, char, charEdit, charRemix, reframe}
}
