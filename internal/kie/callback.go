package kie

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	// maxCallbackBody bounds what a callback may send; KIE's are a few hundred bytes.
	maxCallbackBody = 64 << 10
	// callbackMaxAge rejects signed callbacks whose timestamp is older (or further ahead) than this,
	// so a captured callback cannot be replayed later.
	callbackMaxAge = 5 * time.Minute
)

// Callback is what KIE POSTs to callBackUrl when a task ends.
type Callback struct {
	Code           int
	Msg            string
	TaskID         string
	ResultImageURL string // Flux only
	OriginImageURL string // Flux only
	// Market is the task as a Market callback reports it (data with a state, param or resultJson);
	// nil for a Flux callback. Its FailMsg is not redacted: the body did not come from our request.
	Market *MarketTask
}

// DecodeCallback reads a Flux or Market callback body leniently, like every other answer: codes may be
// strings, info or resultJson may be null, and the task id may come as data.taskId or data.task_id.
func DecodeCallback(body []byte) (*Callback, error) {
	env, ok := decodeEnvelope(body)
	if !ok {
		return nil, errors.New("callback body is not a JSON object")
	}
	var data map[string]json.RawMessage
	if env.Data == nil || json.Unmarshal(env.Data, &data) != nil {
		return nil, errors.New("callback body has no data object")
	}
	cb := &Callback{Code: env.Code, Msg: env.Msg, TaskID: strings.TrimSpace(rawString(data["taskId"]))}
	if cb.TaskID == "" {
		cb.TaskID = strings.TrimSpace(rawString(data["task_id"]))
	}
	if cb.TaskID == "" {
		return nil, errors.New("callback body has no data.taskId")
	}
	if firstRaw(data, "state", "resultJson", "param") != nil {
		if mt, err := decodeMarketTask(env.Data, cb.TaskID, nil); err == nil {
			cb.Market = mt
		}
	}
	var info map[string]json.RawMessage
	if d := data["info"]; !isNull(d) && json.Unmarshal(d, &info) == nil {
		cb.ResultImageURL, cb.OriginImageURL = rawString(info["resultImageUrl"]), rawString(info["originImageUrl"])
	}
	return cb, nil
}

// VerifyCallbackSignature checks KIE's optional signing: X-Webhook-Signature must be
// base64(HMAC-SHA256(key, taskId + "." + timestamp)) and the timestamp (unix seconds) recent.
func VerifyCallbackSignature(key []byte, taskID, timestamp, signature string, now time.Time) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return errors.New("callback has no valid X-Webhook-Timestamp")
	}
	if age := now.Sub(time.Unix(ts, 0)); age > callbackMaxAge || age < -callbackMaxAge {
		return errors.New("callback timestamp is stale")
	}
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil {
		return errors.New("callback has no valid X-Webhook-Signature")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(taskID + "." + strings.TrimSpace(timestamp)))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errors.New("callback signature does not match")
	}
	return nil
}

// CallbackHandler receives KIE's callbacks and wakes the client's waiters. It answers at once (KIE
// allows 15 s) and is idempotent: duplicates and retries only wake a waiter that is already awake. It
// never trusts the body beyond the task id: the waiter still asks the API for the task's real status.
type CallbackHandler struct {
	client *Client
	key    []byte
}

// NewCallbackHandler builds the handler; with a non-empty hmacKey unsigned or badly signed callbacks
// are refused.
func NewCallbackHandler(c *Client, hmacKey string) *CallbackHandler {
	h := &CallbackHandler{client: c}
	if hmacKey != "" {
		h.key = []byte(hmacKey)
	}
	return h
}

func (h *CallbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	cb, err := DecodeCallback(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if h.key != nil {
		err := VerifyCallbackSignature(h.key, cb.TaskID, r.Header.Get("X-Webhook-Timestamp"),
			r.Header.Get("X-Webhook-Signature"), h.client.clock.Now())
		if err != nil {
			h.client.logger.Warn(r.Context(), "refused a KIE callback", map[string]any{"task_id": cb.TaskID, "reason": err.Error()})
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	h.client.logger.Debug(r.Context(), "KIE callback received", map[string]any{"task_id": cb.TaskID, "code": cb.Code})
	h.client.Notify(cb.TaskID)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"code":200,"msg":"success"}`)
}
