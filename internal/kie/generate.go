package kie

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// GenerateRequest is the body of a generate request, with the API's camelCase field names.
type GenerateRequest struct {
	Prompt            string `json:"prompt"`
	EnableTranslation *bool  `json:"enableTranslation,omitempty"`
	UploadCn          *bool  `json:"uploadCn,omitempty"`
	InputImage        string `json:"inputImage,omitempty"`
	AspectRatio       string `json:"aspectRatio,omitempty"`
	OutputFormat      string `json:"outputFormat,omitempty"`
	PromptUpsampling  *bool  `json:"promptUpsampling,omitempty"`
	Model             string `json:"model,omitempty"`
	SafetyTolerance   *int   `json:"safetyTolerance,omitempty"`
	CallBackURL       string `json:"callBackUrl,omitempty"`
	Watermark         string `json:"watermark,omitempty"`
}

// Generate starts a paid generation and returns its task id.
//
// The API has no idempotency key, so a request is repeated only when it provably was not accepted:
// the connection was never made, or the API answered 429 or 455. Any other failure after the request
// may have reached the API returns an *UncertainCreateError and is not repeated.
func (c *Client) Generate(ctx context.Context, req GenerateRequest) (string, error) {
	if c.apiKey == "" {
		return "", ErrMissingAPIKey
	}
	if strings.TrimSpace(req.Prompt) == "" {
		return "", errors.New("kie generate: the prompt is required")
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // send the prompt exactly as written
	if err := enc.Encode(req); err != nil {
		return "", fmt.Errorf("kie generate: encoding the request: %w", err)
	}
	cl := &call{op: "generate", method: http.MethodPost, base: c.baseURL, path: "/api/v1/flux/kontext/generate",
		body: bytes.TrimSpace(buf.Bytes())}

	var taskID string
	retry := func(cls failClass) bool { return cls == failNotSent || cls == failRefused }
	err := c.retryLoop(ctx, "kie generate", retry, func(n int) (failClass, time.Duration, error) {
		settle, err := c.create.admit(ctx, c.clock)
		if err != nil {
			return failCanceled, 0, fmt.Errorf("kie generate: waiting for the create rate limit: %w", err)
		}
		ans, cls, retryAfter, err := c.send(ctx, cl, n)
		settle() // the API counted the request by the time its answer (or the failure) arrived
		switch {
		case err != nil && cls == failTransient:
			return cls, 0, &UncertainCreateError{Err: err}
		case err != nil && cls == failNotSent:
			return cls, 0, fmt.Errorf("%w (the request never reached the API: no task was created)", err)
		case err != nil:
			if cls == failRefused {
				c.create.penalize(c.clock.Now(), cmp.Or(retryAfter, c.retry.BaseDelay))
			}
			return cls, retryAfter, err
		}
		var data struct {
			TaskID json.RawMessage `json:"taskId"`
		}
		if derr := c.decodeData(cl, ans, &data); derr != nil {
			return failTransient, 0, &UncertainCreateError{Err: derr}
		}
		taskID = strings.TrimSpace(rawString(data.TaskID))
		if taskID == "" {
			return failTransient, 0, &UncertainCreateError{
				Err: c.malformed(cl, ans.status, ans.env.Data, "the answer has no task id"),
			}
		}
		return failNone, 0, nil
	})
	if err != nil {
		return "", err
	}
	return taskID, nil
}
