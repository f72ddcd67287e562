package web

import (
	"strings"
	"testing"
)

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want, wantErr string
	}{
		{"example.com", "https://example.com", ""},
		{"  example.com/a?b=c#d ", "https://example.com/a?b=c#d", ""},
		{"www.example.com/path", "https://www.example.com/path", ""},
		{"localhost:8080/x", "https://localhost:8080/x", ""},
		{"127.0.0.1:8443", "https://127.0.0.1:8443", ""},
		{"[::1]:8080/x", "https://[::1]:8080/x", ""},
		{"//example.com/x", "https://example.com/x", ""},
		{"http://example.com", "http://example.com", ""},
		{"HTTPS://Example.com/X", "https://Example.com/X", ""},
		{"http:example.com", "http://example.com", ""},
		{"https:/example.com", "https://example.com", ""},
		{"", "", "empty"},
		{"ftp://example.com", "", "only http and https URLs can be fetched, not ftp: URLs"},
		{"mailto:someone@example.com", "", "not mailto:"},
		{"javascript:alert(1)", "", "not javascript:"},
		{"file:///etc/passwd", "", "not file:"},
		{"https://", "", "no host"},
		{"example.com:99999999999999999999", "", "not a valid URL"},
	}
	for _, tt := range tests {
		u, err := normalizeURL(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("normalizeURL(%q) = %v, %v; want an error containing %q", tt.in, u, err, tt.wantErr)
			}
			continue
		}
		if err != nil || u.String() != tt.want {
			t.Errorf("normalizeURL(%q) = %v, %v; want %s", tt.in, u, err, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in           string
		runes, bytes int
		want         string
		wantCut      bool
	}{
		{"hello", 10, 10, "hello", false},
		{"hello", 5, 5, "hello", false},
		{"hello world", 6, 100, "hello", true},
		{"héllo", 2, 100, "hé", true},
		{"😀😀😀", 10, 9, "😀😀", true},
		{"😀😀😀", 10, 8, "😀😀", true},
		{"😀😀😀", 10, 7, "😀", true},
		{"😀😀😀", 10, 12, "😀😀😀", false},
	}
	for _, tt := range tests {
		got, cut := truncate(tt.in, tt.runes, tt.bytes)
		if got != tt.want || cut != tt.wantCut {
			t.Errorf("truncate(%q, %d, %d) = %q, %v; want %q, %v", tt.in, tt.runes, tt.bytes, got, cut, tt.want, tt.wantCut)
		}
	}
}

// FuzzNormalizeURL checks that whatever a model writes is refused or
// becomes an http(s) URL with a host, without a panic.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"example.com", "localhost:8080/x", "[::1]:80", "//x", "http:x", "mailto:a@b", "a:b:c", "https://",
		"1.2.3.4:0", "ex ample.com", "https://%zz", "\x00", "🎉.example",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := normalizeURL(s)
		if err != nil {
			return
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			t.Fatalf("normalizeURL(%q) = %v", s, u)
		}
	})
}
