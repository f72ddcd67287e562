package media

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzSplitText checks that the pieces of any text fit Polly's limit and
// keep every word of the text, in order.
func FuzzSplitText(f *testing.F) {
	f.Add("One. Two! Three? Four", 5)
	f.Add("ééé ééé\nx", 3)
	f.Add(strings.Repeat("word ", 100), 17)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n < 1 || n > 5000 || !utf8.ValidString(text) {
			t.Skip()
		}
		pieces := splitText(text, n)
		for _, p := range pieces {
			if c := utf8.RuneCountInString(p); c > n || c == 0 {
				t.Fatalf("piece of %d characters (limit %d): %q", c, n, p)
			}
		}
		if got, want := strings.Join(strings.Fields(strings.Join(pieces, "")), ""), strings.Join(strings.Fields(text), ""); got != want {
			t.Fatalf("the pieces %q lose text of %q", pieces, text)
		}
	})
}

// FuzzCapText checks that the text for the model stays within its limits
// and valid UTF-8.
func FuzzCapText(f *testing.F) {
	f.Add("hello world", 5)
	f.Add(strings.Repeat("😀 ", 40000), 20000)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n < 1 || !utf8.ValidString(text) {
			t.Skip()
		}
		got, cut := capText(text, n)
		if utf8.RuneCountInString(got) > n || len(got) > 60000 || !utf8.ValidString(got) {
			t.Fatalf("capText(%d) = %d characters, %d bytes", n, utf8.RuneCountInString(got), len(got))
		}
		if !cut && got != text {
			t.Fatalf("uncut text changed: %q", got)
		}
		if !strings.HasPrefix(text, got) {
			t.Fatalf("%q is not a prefix", got)
		}
	})
}
