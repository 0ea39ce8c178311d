package kiemock

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/color"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type uploadResp struct {
	Status  int
	Success bool         `json:"success"`
	Code    int          `json:"code"`
	Msg     string       `json:"msg"`
	Data    UploadResult `json:"data"`
}

func postUpload(t *testing.T, url, key, contentType string, body []byte) uploadResp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := uploadResp{Status: resp.StatusCode}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("upload answer %q: %v", raw, err)
	}
	return out
}

func multipartBody(t *testing.T, fields map[string]string, fileName string, file []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	if file != nil {
		fw, err := mw.CreateFormFile("file", fileName)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write(file)
	}
	_ = mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func streamUpload(t *testing.T, s *Server, key string, fields map[string]string, fileName string, file []byte) uploadResp {
	t.Helper()
	body, ct := multipartBody(t, fields, fileName, file)
	return postUpload(t, s.URL()+pathStreamUpload, key, ct, body)
}

func jsonUpload(t *testing.T, s *Server, path string, req map[string]string) uploadResp {
	t.Helper()
	b, _ := json.Marshal(req)
	return postUpload(t, s.URL()+path, testKey, "application/json", b)
}

// checkServed verifies an upload answer and that downloadUrl serves want.
func checkServed(t *testing.T, u uploadResp, want []byte, wantMime string) {
	t.Helper()
	if u.Status != 200 || !u.Success || u.Code != 200 || u.Msg != "File uploaded successfully" ||
		u.Data.FileSize != int64(len(want)) || u.Data.MimeType != wantMime || u.Data.FileName == "" {
		t.Fatalf("upload answer %+v", u)
	}
	if _, err := time.Parse(time.RFC3339, u.Data.UploadedAt); err != nil {
		t.Fatalf("uploadedAt %q", u.Data.UploadedAt)
	}
	resp, got := get(t, u.Data.DownloadURL)
	if resp.StatusCode != 200 || !bytes.Equal(got, want) || resp.Header.Get("Content-Type") != wantMime {
		t.Fatalf("download %s: %d, %d bytes, %s", u.Data.DownloadURL, resp.StatusCode, len(got), resp.Header.Get("Content-Type"))
	}
}

func TestUploadsServeSameBytes(t *testing.T) {
	s := startMock(t, Options{})
	img := solidPNG(t, 16, 16, color.RGBA{10, 200, 30, 255})

	u := streamUpload(t, s, testKey, map[string]string{"uploadPath": "images/terraform", "fileName": "in.png"}, "local.png", img)
	checkServed(t, u, img, "image/png")
	if u.Data.FilePath != "images/terraform/in.png" || u.Data.DownloadURL != s.URL()+"/files/uploads/images/terraform/in.png" {
		t.Fatalf("paths %+v", u.Data)
	}
	// Without fileName the part's file name is used.
	if u := streamUpload(t, s, testKey, map[string]string{"uploadPath": "x"}, "from part.png", img); u.Data.FileName != "from part.png" {
		t.Fatalf("name %q", u.Data.FileName)
	} else {
		checkServed(t, u, img, "image/png")
	}

	b64 := base64.StdEncoding.EncodeToString(img)
	checkServed(t, jsonUpload(t, s, pathBase64Upload, map[string]string{"base64Data": b64, "uploadPath": "b64"}), img, "image/png")
	u = jsonUpload(t, s, pathBase64Upload, map[string]string{"base64Data": "data:image/png;base64," + b64, "uploadPath": "b64", "fileName": "d.png"})
	checkServed(t, u, img, "image/png")

	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(img) }))
	defer origin.Close()
	u = jsonUpload(t, s, pathURLUpload, map[string]string{"fileUrl": origin.URL + "/pic.png", "uploadPath": "byurl"})
	checkServed(t, u, img, "image/png")
	if u.Data.FileName != "pic.png" {
		t.Fatalf("url upload name %q", u.Data.FileName)
	}

	// A result link of the mock itself can be uploaded by URL.
	d := waitDone(t, s, generate(t, s, map[string]any{"prompt": "reupload"}))
	result := download(t, d.Response.ResultImageURL)
	checkServed(t, jsonUpload(t, s, pathURLUpload, map[string]string{"fileUrl": d.Response.ResultImageURL, "uploadPath": "own"}), result, "image/jpeg")

	// Same name overwrites.
	other := solidPNG(t, 4, 4, color.RGBA{1, 2, 3, 255})
	checkServed(t, streamUpload(t, s, testKey, map[string]string{"uploadPath": "images/terraform", "fileName": "in.png"}, "a.png", other), other, "image/png")

	// An upload works as an edit input, and download-url accepts it.
	id := generate(t, s, map[string]any{"prompt": "edit upload", "inputImage": u.Data.DownloadURL})
	if d := waitDone(t, s, id); d.SuccessFlag != 1 {
		t.Fatalf("edit from upload: %+v", d)
	}
	if r := downloadURL(t, s, u.Data.DownloadURL); r.Code != 200 {
		t.Fatalf("download-url for upload: %s", r.Raw)
	}
	if st := s.Stats(); st.Uploads != 7 || st.UploadDownloads != 7 {
		t.Fatalf("stats %+v", st)
	}
}

func TestUploadErrors(t *testing.T) {
	s := startMock(t, Options{MaxUploadBytes: 1000})
	small := []byte("GIF89a tiny")
	cases := []struct {
		name string
		got  uploadResp
		code int
	}{
		{"bad auth", streamUpload(t, s, "wrong", map[string]string{"uploadPath": "a"}, "f.gif", small), 401},
		{"no auth", streamUpload(t, s, "", map[string]string{"uploadPath": "a"}, "f.gif", small), 401},
		{"missing file", streamUpload(t, s, testKey, map[string]string{"uploadPath": "a"}, "", nil), 400},
		{"missing uploadPath", streamUpload(t, s, testKey, nil, "f.gif", small), 400},
		{"traversal", streamUpload(t, s, testKey, map[string]string{"uploadPath": "a/../../etc"}, "f.gif", small), 400},
		{"bad file name", streamUpload(t, s, testKey, map[string]string{"uploadPath": "a", "fileName": "../x"}, "f.gif", small), 400},
		{"too large", streamUpload(t, s, testKey, map[string]string{"uploadPath": "a"}, "f.bin", bytes.Repeat([]byte{1}, 1001)), 400},
		{"not multipart", postUpload(t, s.URL()+pathStreamUpload, testKey, "application/json", []byte(`{}`)), 400},
		{"missing base64", jsonUpload(t, s, pathBase64Upload, map[string]string{"uploadPath": "a"}), 400},
		{"bad base64", jsonUpload(t, s, pathBase64Upload, map[string]string{"uploadPath": "a", "base64Data": "!!!"}), 400},
		{"base64 too large", jsonUpload(t, s, pathBase64Upload, map[string]string{"uploadPath": "a",
			"base64Data": base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 1001))}), 400},
		{"bad fileUrl", jsonUpload(t, s, pathURLUpload, map[string]string{"uploadPath": "a", "fileUrl": "file:///etc/passwd"}), 400},
		{"non-loopback fileUrl", jsonUpload(t, s, pathURLUpload, map[string]string{"uploadPath": "a", "fileUrl": "https://example.invalid/x.png"}), 400},
	}
	for _, c := range cases {
		if c.got.Status != c.code || c.got.Code != c.code || c.got.Success || c.got.Msg == "" {
			t.Errorf("%s: %+v", c.name, c.got)
		}
	}
	if !strings.Contains(cases[2].got.Msg, "file") || !strings.Contains(cases[3].got.Msg, "uploadPath") {
		t.Errorf("messages: %q / %q", cases[2].got.Msg, cases[3].got.Msg)
	}
	if r := call(t, http.MethodGet, s.URL()+pathStreamUpload, testKey, nil); r.Status != 405 {
		t.Errorf("GET upload: %d", r.Status)
	}
	if resp, _ := get(t, s.URL()+"/files/uploads/a/f.gif"); resp.StatusCode != 404 {
		t.Errorf("a failed upload is served: %d", resp.StatusCode)
	}
}
