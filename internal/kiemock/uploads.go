package kiemock

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
)

type upload struct {
	data []byte
	mime string
	at   time.Time
}

type uploadEnvelope struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	Data    any    `json:"data"`
}

// UploadResult is the data of a successful upload answer.
type UploadResult struct {
	FileName    string `json:"fileName"`
	FilePath    string `json:"filePath"`
	DownloadURL string `json:"downloadUrl"`
	FileSize    int64  `json:"fileSize"`
	MimeType    string `json:"mimeType"`
	UploadedAt  string `json:"uploadedAt"`
}

func (s *Server) uploadError(w http.ResponseWriter, code int, msg string) {
	status := code
	if s.opts.ErrorsAsHTTP200 {
		status = http.StatusOK
	}
	writeJSON(w, status, uploadEnvelope{Code: code, Msg: msg})
}

func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.uploadError(w, http.StatusMethodNotAllowed, "method not allowed; use POST")
		return
	}
	if !s.authorized(r) {
		s.count(func(st *Stats) { st.AuthFailures++ })
		s.uploadError(w, http.StatusUnauthorized, "You do not have access permissions")
		return
	}
	switch r.URL.Path {
	case pathStreamUpload:
		s.streamUpload(w, r)
	case pathBase64Upload:
		s.base64Upload(w, r)
	default:
		s.urlUpload(w, r)
	}
}

func (s *Server) streamUpload(w http.ResponseWriter, r *http.Request) {
	limit := s.opts.MaxUploadBytes
	r.Body = http.MaxBytesReader(w, r.Body, limit+1<<20)
	mr, err := r.MultipartReader()
	if err != nil {
		s.uploadError(w, 400, "expected multipart/form-data with a file field")
		return
	}
	var (
		data                 []byte
		haveFile             bool
		partName, partMime   string
		uploadPath, fileName string
	)
	tooLarge := func(err error) bool {
		var mbe *http.MaxBytesError
		return errors.As(err, &mbe)
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			switch p.FormName() {
			case "file":
				data, err = io.ReadAll(io.LimitReader(p, limit+1))
				if err == nil && int64(len(data)) > limit {
					err = &http.MaxBytesError{Limit: limit}
				}
				haveFile, partName, partMime = true, p.FileName(), p.Header.Get("Content-Type")
			case "uploadPath":
				uploadPath, err = readField(p)
			case "fileName":
				fileName, err = readField(p)
			}
			_ = p.Close()
		}
		if tooLarge(err) {
			s.uploadError(w, 400, "file is larger than the upload limit")
			return
		}
		if err != nil {
			s.uploadError(w, 400, "malformed multipart body")
			return
		}
	}
	if !haveFile {
		s.uploadError(w, 400, "file is required")
		return
	}
	if fileName == "" {
		fileName = path.Base(strings.ReplaceAll(partName, "\\", "/"))
		if fileName == "." || fileName == "/" {
			fileName = ""
		}
	}
	s.storeUpload(w, r, data, uploadPath, fileName, partMime)
}

func readField(p io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, 4096))
	return strings.TrimSpace(string(b)), err
}

func (s *Server) base64Upload(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Base64Data string `json:"base64Data"`
		UploadPath string `json:"uploadPath"`
		FileName   string `json:"fileName"`
	}
	body, err := readBody(r, s.opts.MaxUploadBytes/3*4+1<<20)
	if err != nil {
		s.uploadError(w, 400, "file is larger than the upload limit")
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.uploadError(w, 400, "request body must be JSON: "+err.Error())
		return
	}
	if req.Base64Data == "" {
		s.uploadError(w, 400, "base64Data is required")
		return
	}
	payload, hint := req.Base64Data, ""
	if rest, ok := strings.CutPrefix(payload, "data:"); ok {
		meta, b64, ok := strings.Cut(rest, ",")
		if !ok || !strings.HasSuffix(meta, ";base64") {
			s.uploadError(w, 400, "base64Data: data URL must be base64-encoded")
			return
		}
		payload, hint = b64, strings.TrimSuffix(meta, ";base64")
	}
	data, ok := decodeBase64(payload)
	if !ok {
		s.uploadError(w, 400, "base64Data is not valid base64")
		return
	}
	if int64(len(data)) > s.opts.MaxUploadBytes {
		s.uploadError(w, 400, "file is larger than the upload limit")
		return
	}
	s.storeUpload(w, r, data, req.UploadPath, req.FileName, hint)
}

func decodeBase64(s string) ([]byte, bool) {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

func (s *Server) urlUpload(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FileURL    string `json:"fileUrl"`
		UploadPath string `json:"uploadPath"`
		FileName   string `json:"fileName"`
	}
	body, err := readBody(r, 64<<10)
	if err != nil {
		s.uploadError(w, 400, "request body too large")
		return
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.uploadError(w, 400, "request body must be JSON: "+err.Error())
		return
	}
	if !isHTTPURL(req.FileURL) {
		s.uploadError(w, 400, "fileUrl must be an http(s) URL")
		return
	}
	data, ctype, err := s.fetch(r.Context(), s.baseFor(r), req.FileURL, s.opts.MaxUploadBytes)
	if err != nil {
		s.uploadError(w, 400, "failed to download fileUrl: "+err.Error())
		return
	}
	name := req.FileName
	if name == "" {
		if u, err := url.Parse(req.FileURL); err == nil && path.Ext(u.Path) != "" {
			name = path.Base(u.Path)
		}
	}
	s.storeUpload(w, r, data, req.UploadPath, name, ctype)
}

// cleanUploadPath accepts folder names like "images/terraform": segments
// of letters, digits, '.', '_' and '-', never "." or "..".
func cleanUploadPath(p string) (string, bool) {
	p = strings.Trim(p, "/")
	if p == "" || len(p) > 512 {
		return "", false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false
		}
		for _, c := range seg {
			if !(c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)) || c == '.' || c == '_' || c == '-') {
				return "", false
			}
		}
	}
	return p, true
}

func validFileName(n string) bool {
	if n == "" || n == "." || n == ".." || len(n) > 255 || strings.ContainsAny(n, "/\\") {
		return false
	}
	for _, c := range n {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

func extForMime(m string) string {
	switch m {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".bin"
}

func (s *Server) storeUpload(w http.ResponseWriter, r *http.Request, data []byte, uploadPath, fileName, hint string) {
	dir, ok := cleanUploadPath(uploadPath)
	if !ok {
		s.uploadError(w, 400, "uploadPath is required: a folder such as images/terraform (letters, digits, '.', '_', '-')")
		return
	}
	mimeType := http.DetectContentType(data)
	if strings.HasPrefix(mimeType, "application/octet-stream") || strings.HasPrefix(mimeType, "text/plain") {
		if h := strings.TrimSpace(hint); h != "" {
			mimeType = h
		}
	}
	if fileName == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		fileName = hex.EncodeToString(b) + extForMime(mimeType)
	}
	if !validFileName(fileName) {
		s.uploadError(w, 400, "fileName must be a plain file name")
		return
	}
	key := dir + "/" + fileName
	now := time.Now()
	s.mu.Lock()
	prev := int64(0)
	if old := s.uploads[key]; old != nil {
		prev = int64(len(old.data))
	}
	if s.uploadBytes-prev+int64(len(data)) > DefaultUploadStoreCap {
		s.mu.Unlock()
		s.uploadError(w, 500, "upload storage full")
		return
	}
	s.uploadBytes += int64(len(data)) - prev
	s.uploads[key] = &upload{data: data, mime: mimeType, at: now}
	s.mu.Unlock()

	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	writeJSON(w, http.StatusOK, uploadEnvelope{
		Success: true, Code: 200, Msg: "File uploaded successfully",
		Data: UploadResult{
			FileName:    fileName,
			FilePath:    key,
			DownloadURL: s.baseFor(r) + uploadsPrefix + strings.Join(segs, "/"),
			FileSize:    int64(len(data)),
			MimeType:    mimeType,
			UploadedAt:  now.UTC().Format(time.RFC3339),
		},
	})
}

// handleDownloadURL issues a fresh link for a file this mock produced.
func (s *Server) handleDownloadURL(w http.ResponseWriter, r *http.Request, _ bool) {
	if r.Method != http.MethodPost {
		methodNotAllowed(s, w, http.MethodPost)
		return
	}
	if !s.requireAuth(w, r) {
		return
	}
	var req struct {
		URL string `json:"url"`
	}
	body, err := readBody(r, 64<<10)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		s.writeError(w, apiErr(400, "request body must be a JSON object"))
		return
	}
	if req.URL == "" {
		s.writeError(w, apiErr(422, "url is required"))
		return
	}
	u, err := url.Parse(req.URL)
	if err != nil || !isHTTPURL(req.URL) || !s.ownFile(u, s.baseFor(r)) {
		s.writeError(w, apiErr(422, "url is not a file produced by KIE"))
		return
	}
	base := u.Scheme + "://" + u.Host
	if key, ok := strings.CutPrefix(u.Path, uploadsPrefix); ok {
		s.mu.Lock()
		found := s.uploads[key] != nil
		s.mu.Unlock()
		if !found {
			s.writeError(w, apiErr(422, "url is not a file produced by KIE"))
			return
		}
		writeOK(w, base+u.EscapedPath())
		return
	}
	if _, _, _, market := parseMarketFile(u.Path); market {
		link, ok := s.marketDownloadLink(base, u.Path)
		if !ok {
			s.writeError(w, apiErr(422, "url is not a file produced by KIE"))
			return
		}
		writeOK(w, link)
		return
	}
	id, _, ext, ok := parseTaskFile(u.Path)
	s.mu.Lock()
	t := s.tasks[id]
	if !ok || t == nil || !t.finished || t.flag != 1 || ext != t.ext() {
		s.mu.Unlock()
		s.writeError(w, apiErr(422, "url is not a file produced by KIE"))
		return
	}
	link := s.linkLocked(base, u.Path, time.Now())
	s.mu.Unlock()
	writeOK(w, link)
}
