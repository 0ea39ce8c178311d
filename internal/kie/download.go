package kie

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// DownloadResult describes a file that Download wrote.
type DownloadResult struct {
	Path        string
	SHA256      string // hex
	Size        int64
	ContentType string
}

// Download streams url to destPath atomically: the body goes to a temporary file beside the
// destination, is hashed on the way, synced and renamed over it. On any failure the temporary
// file is removed and an existing destination is left as it was. The API key is sent only to the
// API's own host. A 403, 404 or 410 is a *LinkExpiredError.
func (c *Client) Download(ctx context.Context, rawURL, destPath string) (*DownloadResult, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("kie download: %q is not an http(s) URL", redactURL(rawURL))
	}
	if strings.TrimSpace(destPath) == "" {
		return nil, errors.New("kie download: the destination path is empty")
	}
	dest := filepath.Clean(destPath)
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return nil, fmt.Errorf("kie download: creating the destination folder: %w", err)
	}
	var res *DownloadResult
	err = c.retryLoop(ctx, "kie download", retryIdempotent, func(n int) (failClass, time.Duration, error) {
		r, cls, retryAfter, err := c.downloadOnce(ctx, u, dest, n)
		res = r
		return cls, retryAfter, err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (c *Client) downloadOnce(ctx context.Context, u *url.URL, dest string, attempt int) (*DownloadResult, failClass, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, failCanceled, 0, fmt.Errorf("kie download: %w", err)
	}
	cl := &call{op: "download", method: http.MethodGet}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	headerTimer := time.AfterFunc(c.requestTimeout, func() { cancel(errHeaderTimeout) })
	defer headerTimer.Stop()

	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, failPermanent, 0, fmt.Errorf("kie download: %w", c.sanitize(err))
	}
	c.setHeaders(req, sameOrigin(c.baseURL, u))
	start := time.Now()
	resp, err := c.hc.Do(req)
	headerTimer.Stop()
	if err != nil {
		err = withTimeoutCause(actx, c.sanitize(err))
		c.logAttempt(ctx, cl, u, attempt, 0, 0, start, err)
		if ctx.Err() != nil {
			return nil, failCanceled, 0, fmt.Errorf("kie download: %w", err)
		}
		return nil, failTransient, 0, fmt.Errorf("kie download: %w", err)
	}
	defer resp.Body.Close()

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		switch resp.StatusCode {
		case http.StatusForbidden, http.StatusNotFound, http.StatusGone:
			err := fmt.Errorf("kie download: %w", &LinkExpiredError{HTTPStatus: resp.StatusCode})
			c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, 0, start, err)
			return nil, failPermanent, 0, err
		}
		excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		e := &APIError{Op: "download", HTTPStatus: resp.StatusCode, Code: resp.StatusCode, Excerpt: c.excerpt(excerpt)}
		if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), c.clock.Now(), c.retry.MaxRetryAfter); ok {
			e.RetryAfter = ra
		}
		c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, 0, start, e)
		return nil, classifyCode(resp.StatusCode), e.RetryAfter, e
	}
	if resp.ContentLength > c.maxDownload {
		err := fmt.Errorf("kie download: the image is %d bytes, more than the %d-byte limit", resp.ContentLength, c.maxDownload)
		c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, 0, start, err)
		return nil, failPermanent, 0, err
	}

	idle := time.AfterFunc(c.requestTimeout, func() { cancel(errIdleTimeout) })
	defer idle.Stop()
	body := &idleReader{r: resp.Body, timer: idle, d: c.requestTimeout}
	res, cls, err := c.writeAtomically(dest, body, resp.ContentLength, resp.Header.Get("Content-Type"))
	if err != nil && body.err != nil {
		err = withTimeoutCause(actx, err)
		if ctx.Err() != nil {
			cls = failCanceled
		}
	}
	c.logAttempt(ctx, cl, u, attempt, resp.StatusCode, 0, start, err)
	if err != nil {
		return nil, cls, 0, fmt.Errorf("kie download: %w", err)
	}
	res.ContentType = resp.Header.Get("Content-Type")
	return res, failNone, 0, nil
}

// writeAtomically copies body into a temporary file beside dest and renames it over dest. A read
// fault or a body shorter than its Content-Length (want, -1 if unknown) is transient, and so is an
// answer that is not an image at all (see sniffImage): nothing is written for it.
func (c *Client) writeAtomically(dest string, body *idleReader, want int64, contentType string) (_ *DownloadResult, _ failClass, err error) {
	br := bufio.NewReaderSize(body, sniffLen)
	head, perr := br.Peek(sniffLen)
	if perr != nil && perr != io.EOF && body.err != nil {
		return nil, failTransient, fmt.Errorf("reading the image after %d bytes: %w", len(head), c.sanitize(body.err))
	}
	if serr := c.sniffImage(head, contentType); serr != nil {
		return nil, failTransient, serr
	}
	h := sha256.New()
	var n int64
	class := failPermanent // creating, syncing or renaming the file will not get better by retrying
	err = localfile.WriteAtomic(dest, func(w io.Writer) error {
		var cerr error
		n, cerr = io.Copy(io.MultiWriter(w, h), io.LimitReader(br, c.maxDownload+1))
		switch {
		case cerr != nil && body.err != nil:
			class = failTransient
			return fmt.Errorf("reading the image after %d bytes: %w", n, c.sanitize(cerr))
		case cerr != nil:
			return fmt.Errorf("writing the temporary file: %w", cerr)
		case n > c.maxDownload:
			return fmt.Errorf("the image is larger than the %d-byte limit", c.maxDownload)
		case want >= 0 && n != want:
			class = failTransient
			return fmt.Errorf("the image is truncated: got %d of %d bytes", n, want)
		}
		return nil
	})
	if err != nil {
		return nil, class, err
	}
	return &DownloadResult{Path: dest, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, failNone, nil
}

// sniffLen is how much of a download is inspected before anything is written.
const sniffLen = 512

// sniffImage refuses an answer that cannot be the image although its status said success: an empty body,
// or an error page (HTML, JSON, plain text) that a CDN or proxy sent with status 200. Such an answer is
// never written to disk nor reported as the image; the download is retried like any transient fault.
// Content that sniffs as binary is accepted unless the server itself calls it text, so image formats
// that Go does not recognise still pass.
func (c *Client) sniffImage(head []byte, contentType string) error {
	if len(head) == 0 {
		return errors.New("the answer is empty, not an image")
	}
	sniffed := http.DetectContentType(head)
	declared := strings.ToLower(strings.TrimSpace(contentType))
	if strings.HasPrefix(sniffed, "image/") ||
		(sniffed == "application/octet-stream" && !strings.HasPrefix(declared, "text/")) {
		return nil
	}
	msg := fmt.Sprintf("the answer is not an image (it looks like %s", sniffed)
	if declared != "" {
		msg += ", sent as " + strconv.Quote(contentType)
	}
	msg += ")"
	if strings.HasPrefix(sniffed, "text/") {
		if ex := c.excerpt(head); ex != "" {
			msg += ": " + strconv.Quote(ex)
		}
	}
	return errors.New(msg)
}

// idleReader pushes a deadline timer out on every read and remembers read faults, so a stalled
// transfer fails while a slow but steady one does not.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
	err   error
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.d)
	}
	if err != nil && err != io.EOF {
		ir.err = err
	}
	return n, err
}

// DownloadTaskImage downloads a finished task's image. When its link has expired it asks the API
// for a fresh link, then re-reads the task for a new one. Only when all of that fails for good does
// the error wrap ErrResultImageGone, which tells the user that only a new (paid) generation helps.
func (c *Client) DownloadTaskImage(ctx context.Context, task *Task, destPath string) (*DownloadResult, error) {
	if task == nil {
		return nil, errors.New("kie: downloading a task image: no task given")
	}
	return c.downloadWithRefresh(ctx, task.TaskID, task.ResultImageURL, destPath, func(ctx context.Context) (string, error) {
		t, err := c.GetTask(ctx, task.TaskID)
		switch {
		case err != nil:
			return "", err
		case t.SuccessFlag != FlagSuccess:
			return "", fmt.Errorf("the task has no image to download: its status is %s", t.SuccessFlag)
		}
		return t.ResultImageURL, nil
	})
}

// downloadWithRefresh downloads link, and when it has expired, a fresh link for it, then the link that
// reread finds in the task again. reread's error is "gone" only when IsNotFound holds for it.
func (c *Client) downloadWithRefresh(ctx context.Context, id, link, destPath string,
	reread func(context.Context) (string, error)) (*DownloadResult, error) {
	tried := map[string]bool{}
	gone := true // every failure so far says the image is gone, none that may pass
	var lastErr error
	try := func(link string) *DownloadResult {
		tried[link] = true
		res, err := c.Download(ctx, link, destPath)
		if err != nil {
			lastErr = err
			var expired *LinkExpiredError
			if !errors.As(err, &expired) {
				gone = false
			}
		}
		return res
	}

	if orig := strings.TrimSpace(link); orig != "" {
		if res := try(orig); res != nil {
			return res, nil
		}
		if !gone {
			// A fault that may pass (or the caller's deadline): the image is still there, so say so.
			return nil, fmt.Errorf("task %s: the result image could not be fetched now (try again later "+
				"rather than regenerating): %w", id, lastErr)
		}
		fresh, err := c.FreshDownloadURL(ctx, orig)
		if err == nil {
			if res := try(fresh); res != nil {
				return res, nil
			}
		} else {
			lastErr = err
			if !refreshRefused(err) {
				gone = false
			}
		}
	}
	if id != "" && ctx.Err() == nil {
		again, err := reread(ctx)
		again = strings.TrimSpace(again)
		switch {
		case err != nil:
			lastErr = err
			if !IsNotFound(err) {
				gone = false
			}
		case again != "" && !tried[again]:
			if res := try(again); res != nil {
				return res, nil
			}
		}
	}
	if len(tried) == 0 {
		gone = false // no link ever existed, so none expired
	}
	if lastErr == nil {
		lastErr = errors.New("the task has no result image URL")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("task %s: downloading the result image: %w (last error: %w)", id, err, lastErr)
	}
	if gone {
		return nil, fmt.Errorf("task %s: %w (last error: %w)", id, ErrResultImageGone, lastErr)
	}
	return nil, fmt.Errorf("task %s: the result image could not be fetched now (its link may still be refreshable; "+
		"try again later rather than regenerating): %w", id, lastErr)
}

// refreshRefused reports that the API declined to refresh a link (as opposed to a fault that may pass).
func refreshRefused(err error) bool {
	c, ok := apiErrorCode(err)
	return ok && (c == 400 || c == 404 || c == 410 || c == 422)
}
