package catalog

var (
	qwenAccel  = []string{"none", "regular", "high"}
	qwen2Ratio = []string{"1:1", "3:4", "4:3", "9:16", "16:9"}
)

func qwenModels() []*Model {
	t2i := model("qwen/text-to-image", "qwen", "qwen/text-to-image", "Qwen Image text-to-image").with(
		prompt(5000).reqDoubtful(),
		namedSizes("square_hd"),
		integer("num_inference_steps").between(2, 250).def(30.0),
		number("guidance_scale", 0, 20).def(2.5),
		seed(),
		text("negative_prompt", 500),
		choice("acceleration", "", qwenAccel...),
		choice("output_format", "", "png", "jpeg"),
		boolean("enable_safety_checker"),
		nsfw(),
	)

	// The image-to-image page lists "steps" without a range; the name is assumed to match text-to-image.
	i2i := model("qwen/image-to-image", "qwen", "qwen/image-to-image", "Qwen Image image-to-image from one image").
		imageURL("image_url", true).
		with(
			prompt(0).reqDoubtful(),
			number("strength", 0, 1).def(0.8),
			choice("output_format", "", "png", "jpeg"),
			choice("acceleration", "", qwenAccel...),
			text("negative_prompt", 0),
			seed(),
			integer("num_inference_steps").doubtful(),
			nsfw(),
		)

	edit := model("qwen/image-edit", "qwen", "qwen/image-edit", "Qwen Image edit of one image, 1–4 results").
		imageURL("image_url", true).
		with(
			prompt(2000).reqDoubtful(),
			namedSizes("landscape_4_3"),
			integer("num_inference_steps").between(2, 49),
			Field{Name: "guidance_scale", Kind: KindNumber, Default: 4.0},
			intString("num_images", 1, 4),
			boolean("sync_mode"),
			choice("output_format", "", "jpeg", "png"),
			nsfw(),
		).count("num_images")

	// The edit page lists its ratios only as "1:1…21:9", so any string is accepted there.
	q2Edit := model("qwen2/image-edit", "qwen", "qwen2/image-edit", "Qwen Image 2 edit of one image").
		imageURL("image_url", true).doubtfulImages().
		with(
			prompt(800).reqDoubtful(),
			text("image_size", 0).def("16:9"),
			seed(),
			choice("output_format", "", "png", "jpeg").doubtful(),
			nsfw(),
		)
	q2T2I := model("qwen2/text-to-image", "qwen", "qwen2/text-to-image", "Qwen Image 2 text-to-image").with(
		prompt(800).reqDoubtful(),
		choice("image_size", "16:9", qwen2Ratio...),
		seed(),
		choice("output_format", "", "png", "jpeg").doubtful(),
		nsfw(),
	)

	return []*Model{t2i, i2i, edit, q2Edit, q2T2I}
}
