package webhook

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCleanText feeds answers' bodies, which any endpoint controls, to what
// makes them storable: the result is always valid UTF-8 without NUL, no
// longer than the input's worth of replacement characters.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"ok", "", "\x00\xff", "héllo wörld", strings.Repeat("é", maxExcerpt/2), "abc\xe2\x82"} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, b []byte, cut bool) {
		got := cleanText(b, cut)
		if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
			t.Fatalf("cleanText(%q, %v) = %q", b, cut, got)
		}
		if utf8.RuneCountInString(got) > len(b) {
			t.Fatalf("cleanText(%q) grew to %q", b, got)
		}
	})
}

// FuzzCheckURL feeds endpoint URLs, which users send, to their check: an
// accepted URL is an absolute http(s) URL with a host, no user info and no
// fragment, so the delivery client takes it.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1:8080/x?y=1", "ftp://x", "https://u:p@x/", "https:///p", "http://[::1]/", " https://x.io/#f "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := checkURL(raw)
		if err != nil {
			return
		}
		u, perr := url.Parse(got)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.Fragment != "" || len(got) > maxURL {
			t.Fatalf("checkURL(%q) accepted %q (%v)", raw, got, perr)
		}
	})
}
