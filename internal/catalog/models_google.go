package catalog

var (
	nanoRatios  = []string{"1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9", "auto"}
	proRatios   = []string{"1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9", "auto"}
	nano2Ratios = []string{"1:1", "1:4", "1:8", "2:3", "3:2", "3:4", "4:1", "4:3", "4:5", "5:4", "8:1", "9:16", "16:9", "21:9", "auto"}
	res124K     = []string{"1K", "2K", "4K"}
	imagenRatio = []string{"1:1", "16:9", "9:16", "3:4", "4:3", "auto"}
)

func googleModels() []*Model {
	nano := model("google/nano-banana", "nano-banana", "google/nano-banana", "Nano Banana text-to-image").with(
		prompt(5000).req(),
		choice("output_format", "png", "png", "jpeg"),
		choice("aspect_ratio", "1:1", nanoRatios...),
		choice("image_size", "1:1", nanoRatios...).deprecatedFor("aspect_ratio"),
		nsfw(),
	)
	nanoEdit := nano.clone("google/nano-banana-edit", "google/nano-banana-edit",
		"Nano Banana image edit from 1–10 input images").
		imageList("image_urls", true, 1, 10).maxMB(10)

	pro := model("nano-banana-pro", "nano-banana", "google/pro-image-to-image",
		"Nano Banana Pro text-to-image or edit with up to 8 reference images, 1K–4K").
		with(prompt(10000).req()).
		imageList("image_input", false, 0, 8).maxMB(30).
		with(
			choice("aspect_ratio", "1:1", proRatios...),
			choice("resolution", "1K", res124K...),
			choice("output_format", "png", "png", "jpg"),
			nsfw(),
		)

	nano2 := model("nano-banana-2", "nano-banana", "google/nanobanana2",
		"Nano Banana 2 text-to-image or edit with up to 14 reference images, optional Google Search grounding").
		with(prompt(20000).req()).
		imageList("image_input", false, 0, 14).maxMB(30).
		with(
			boolean("google_search").def(false),
			choice("aspect_ratio", "auto", nano2Ratios...),
			choice("resolution", "1K", res124K...),
			choice("output_format", "jpg", "png", "jpg"),
			nsfw(),
		)

	// The lite page only says "15 values incl. auto"; Nano Banana 2's list has exactly 15, so reuse it as a hint.
	lite := model("nano-banana-2-lite", "nano-banana", "google/nano-banana-2-lite",
		"Nano Banana 2 Lite text-to-image or edit with up to 10 reference images").
		with(prompt(0).reqDoubtful()).
		imageList("image_urls", false, 0, 10).
		with(choice("aspect_ratio", "auto", nano2Ratios...).doubtful(), nsfw())

	fast := model("google/imagen4-fast", "imagen4", "google/imagen4-fast", "Imagen 4 Fast text-to-image").with(
		prompt(5000).req(),
		text("negative_prompt", 5000),
		choice("aspect_ratio", "16:9", imagenRatio...),
		seed(),
		nsfw(),
	)
	// imagen4 and imagen4-ultra document seed as a string up to 500 characters, unlike fast; pages disagree.
	strSeed := text("seed", 500).doubtful()
	imagen := fast.clone("google/imagen4", "google/imagen4", "Imagen 4 text-to-image").
		set(choice("aspect_ratio", "1:1", imagenRatio...)).set(strSeed)
	ultra := imagen.clone("google/imagen4-ultra", "google/imagen4-ultra", "Imagen 4 Ultra text-to-image")

	return []*Model{nano, nanoEdit, pro, nano2, lite, fast, imagen, ultra}
}
