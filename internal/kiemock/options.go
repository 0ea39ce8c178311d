package kiemock

import (
	"time"
)

// Time formats for Options.TimeFormat. KIE has been seen answering createTime
// and completeTime in all three, so by default the mock rotates between them
// per task to make sure clients cope with each.
const (
	TimeFormatRotate      = ""         // task n uses RFC 3339, epoch ms, date-time in turn
	TimeFormatRFC3339     = "rfc3339"  // "2006-01-02T15:04:05Z"
	TimeFormatEpochMillis = "epoch-ms" // 1767225600000 (a JSON number)
	TimeFormatDateTime    = "datetime" // "2006-01-02 15:04:05" (UTC)
)

// Defaults applied by New when the corresponding option is zero.
const (
	DefaultAPIKey          = "mock-key"
	DefaultCreateWindow    = 10 * time.Second
	DefaultCredits         = 1_000_000
	DefaultCallbackTimeout = 15 * time.Second
	DefaultMaxUploadBytes  = 100 << 20
	DefaultImageCacheBytes = 256 << 20
	DefaultUploadStoreCap  = 1 << 30
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// APIKey is the bearer key every /api/ endpoint requires; DefaultAPIKey when empty.
	APIKey string

	// Latency is how long a task stays successFlag 0 after creation; 0 means
	// the task is finished as soon as it is created.
	Latency time.Duration
	// LatencyJitter adds up to this much extra latency per task, derived from
	// the task id so a run is reproducible given the same ids.
	LatencyJitter time.Duration
	// MaxLatency, when non-zero, replaces Latency for flux-kontext-max tasks
	// (max is slower than pro at KIE).
	MaxLatency time.Duration

	// CreateLimit is the number of generate POSTs accepted per CreateWindow
	// (sliding window); 0 means unlimited. KIE's own limit is 20 per 10 s.
	CreateLimit int
	// CreateWindow is the rate-limit window; DefaultCreateWindow when zero.
	CreateWindow time.Duration
	// RetryAfterUnit is the precision of a 429's Retry-After: the wait until a slot frees is rounded
	// up to a whole number of units (at least one) and sent in seconds, with a decimal fraction when
	// the unit is below a second. Zero means one second, HTTP's whole seconds. A time-scaled run
	// scales it with the window, so that the rounding keeps KIE's proportions.
	RetryAfterUnit time.Duration

	// CallbackSecret, when set, makes callbacks carry X-Webhook-Timestamp and
	// X-Webhook-Signature = base64(HMAC-SHA256(secret, taskId + "." + timestamp)).
	CallbackSecret string
	// CallbackTimeout bounds one callback POST; DefaultCallbackTimeout when zero.
	CallbackTimeout time.Duration
	// CallbackRetries is how many times a failed callback is retried.
	CallbackRetries int

	// LinkTTL makes result links expire this long after they were issued
	// (0 = never). Expired links answer 404.
	LinkTTL time.Duration

	// ImageScale scales the documented output sizes (1.0 = 1392x752 for
	// 16:9 and so on); values below 1 make tests fast. Clamped to (0, 4];
	// 0 means 1.
	ImageScale float64

	// ImageMinBytes and ImageMaxBytes pad every result and origin image to a
	// size drawn per task in [ImageMinBytes, ImageMaxBytes], with metadata
	// that decoders skip (PNG tEXt chunk, JPEG COM segments), so files are as
	// large as KIE's (about 1-2 MB) without rendering cost. An image already
	// larger is left as it is. ImageMaxBytes 0 turns padding off.
	ImageMinBytes int64
	ImageMaxBytes int64

	// TimeFormat pins the createTime/completeTime format; one of the
	// TimeFormat constants. Empty rotates per task.
	TimeFormat string

	// Credits is the starting balance; DefaultCredits when zero (use
	// SetCredits(0) for an empty account).
	Credits float64

	// ErrorsAsHTTP200 sends API errors with HTTP status 200 and the error
	// only in the body code, as KIE does for many errors. By default the
	// HTTP status mirrors the body code.
	ErrorsAsHTTP200 bool

	// RecordInfoNullQueries makes a new Market task answer
	// {"code":422,"msg":"recordInfo is null"} to its first this many
	// recordInfo queries, as integrators report KIE does right after creation.
	RecordInfoNullQueries int

	// MessageKey names the text field of Market answers; one of the
	// MessageKey constants. KIE's pages show both "msg" and "message".
	MessageKey string

	// PublicURL is the base used in links the mock hands out (result,
	// origin and upload links). Empty: derived from the request's Host.
	PublicURL string

	// MaxUploadBytes caps one uploaded file; DefaultMaxUploadBytes when zero.
	MaxUploadBytes int64

	// ImageCacheBytes bounds the cache of encoded result images; evicted
	// images are rendered again on demand (rendering is deterministic).
	ImageCacheBytes int64

	// Logf, when set, receives one line per request. The API key is never logged.
	Logf func(format string, args ...any)
}

func (o Options) withDefaults() Options {
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.CreateWindow <= 0 {
		o.CreateWindow = DefaultCreateWindow
	}
	if o.RetryAfterUnit <= 0 {
		o.RetryAfterUnit = time.Second
	}
	if o.CallbackTimeout <= 0 {
		o.CallbackTimeout = DefaultCallbackTimeout
	}
	if o.CallbackRetries < 0 {
		o.CallbackRetries = 0
	}
	if o.ImageScale <= 0 {
		o.ImageScale = 1
	}
	if o.ImageScale > 4 {
		o.ImageScale = 4
	}
	if o.Credits == 0 {
		o.Credits = DefaultCredits
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.ImageCacheBytes <= 0 {
		o.ImageCacheBytes = DefaultImageCacheBytes
	}
	if o.Latency < 0 {
		o.Latency = 0
	}
	if o.LatencyJitter < 0 {
		o.LatencyJitter = 0
	}
	if o.RecordInfoNullQueries < 0 {
		o.RecordInfoNullQueries = 0
	}
	switch o.MessageKey {
	case MessageKeyMsg, MessageKeyMessage, MessageKeyRotate:
	default:
		o.MessageKey = MessageKeyMsg
	}
	switch o.TimeFormat {
	case TimeFormatRotate, TimeFormatRFC3339, TimeFormatEpochMillis, TimeFormatDateTime:
	default:
		o.TimeFormat = TimeFormatRotate
	}
	return o
}
