package safehttp

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{" , ,", nil, ""},
		{"localhost", []string{"localhost"}, ""},
		{"LocalHost.", []string{"localhost"}, ""},
		{"127.0.0.1, 127.0.0.0/8 ,::1", []string{"127.0.0.1", "127.0.0.0/8", "::1"}, ""},
		{"10.1.2.3/8", []string{"10.0.0.0/8"}, ""},
		{"[::1]", []string{"::1"}, ""},
		{"::ffff:10.0.0.1", []string{"10.0.0.1"}, ""},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, ""},
		{"wiki.corp,my_host.internal", []string{"wiki.corp", "my_host.internal"}, ""},
		{"bücher.example", []string{"xn--bcher-kva.example"}, ""},
		{"http://localhost", nil, "without scheme, port or path"},
		{"localhost:8080", nil, "without scheme, port or path"},
		{"host/path", nil, "not a valid CIDR prefix"},
		{"10.0.0.0/33", nil, "not a valid CIDR prefix"},
		{"*.corp", nil, "wildcards"},
		{"fe80::1%eth0", nil, "zone"},
		{"127.1", nil, "not a valid IP address"},
		{"2130706433", nil, "not a valid IP address"},
		{"a..b", nil, "label"},
		{"bad!host", nil, "letters, digits"},
		{strings.Repeat("a", 64) + ".com", nil, "label"},
		{"ok.com, user@host", nil, `"user@host"`},
	}
	for _, tt := range tests {
		got, err := ParseAllowList(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseAllowList(%q) error = %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowList(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ParseAllowList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAllowList(t *testing.T) {
	t.Parallel()
	a := newAllowList([]string{"Wiki.Corp", "10.0.0.0/8", "::1", "not a host!"})
	for _, h := range []string{"wiki.corp", "WIKI.CORP", "wiki.corp."} {
		if !a.allowsHost(h) {
			t.Errorf("allowsHost(%q) = false", h)
		}
	}
	for _, h := range []string{"corp", "www.wiki.corp", "10.0.0.1", "not a host!"} {
		if a.allowsHost(h) {
			t.Errorf("allowsHost(%q) = true", h)
		}
	}
	for _, ip := range []string{"10.2.3.4", "::ffff:10.2.3.4", "::1"} {
		if !a.allowsAddr(netip.MustParseAddr(ip)) {
			t.Errorf("allowsAddr(%s) = false", ip)
		}
	}
	for _, ip := range []string{"11.0.0.1", "127.0.0.1", "::2"} {
		if a.allowsAddr(netip.MustParseAddr(ip)) {
			t.Errorf("allowsAddr(%s) = true", ip)
		}
	}
}

// FuzzParseAllowList checks that any input is parsed or refused without a
// panic, and that what is accepted is normalized: parsing the output again
// gives the same list, and every entry is usable by newAllowList.
func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{
		"", "localhost", "127.0.0.1,10.0.0.0/8", "::1, fe80::/10", "[::1]", "::ffff:1.2.3.4/120",
		"bücher.example", "a.b.c.", "http://x", "x:1", "*.x", "1.2.3.4/99", "\x00", "ÿ,\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseAllowList(s)
		if err != nil {
			return
		}
		for _, e := range got {
			if e == "" || !utf8.ValidString(e) || strings.ContainsAny(e, ", ") {
				t.Fatalf("ParseAllowList(%q) gave entry %q", s, e)
			}
			if _, _, err := parseEntry(e); err != nil {
				t.Fatalf("ParseAllowList(%q) gave entry %q that does not parse: %v", s, e, err)
			}
		}
		again, err := ParseAllowList(strings.Join(got, ","))
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("ParseAllowList(%q) = %q, but parsing that again = %q, %v", s, got, again, err)
		}
	})
}
