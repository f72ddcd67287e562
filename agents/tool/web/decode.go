package web

import (
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// kind is how a response is shown to the model.
type kind int

const (
	kindBinary kind = iota // described in one line
	kindText               // shown as it is
	kindHTML               // title and visible text
)

// textTypes are non-text/* media types that are text to read.
var textTypes = map[string]bool{
	"application/json":                  true,
	"application/xml":                   true,
	"application/javascript":            true,
	"application/ecmascript":            true,
	"application/x-javascript":          true,
	"application/yaml":                  true,
	"application/x-yaml":                true,
	"application/toml":                  true,
	"application/x-ndjson":              true,
	"application/x-www-form-urlencoded": true,
	"application/graphql":               true,
	"application/sql":                   true,
	"application/x-sh":                  true,
}

// kindOf classifies a declared media type. ok is false when it says
// nothing useful (missing, or application/octet-stream), so the content
// should be sniffed.
func kindOf(contentType string) (k kind, mediaType string, ok bool) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt == "" || mt == "application/octet-stream" {
		return kindBinary, mt, false
	}
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		return kindHTML, mt, true
	case strings.HasPrefix(mt, "text/") || textTypes[mt] ||
		strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml"):
		return kindText, mt, true
	}
	return kindBinary, mt, true
}

// sniff classifies content whose type was not declared, from its first
// bytes, with the WHATWG algorithm net/http implements.
func sniff(head []byte) (kind, string) {
	ct := http.DetectContentType(head)
	k, mt, ok := kindOf(ct)
	if !ok {
		return kindBinary, "application/octet-stream"
	}
	return k, mt
}

// decode turns a body into valid UTF-8. A charset from a byte order mark
// or the Content-Type header is trusted; otherwise a body that is valid
// UTF-8 is UTF-8 — HTML's own fallback, windows-1252, judges only the
// first 1024 bytes and turns an emoji further down into mojibake — and
// anything else is decoded as a <meta> tag says, or as windows-1252.
func decode(body []byte, contentType string) string {
	e, _, certain := charset.DetermineEncoding(body, contentType)
	var s string
	switch {
	case e == encoding.Nop || (!certain && utf8.Valid(trimPartialRune(body))):
		s = string(body)
	default:
		b, err := e.NewDecoder().Bytes(body)
		if err != nil {
			b = body
		}
		s = string(b)
	}
	s = strings.TrimPrefix(s, "\uFEFF")
	return strings.ToValidUTF8(s, "\uFFFD")
}

// trimPartialRune drops an incomplete UTF-8 sequence at the end of b, left
// when a body was cut at the size limit.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}
