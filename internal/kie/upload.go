package kie

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

const defaultUploadPath = "images/terraform"

// UploadResult is the answer of the file-upload API; DownloadURL serves as an inputImage.
type UploadResult struct {
	DownloadURL string
	FileName    string
	FilePath    string
	Size        int64
	MimeType    string
}

// UploadFile streams a local file to the free file-upload API. The remote name is the SHA-256 of
// the content plus the file's extension, so the same content maps to the same name.
func (c *Client) UploadFile(ctx context.Context, localPath, uploadPath string) (*UploadResult, error) {
	if c.apiKey == "" {
		return nil, ErrMissingAPIKey
	}
	info, err := os.Stat(localPath)
	if err != nil {
		return nil, fmt.Errorf("kie upload: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("kie upload: %s is not a regular file", localPath)
	}
	sum, _, err := localfile.Hash(localPath)
	if err != nil {
		return nil, fmt.Errorf("kie upload: %w", err)
	}
	ext := strings.ToLower(filepath.Ext(localPath))
	fileName := sum + ext
	mimeType := mime.TypeByExtension(ext)
	if mimeType == "" {
		mimeType = "application/octet-stream"
	}
	if uploadPath = strings.Trim(strings.TrimSpace(uploadPath), "/"); uploadPath == "" {
		uploadPath = defaultUploadPath
	}

	cl := &call{op: "upload", method: http.MethodPost, base: c.uploadBaseURL, path: "/api/file-stream-upload",
		stream: func() (io.Reader, string, func(), error) {
			return multipartStream(localPath, uploadPath, fileName, mimeType)
		}}
	var res *UploadResult
	err = c.callIdempotent(ctx, cl, func(ans *answer) *APIError {
		if ok, present := rawBool(ans.env.Fields["success"]); present && !ok {
			return c.malformed(cl, ans.status, nil, "the answer says success=false: "+cmp.Or(c.message(ans.env), "no message"))
		}
		var d map[string]json.RawMessage
		if aerr := c.decodeData(cl, ans, &d); aerr != nil {
			return aerr
		}
		r := &UploadResult{
			DownloadURL: strings.TrimSpace(rawString(d["downloadUrl"])),
			FileName:    rawString(d["fileName"]),
			FilePath:    rawString(d["filePath"]),
			MimeType:    rawString(d["mimeType"]),
		}
		if n, ok := rawNumber(d["fileSize"]); ok {
			r.Size = int64(n)
		}
		if r.DownloadURL == "" {
			return c.malformed(cl, ans.status, ans.env.Data, "the answer has no downloadUrl")
		}
		res = r
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// multipartStream builds the upload body as a stream: a goroutine writes the form into a pipe
// while the request reads it. done stops the writer and waits for it.
func multipartStream(localPath, uploadPath, fileName, mimeType string) (io.Reader, string, func(), error) {
	f, err := os.Open(localPath)
	if err != nil {
		return nil, "", nil, fmt.Errorf("opening %s: %w", localPath, err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		defer f.Close()
		pw.CloseWithError(writeForm(mw, f, uploadPath, fileName, mimeType))
	}()
	done := func() {
		_ = pr.CloseWithError(errors.New("upload attempt finished"))
		<-finished
	}
	return pr, mw.FormDataContentType(), done, nil
}

func writeForm(mw *multipart.Writer, f io.Reader, uploadPath, fileName, mimeType string) error {
	if err := mw.WriteField("uploadPath", uploadPath); err != nil {
		return fmt.Errorf("writing the form: %w", err)
	}
	if err := mw.WriteField("fileName", fileName); err != nil {
		return fmt.Errorf("writing the form: %w", err)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": fileName}))
	h.Set("Content-Type", mimeType)
	part, err := mw.CreatePart(h)
	if err != nil {
		return fmt.Errorf("writing the form: %w", err)
	}
	if _, err := io.Copy(part, f); err != nil {
		return fmt.Errorf("streaming the file: %w", err)
	}
	if err := mw.Close(); err != nil {
		return fmt.Errorf("writing the form: %w", err)
	}
	return nil
}
