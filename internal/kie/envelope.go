package kie

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxMessageLen = 300
	maxExcerptLen = 200
)

// envelope is KIE's {"code","msg","data"} answer, read leniently.
type envelope struct {
	Code    int
	HasCode bool // the body was a JSON object with a numeric (or numeric-string) code
	Msg     string
	Data    json.RawMessage // nil when absent or null
	Fields  map[string]json.RawMessage
}

// decodeEnvelope parses a body as an envelope. ok is false when the body is not a JSON object.
func decodeEnvelope(body []byte) (env envelope, ok bool) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return env, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return env, false
	}
	env.Fields = fields
	if raw, found := fields["code"]; found {
		if n, isNum := rawInt(raw); isNum {
			env.Code, env.HasCode = n, true
		}
	}
	env.Msg = capText(rawString(fields["msg"]), maxMessageLen)
	if env.Msg == "" {
		env.Msg = capText(rawString(fields["message"]), maxMessageLen)
	}
	if d := fields["data"]; !isNull(d) {
		env.Data = d
	}
	return env, true
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

// rawString reads a JSON string leniently: numbers and bools become their text, null becomes "",
// objects and arrays their compact JSON.
func rawString(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return ""
	}
	if t[0] == '"' {
		var s string
		if json.Unmarshal(t, &s) == nil {
			return s
		}
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, t) == nil {
		return buf.String()
	}
	return ""
}

// rawInt reads an integer given as a JSON number or a numeric string. null and "" read as 0 but
// report false, as do non-integral or out-of-range values.
func rawInt(raw json.RawMessage) (int, bool) {
	f, ok := rawNumber(raw)
	if !ok || f != math.Trunc(f) || f > math.MaxInt32 || f < math.MinInt32 {
		return 0, false
	}
	return int(f), true
}

// rawNumber reads a JSON number or a numeric string.
func rawNumber(raw json.RawMessage) (float64, bool) {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return 0, false
	}
	s := string(t)
	if t[0] == '"' {
		if json.Unmarshal(t, &s) != nil {
			return 0, false
		}
		s = strings.TrimSpace(s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// rawBool reads true/false given as a JSON bool, a string ("true", "1", "yes") or a number.
func rawBool(raw json.RawMessage) (bool, bool) {
	t := bytes.TrimSpace(raw)
	if isNull(t) {
		return false, false
	}
	var b bool
	if json.Unmarshal(t, &b) == nil {
		return b, true
	}
	switch strings.ToLower(strings.TrimSpace(rawString(t))) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// capText trims s, drops control characters and cuts it to n runes.
func capText(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}

// safeExcerpt turns a non-JSON body (an HTML error page, say) into a short single line of text.
func safeExcerpt(body []byte) string {
	const scan = 16 << 10
	if len(body) > scan {
		body = body[:scan]
	}
	return capText(stripTags(string(body)), maxExcerptLen)
}

// stripTags drops HTML tags and the contents of script and style elements.
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	lower := strings.ToLower(s)
	for i := 0; i < len(s); {
		if s[i] != '<' {
			b.WriteByte(s[i])
			i++
			continue
		}
		skipTo := ""
		for _, el := range []string{"script", "style"} {
			if strings.HasPrefix(lower[i+1:], el) {
				skipTo = "</" + el
			}
		}
		if skipTo != "" {
			end := strings.Index(lower[i+1:], skipTo)
			if end < 0 {
				break
			}
			i += 1 + end
		}
		end := strings.IndexByte(s[i:], '>')
		if end < 0 {
			break
		}
		i += end + 1
		b.WriteByte(' ')
	}
	return b.String()
}
