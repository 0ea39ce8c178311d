// Package kiemock is a stateful, in-memory emulation of KIE's Flux Kontext
// image API and of its Market API (KIE's current image models), for
// acceptance tests, demos, benchmarks and pipelines that must not spend real
// credits. It is written from KIE's documentation, not from
// this repository's client, so a misunderstanding in the client is not
// mirrored here. It only ever talks to loopback addresses.
//
// # Running it
//
// In Go tests:
//
//	srv, err := kiemock.Start(kiemock.Options{Latency: 50 * time.Millisecond, ImageScale: 0.1})
//	if err != nil { ... }
//	defer srv.Close()
//	// point the client at srv.URL() with API key "mock-key"
//
// New returns the bare http.Handler (mount it with httptest.NewServer, for
// example); links then use the request's Host. From a shell, run
// cmd/kie-mock (kie-mock -h lists its flags).
//
// # API endpoints
//
// All JSON answers use KIE's envelope {"code": int, "msg": string, "data": ...}.
// By default the HTTP status equals the body code; Options.ErrorsAsHTTP200
// sends every error with HTTP 200 and the code only in the body, as KIE
// often does. Every /api/ endpoint needs "Authorization: Bearer <key>"
// (Options.APIKey, default "mock-key"); a missing or wrong key answers 401
// {"code":401,"msg":"You do not have access permissions"}.
//
//   - POST /api/v1/flux/kontext/generate — body fields as KIE documents them.
//     Defaults: model flux-kontext-pro, aspectRatio 16:9, outputFormat jpeg,
//     safetyTolerance 2. Unknown fields are ignored; malformed JSON is 400.
//     Validation answers 422 with the field name in msg (prompt, model,
//     aspectRatio, outputFormat, inputImage, callBackUrl, wrongly typed
//     fields); safetyTolerance outside 0–6 (0–2 with inputImage) answers 500,
//     as KIE does. A task costs 5 credits (pro) or 10 (max); too few credits
//     answers 402. Failed tasks are refunded. Answer: data.taskId
//     ("fluxkontext_" + 24 hex digits).
//   - GET /api/v1/flux/kontext/record-info?taskId=ID — missing taskId is 422,
//     an unknown one 404 (HTTP 404, or 200 with ErrorsAsHTTP200). data holds
//     taskId, paramJson (the request body, compacted, as a JSON string),
//     createTime, completeTime (null while running), successFlag (0 until the
//     task's latency has elapsed, then 1 success, 2 create failed, 3 generate
//     failed), response (null until success; then resultImageUrl and
//     originImageUrl), errorCode and errorMessage (null unless failed).
//     Times rotate per task between RFC 3339 ("2006-01-02T15:04:05Z"), epoch
//     milliseconds (a JSON number) and "2006-01-02 15:04:05" (UTC), unless
//     Options.TimeFormat pins one.
//   - GET /api/v1/chat/credit — data is the balance (a number).
//   - POST /api/v1/jobs/createTask and GET /api/v1/jobs/recordInfo — the
//     Market API, see below.
//   - POST /api/v1/common/download-url {"url": "..."} — data is a fresh
//     working link for a result (Flux or Market), origin or uploaded file this mock produced
//     (even an expired one); other URLs answer 422.
//   - POST /api/file-stream-upload (multipart: file, uploadPath, fileName),
//     /api/file-base64-upload (JSON base64Data — plain base64 or a data: URL —
//     uploadPath, fileName) and /api/file-url-upload (JSON fileUrl,
//     uploadPath, fileName; the URL must be loopback or this mock). Answer
//     {"success":true,"code":200,"msg":"File uploaded successfully","data":
//     {"fileName","filePath","downloadUrl","fileSize","mimeType","uploadedAt"}}.
//     A missing file or uploadPath, bad base64 or a file over
//     Options.MaxUploadBytes (100 MiB) is 400; the same path and name
//     overwrites.
//
// # Market API
//
//   - POST /api/v1/jobs/createTask {"model": "...", "callBackUrl": "...",
//     "input": {...}} — answer data.taskId (32 hex digits). An absent or
//     unknown model answers 422 naming model; a missing input, 422 naming
//     input; the input is checked against the model's documented fields
//     (required fields, enums, prompt length, image URL field and count,
//     types), answering 422 with msg "input.<field> ...". Unknown fields are
//     kept. Defaults KIE documents are applied to the effective input
//     (MarketTask, /_mock/market-tasks); param keeps the body as sent.
//   - GET /api/v1/jobs/recordInfo?taskId=ID — missing taskId is 400; an
//     unknown one 422 {"code":422,"msg":"recordInfo is null","data":null}.
//     data holds taskId, model, state (waiting for the first fifth of the
//     task's latency, queuing for the second, then generating, then success
//     or fail), param (the create body, compacted, as a JSON string),
//     resultJson (the JSON string {"resultUrls":[...]} on success, "" else),
//     failCode and failMsg ("" on success), costTime (ms), createTime,
//     updateTime and completeTime (Unix ms; completeTime null while
//     running) and creditsConsumed (the cost on success, else 0).
//
// Models (MarketModels): google/nano-banana, google/nano-banana-edit
// (image_urls 1-10), nano-banana-pro (image_input 0-8), nano-banana-2
// (image_input 0-14), seedream/4.5-text-to-image, seedream/4.5-edit
// (image_urls 1-14), bytedance/seedream-v4-text-to-image,
// bytedance/seedream-v4-edit (image_urls 1-10; both max_images 1-6 results),
// flux-2/pro-text-to-image, flux-2/pro-image-to-image (input_urls 1-8),
// gpt-image/1.5-text-to-image, gpt-image/1.5-image-to-image (input_urls
// 1-16), google/imagen4-fast (seed an integer), google/imagen4 (seed a
// string) and qwen/image-edit (image_url; num_images "1"-"4" results).
// Sizes follow aspect_ratio or the named image_size at about one megapixel
// for 1K, four for 2K (and seedream 4.5's basic), sixteen for 4K (high);
// GPT Image uses 1024x1024, 1024x1536 and 1536x1024; all times ImageScale.
// output_format picks png or jpeg where a model has one. Results are served
// at /files/<taskId>-<n>.<png|jpg> (n from 1) with the Flux results' links,
// expiry, captions (model, size and prompt) and padding; an edit model's
// result is its input images (tiled when several, fetched as inputImage
// is) scaled and tinted, and an input that cannot be read ends the task
// with failCode "400". Each result image costs the model's price (4 credits
// for nano-banana, 18 for nano-banana-pro, 24 at 4K, 5 for seedream v4, ...)
// from the one balance Flux uses; failed tasks are refunded.
//
// Market answers honour ErrorsAsHTTP200. Options.MessageKey "message"
// names their text field "message" instead of "msg", "rotate" alternates,
// since KIE's pages disagree. Options.RecordInfoNullQueries makes a new
// task answer 422 "recordInfo is null" to its first N queries, as
// integrators report KIE does. When a task ends and it has a callBackUrl,
// the mock POSTs {"code":200,"msg":"Playground task completed successfully.",
// "data":{taskId, model, state, param, resultJson, costTime (seconds),
// completeTime, createTime, updateTime, creditsConsumed}} — on failure code
// 501, msg "Playground task failed.", failCode and failMsg, no resultJson
// and creditsConsumed 0 — signed, retried and loopback-only like Flux
// callbacks.
//
// # Files (the "CDN")
//
// Result and origin images are served at /files/<taskId>.<png|jpg> and
// /files/<taskId>-origin.<png|jpg>, uploads at
// /files/uploads/<uploadPath>/<fileName>. They need no key; requests that
// send an Authorization header anyway are counted in
// Stats.FileRequestsWithAuth, because a client must not leak its key to a
// CDN. Images are real PNG or JPEG files of the documented size for the
// aspect ratio (1:1 1024x1024, 16:9 1392x752, 21:9 1568x672, 4:3 1184x880,
// 3:4 880x1184, 9:16 752x1392, 16:21 896x1176) times Options.ImageScale.
// Their content is derived from the prompt and task id, so every task
// differs, and in edit mode from the input image too; the result has a
// border the origin lacks. They are rendered on first download and cached,
// with correct Content-Type, Content-Length, ETag and Range support.
// Options.ImageMinBytes/ImageMaxBytes pad them with metadata that decoders
// skip, to KIE's sizes of 1-2 MB.
//
// Links carry ?exp=<unix ms>&gen=<n>&sig=<hmac> once they can expire
// (Options.LinkTTL > 0, or after ExpireLinks). An expired link answers 404;
// a missing or altered signature 403. record-info keeps returning the link
// it issued at completion, so a client must use download-url to refresh it.
//
// # Task lifecycle
//
// A task finishes Options.Latency after creation (Options.MaxLatency for
// flux-kontext-max when set) plus a per-task share of
// Options.LatencyJitter. In edit mode the mock fetches inputImage when the
// task starts — its own links are read directly, other URLs must be
// loopback — and the task ends with successFlag 2, errorCode 400 when the
// input cannot be fetched or decoded (PNG, JPEG or GIF). When a task ends
// and it has a callBackUrl (loopback only; others are refused and counted
// as failed), the mock POSTs
// {"code":200,"msg":"...","data":{"taskId":"...","info":{"originImageUrl":"...","resultImageUrl":"..."}}}
// — for failures code is the task's errorCode and info is null — with
// X-Webhook-Timestamp and X-Webhook-Signature (see CallbackSignature) when
// Options.CallbackSecret is set. Failed callbacks are retried
// Options.CallbackRetries times.
//
// # Prompt markers
//
// Put these in a prompt to steer the outcome:
//
//	[mock:create-fail]      task ends successFlag 2, errorCode 400
//	[mock:generate-fail]    task ends successFlag 3, errorCode 501, errorMessage "generation failed"
//	[mock:internal-error]   task ends successFlag 3, errorCode 500
//	[mock:flagged]          generate answers 400 (content flagged); no task
//	[mock:latency=2s]       this task's latency (Go duration), replacing Latency and jitter
//	[mock:callback-twice]   the callback is delivered twice (test idempotency)
//	[mock:echo-auth-fail]   task ends successFlag 3, errorCode 500, errorMessage quoting the
//	                        generate request's Authorization header (test that clients redact it)
//	[mock:tag=NAME]         count the request and its task under NAME as well (see Tags)
//
// On the Market API: [mock:generate-fail] and [mock:internal-error] end the
// task state "fail" with failCode "500"; [mock:flagged] ends it with failCode
// "422" and KIE's "Invalid prompt: prompt contains prohibited content";
// [mock:create-fail] makes createTask answer 501 (no task, nothing charged);
// [mock:sub-key-limit], [mock:maintenance] and [mock:feature-disabled] make
// it answer 433, 455 and 505. [mock:latency=], [mock:callback-twice],
// [mock:echo-auth-fail] and [mock:tag=] work as on Flux.
//
// # Rate limit
//
// With Options.CreateLimit > 0, a generate POST beyond CreateLimit accepted
// ones within the sliding Options.CreateWindow (default 10 s) answers 429
// (body code 429) with Retry-After in whole seconds until a slot frees
// (Options.RetryAfterUnit sets a finer unit, such as 0.1 s for a window
// scaled down tenfold); it creates nothing and is counted in
// Stats.RateLimited. The limit is per account: every client with the key
// shares it, and Flux generate and Market createTask count against the same
// window (a Market 429 is also counted in Stats.MarketRateLimited).
//
// # Counting tasks
//
// Stats.TasksCreated and StatusQueries count both APIs; MarketTasksCreated,
// MarketStatusQueries and MarketCreateRequests are the Market's share, so
// Flux's is the difference (GenerateRequests counts Flux generate POSTs).
//
// # Tags
//
// A prompt containing [mock:tag=NAME] counts its generate and createTask
// requests, tasks, 429s and the status queries of its tasks under NAME as
// well (TagStats, GET /_mock/tag-stats), so that several clients sharing one
// key can be told apart.
//
// # Faults
//
// InjectFault (or POST /_mock/faults) queues a Fault. The first queued fault
// whose Endpoint matches a request — and TaskID, when set: the record-info
// taskId or the task whose file is requested — is applied Times times
// (0 = once, -1 = until ClearFaults) and counted in Stats.FaultsInjected.
// Faults act before authentication, like a proxy or CDN in front of the API.
// Endpoints: generate, record-info, create-task, market-record-info, credit,
// download-url, file, upload.
// Kinds: status, body-code, html (403 looks like Cloudflare's error 1010,
// others like an nginx error page), empty, malformed-json, slow (wait Delay,
// then answer normally; gives up when the client or server goes away),
// drop (close the connection unanswered), record-info-null (KIE's 422
// "recordInfo is null"), drop-after-create (generate or createTask runs
// normally — the task exists and is paid — then the connection is closed
// unanswered), oversized (a valid JSON body over 10 MiB), expired-link (404
// as an expired link), truncated-image (the normal answer with its full
// Content-Length but only half the body, then the connection closes) and
// wrong-length (Content-Length larger than the body sent). RetryAfter adds
// a Retry-After header to any kind. Note that Go's http.Transport silently
// retries an idempotent request (GET) once when a reused keep-alive
// connection is dropped, so a single drop may be invisible to such a
// client; use Times: 2 or fresh connections to make it observable.
//
// # Control endpoints
//
// Unauthenticated, under /_mock/:
//
//	GET    /_mock/health         {"ok":true}
//	GET    /_mock/stats          Stats as JSON
//	GET    /_mock/tag-stats      TagStats per [mock:tag=NAME], as JSON
//	POST   /_mock/reset-stats    zero the counters (tag counters too)
//	GET    /_mock/faults         queued faults
//	POST   /_mock/faults         queue one: {"endpoint":"file","kind":"slow","delay":"2s","taskId":"...","times":1,
//	                             "status":502,"bodyCode":455,"message":"...","retryAfter":"3"}
//	                             (delay: Go duration string or milliseconds)
//	DELETE /_mock/faults         clear them
//	POST   /_mock/expire-links   every link issued so far answers 404
//	GET    /_mock/credits        {"credits": n}
//	POST   /_mock/credits        set the balance: {"credits": n}
//	GET    /_mock/tasks          every task (TaskSnapshot) in creation order
//	GET    /_mock/tasks/<id>     one task
//	GET    /_mock/market-tasks   every Market task (MarketTaskSnapshot) in creation order
//	GET    /_mock/market-tasks/<id>  one Market task
package kiemock
