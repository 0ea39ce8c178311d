package catalog

var (
	seedreamSizes   = []string{"square", "square_hd", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"}
	seedreamV4Sizes = append(append([]string(nil), seedreamSizes...), "portrait_3_2", "landscape_3_2", "landscape_21_9")
	seedream45Ratio = []string{"1:1", "4:3", "3:4", "16:9", "9:16", "2:3", "3:2", "21:9"}
)

func seedreamModels() []*Model {
	v3 := model("bytedance/seedream", "seedream", "seedream/seedream", "Seedream 3.0 text-to-image").with(
		prompt(5000).reqDoubtful(),
		choice("image_size", "square_hd", seedreamSizes...),
		number("guidance_scale", 1, 10).def(2.5),
		seed(),
		nsfw(),
	)

	v4 := model("bytedance/seedream-v4-text-to-image", "seedream", "seedream/seedream-v4-text-to-image",
		"Seedream 4.0 text-to-image, up to 6 images per task").with(
		prompt(5000).reqDoubtful(),
		choice("image_size", "square_hd", seedreamV4Sizes...),
		choice("image_resolution", "1K", res124K...),
		integer("max_images").between(1, 6).def(1.0),
		seed(),
		nsfw(),
	).count("max_images")
	v4Edit := v4.clone("bytedance/seedream-v4-edit", "seedream/seedream-v4-edit",
		"Seedream 4.0 edit from up to 10 input images, up to 6 images per task").
		imageList("image_urls", true, 1, 10).maxMB(10)

	// aspect_ratio and quality are marked required yet have defaults: a missing one is only a warning.
	v45 := model("seedream/4.5-text-to-image", "seedream", "seedream/4-5-text-to-image",
		"Seedream 4.5 text-to-image, basic (2K) or high (4K) quality").with(
		prompt(3000).req(),
		choice("aspect_ratio", "1:1", seedream45Ratio...).req(),
		choice("quality", "basic", "basic", "high").req(),
		nsfw(),
	)
	v45Edit := v45.clone("seedream/4.5-edit", "seedream/4-5-edit", "Seedream 4.5 edit from up to 14 input images").
		imageList("image_urls", true, 1, 14).maxMB(10)

	// output_format is reported by third parties only.
	lite := model("seedream/5-lite-text-to-image", "seedream", "seedream/5-lite-text-to-image",
		"Seedream 5 Lite text-to-image").with(
		prompt(3000).minLen(3).reqDoubtful(),
		choice("aspect_ratio", "1:1", seedream45Ratio...),
		choice("quality", "basic", "basic", "high"),
		choice("output_format", "", "png", "jpeg").doubtful(),
		nsfw(),
	)
	liteI2I := lite.clone("seedream/5-lite-image-to-image", "seedream/seedream-5-lite-image-to-image",
		"Seedream 5 Lite image-to-image from up to 14 input images").
		imageList("image_urls", true, 1, 14).doubtfulImages()

	// The 5 Pro pages were not read in detail: only the image limit is known.
	pro := model("seedream/5-pro-text-to-image", "seedream", "seedream/5-pro-text-to-image",
		"Seedream 5 Pro text-to-image").with(prompt(0).reqDoubtful(), nsfw()).uncertain().partial()
	proI2I := pro.clone("seedream/5-pro-image-to-image", "seedream/5-pro-image-to-image",
		"Seedream 5 Pro image-to-image from up to 10 input images").
		imageList("image_urls", true, 1, 10).doubtfulImages()

	return []*Model{v3, v4, v4Edit, v45, v45Edit, lite, liteI2I, pro, proI2I}
}
