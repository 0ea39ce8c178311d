package catalog

var zImageRatios = []string{"1:1", "4:3", "3:4", "16:9", "9:16"}

func otherModels() []*Model {
	zimg := model("z-image", "z-image", "z-image/z-image", "Z-Image text-to-image").with(
		prompt(1000).req(),
		choice("aspect_ratio", "1:1", zImageRatios...).req(),
		nsfw(),
	)

	// Wan 2.7 facts come from a locally edited mirror: every problem is a warning and the field list is partial.
	wan := model("wan/2-7-image", "wan", "wan/2-7-image",
		"Wan 2.7 text-to-image or image-to-image with up to 9 input images, 1–4 results (12 in sequential mode)").
		with(prompt(5000).reqDoubtful()).
		imageList("input_urls", false, 0, 9).
		with(
			integer("n").between(1, 12),
			boolean("enable_sequential"),
			choice("resolution", "", "1K", "2K"),
			text("aspect_ratio", 0),
			seed(),
			boolean("watermark"),
		).count("n").rule(wanSequential).uncertain().partial()
	wanPro := wan.clone("wan/2-7-image-pro", "wan/2-7-image-pro",
		"Wan 2.7 Pro text-to-image or image-to-image, 1K–4K (4K text-to-image only)").
		set(choice("resolution", "", res124K...)).rule(wanPro4K)

	removeBG := model("recraft/remove-background", "recraft", "recraft/remove-background",
		"Recraft background removal (utility)").imageURL("image", true).maxMB(5)
	crisp := model("recraft/crisp-upscale", "recraft", "recraft/crisp-upscale",
		"Recraft Crisp upscale (utility)").imageURL("image", true)
	upscaleFactor := intString("upscale_factor", 1, 8)
	upscaleFactor.Enum, upscaleFactor.Default = []string{"1", "2", "4", "8"}, "2"
	topaz := model("topaz/image-upscale", "topaz", "topaz/image-upscale", "Topaz image upscale by 1, 2, 4 or 8 (utility)").
		imageURL("image_url", true).with(upscaleFactor)

	return []*Model{zimg, wan, wanPro, removeBG, crisp, topaz}
}
