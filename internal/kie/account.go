package kie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Credits returns the account's remaining credits.
func (c *Client) Credits(ctx context.Context) (float64, error) {
	if c.apiKey == "" {
		return 0, ErrMissingAPIKey
	}
	cl := &call{op: "credit", method: http.MethodGet, base: c.baseURL, path: "/api/v1/chat/credit"}
	var credits float64
	err := c.callIdempotent(ctx, cl, func(ans *answer) *APIError {
		n, ok := rawNumber(ans.env.Data)
		if !ok {
			return c.malformed(cl, ans.status, ans.env.Data, "the credit balance is not a number")
		}
		credits = n
		return nil
	})
	return credits, err
}

// FreshDownloadURL asks the API for a new download link (valid about 20 minutes) for a result URL
// that KIE produced.
func (c *Client) FreshDownloadURL(ctx context.Context, resultURL string) (string, error) {
	if c.apiKey == "" {
		return "", ErrMissingAPIKey
	}
	resultURL = strings.TrimSpace(resultURL)
	if resultURL == "" {
		return "", errors.New("kie download-url: the result URL is empty")
	}
	body, err := json.Marshal(map[string]string{"url": resultURL})
	if err != nil {
		return "", fmt.Errorf("kie download-url: encoding the request: %w", err)
	}
	cl := &call{op: "download-url", method: http.MethodPost, base: c.baseURL, path: "/api/v1/common/download-url", body: body}
	var link string
	err = c.callIdempotent(ctx, cl, func(ans *answer) *APIError {
		// data is the link itself; accept an object holding it as well.
		link = strings.TrimSpace(rawString(ans.env.Data))
		var obj map[string]json.RawMessage
		if json.Unmarshal(ans.env.Data, &obj) == nil {
			link = strings.TrimSpace(rawString(obj["url"]))
			if link == "" {
				link = strings.TrimSpace(rawString(obj["downloadUrl"]))
			}
		}
		if !strings.HasPrefix(link, "http://") && !strings.HasPrefix(link, "https://") {
			return c.malformed(cl, ans.status, nil, "the answer holds no download link")
		}
		return nil
	})
	return link, err
}

// callIdempotent runs a free, repeatable call with retries; use reads the success answer and may
// reject it as unusable, which is retried too.
func (c *Client) callIdempotent(ctx context.Context, cl *call, use func(*answer) *APIError) error {
	return c.retryLoop(ctx, c.what(cl), retryIdempotent, func(n int) (failClass, time.Duration, error) {
		ans, cls, retryAfter, err := c.send(ctx, cl, n)
		if err != nil {
			return cls, retryAfter, err
		}
		if aerr := use(ans); aerr != nil {
			return failTransient, 0, aerr
		}
		return failNone, 0, nil
	})
}
