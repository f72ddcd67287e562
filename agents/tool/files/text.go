package files

import (
	"bufio"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// sniffBytes is how much of a file is looked at to tell text from binary
// and to guess its charset.
const sniffBytes = 4096

// isText reports whether a file of declared media type contentType whose
// first bytes are head is text to show. A declared text type is trusted
// unless the bytes are plainly binary; anything else (an upload is often
// application/octet-stream) is sniffed, so a .py or .csv file reads as text
// whatever it was declared as, and a PNG never does.
func isText(contentType string, head []byte) bool {
	if len(head) == 0 {
		return true
	}
	sniffed := strings.HasPrefix(http.DetectContentType(head), "text/")
	mt, _, _ := mime.ParseMediaType(contentType)
	declared := strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
	if declared && !sniffed {
		// DetectContentType calls bytes binary when they hold control
		// bytes, which a declared text file only does in UTF-16.
		_, name, _ := charset.DetermineEncoding(head, contentType)
		return strings.HasPrefix(name, "utf-16") || !strings.ContainsRune(string(head), 0)
	}
	return declared || sniffed
}

// textReader returns the characters of a text file as UTF-8 runes, its
// charset taken from a byte order mark, the content type's charset
// parameter, or else its first bytes: UTF-8 (the common case) when they
// are valid UTF-8 or hold a multi-byte UTF-8 character, which other
// charsets' text almost never does, and otherwise what an HTML <meta> says
// or windows-1252. Bytes that do not decode read as U+FFFD.
func textReader(r *bufio.Reader, contentType string) *bufio.Reader {
	head, _ := r.Peek(sniffBytes) // a shorter file is fine
	e, _, certain := charset.DetermineEncoding(head, contentType)
	if e == encoding.Nop || e == encoding.Replacement || (!certain && looksUTF8(head)) {
		return r
	}
	return bufio.NewReader(transform.NewReader(r, e.NewDecoder()))
}

// looksUTF8 reports whether b, the first bytes of a file, is UTF-8: valid
// (a character cut at the end of b does not count against it), or holding
// at least one valid multi-byte character, which text in another charset
// almost never does.
func looksUTF8(b []byte) bool {
	multi, invalid := false, false
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1 && !utf8.FullRune(b):
			return multi || !invalid // cut where the peek ended
		case r == utf8.RuneError && n == 1:
			invalid = true
		case n > 1:
			multi = true
		}
		b = b[n:]
	}
	return multi || !invalid
}
