package kiemock

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const fetchTimeout = 30 * time.Second // KIE's documented URL-upload download timeout

// newLoopbackClient is the client for everything the mock fetches or posts
// itself. It cannot reach anything but loopback: the dialer rejects other
// addresses even after DNS or redirects, so a mock never calls the internet.
func newLoopbackClient() *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("kie-mock only connects to loopback addresses, not %s", host)
			}
			return nil
		},
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil, // loopback never goes through a proxy
			DialContext:         dialer.DialContext,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if !isLoopbackHost(req.URL.Hostname()) {
				return fmt.Errorf("redirect to non-loopback host %q refused", req.URL.Hostname())
			}
			return nil
		},
	}
}

// isLoopbackHost decides without DNS, so no lookup ever leaves the machine.
func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ownFile reports whether u points at this mock's file store, which is then
// read directly: it works for handler-only servers and keeps edit-mode
// input reads out of the download counters.
func (s *Server) ownFile(u *url.URL, selfBase string) bool {
	if !strings.HasPrefix(u.Path, filesPrefix) {
		return false
	}
	for _, b := range []string{selfBase, s.url, s.opts.PublicURL} {
		if b == "" {
			continue
		}
		if bu, err := url.Parse(b); err == nil && strings.EqualFold(bu.Host, u.Host) {
			return true
		}
	}
	return false
}

// fetch GETs raw (at most limit bytes) the way KIE's workers fetch input
// images and URL uploads, restricted to this mock and loopback.
func (s *Server) fetch(ctx context.Context, selfBase, raw string, limit int64) ([]byte, string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("invalid URL %q", raw)
	}
	if s.ownFile(u, selfBase) {
		data, ctype, _, ferr := s.fileContent(u.Path, u.Query())
		if ferr != nil {
			return nil, "", fmt.Errorf("GET %s: %w", raw, ferr)
		}
		return data, ctype, nil
	}
	if !isLoopbackHost(u.Hostname()) {
		return nil, "", fmt.Errorf("GET %s: kie-mock only fetches loopback URLs", raw)
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Close must not wait out a slow upstream
	defer stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", "kie-mock-fetcher/1")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: HTTP %d", raw, resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", raw, err)
	}
	if int64(len(data)) > limit {
		return nil, "", fmt.Errorf("GET %s: larger than %d bytes", raw, limit)
	}
	return data, resp.Header.Get("Content-Type"), nil
}

type callbackInfo struct {
	OriginImageURL string `json:"originImageUrl"`
	ResultImageURL string `json:"resultImageUrl"`
}

type callbackData struct {
	TaskID string        `json:"taskId"`
	Info   *callbackInfo `json:"info"`
}

// CallbackSignature is the X-Webhook-Signature for a task id and timestamp:
// base64(HMAC-SHA256(secret, taskId + "." + timestamp)).
func CallbackSignature(secret, taskID, timestamp string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(taskID + "." + timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// sendCallbacks POSTs the task's outcome to its callBackUrl, retrying
// failures CallbackRetries times, and a second time when the prompt asks.
func (s *Server) sendCallbacks(t *task) {
	s.mu.Lock()
	env := envelope{Code: 200, Msg: "Image generated successfully."}
	data := callbackData{TaskID: t.id}
	if t.flag == 1 {
		data.Info = &callbackInfo{OriginImageURL: t.originURL, ResultImageURL: t.resultURL}
	} else {
		env.Code, env.Msg = t.errCode, t.errMsg
	}
	s.mu.Unlock()
	env.Data = data
	body, err := json.Marshal(env)
	if err != nil {
		return
	}
	deliveries := 1
	if t.marks.dupCallback {
		deliveries = 2
	}
	for range deliveries {
		for attempt := 0; attempt <= s.opts.CallbackRetries; attempt++ {
			if attempt > 0 && !sleepCtx(s.ctx, time.Duration(attempt)*200*time.Millisecond) {
				return
			}
			if s.postCallback(t, body) {
				break
			}
			if s.ctx.Err() != nil {
				return
			}
		}
	}
}

func (s *Server) postCallback(t *task, body []byte) bool {
	s.mu.Lock()
	t.callbackPosts++
	s.mu.Unlock()
	err := s.doCallback(t, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.stats.CallbacksFailed++
		if s.opts.Logf != nil {
			s.opts.Logf("kie-mock: callback for %s failed: %v", t.id, err)
		}
		return false
	}
	s.stats.CallbacksSent++
	return true
}

func (s *Server) doCallback(t *task, body []byte) error {
	u, err := url.Parse(t.callbackURL)
	if err != nil {
		return err
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("refusing callback to non-loopback host %q", u.Hostname())
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.callbackURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "kie-mock-callback/1")
	if s.opts.CallbackSecret != "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		req.Header.Set("X-Webhook-Timestamp", ts)
		req.Header.Set("X-Webhook-Signature", CallbackSignature(s.opts.CallbackSecret, t.id, ts))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
