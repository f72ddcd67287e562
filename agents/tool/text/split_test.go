package text

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func checkSplit(t *testing.T, s string, max int) []string {
	t.Helper()
	pieces := splitText(s, max)
	if got := strings.Join(pieces, ""); got != s {
		t.Fatalf("the pieces do not make up the text")
	}
	for i, p := range pieces {
		if len(p) > max || p == "" {
			t.Errorf("piece %d has %d bytes (max %d)", i, len(p), max)
		}
		if !utf8.ValidString(p) && utf8.ValidString(s) {
			t.Errorf("piece %d cuts a character: %q", i, p)
		}
	}
	return pieces
}

func TestSplitText(t *testing.T) {
	t.Parallel()
	para := strings.Repeat("word ", 30) + "end.\n\n" // 156 bytes
	pieces := checkSplit(t, strings.Repeat(para, 10), 500)
	for i, p := range pieces[:len(pieces)-1] {
		if !strings.HasSuffix(p, "end.\n\n") {
			t.Errorf("piece %d does not end at a paragraph: %q", i, p)
		}
	}

	sentences := strings.Repeat("This is a sentence. ", 50) // no line breaks
	for i, p := range checkSplit(t, sentences, 300) {
		if i < 3 && !strings.HasSuffix(p, ". ") {
			t.Errorf("piece %d does not end at a sentence: %q", i, p)
		}
	}

	cjk := strings.Repeat("これは文です。", 100)
	for i, p := range checkSplit(t, cjk, 100) {
		if i < 3 && !strings.HasSuffix(p, "。") {
			t.Errorf("piece %d does not end at a sentence: %q", i, p)
		}
	}

	checkSplit(t, strings.Repeat("😀", 1000), 101) // no break at all
	if got := splitText("short", 100); len(got) != 1 || got[0] != "short" {
		t.Errorf("splitText(short) = %q", got)
	}
	if got := splitText("", 100); len(got) != 0 {
		t.Errorf("splitText(\"\") = %q", got)
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hello. World!\n\nNext paragraph? Yes.", 8)
	f.Add(strings.Repeat("é😀 a", 50), 9)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 8 || max > 1<<16 {
			t.Skip()
		}
		checkSplit(t, s, max)
	})
}

func TestTrimSpaceKeep(t *testing.T) {
	t.Parallel()
	lead, core, trail := trimSpaceKeep("\n\n  Hello there \n")
	if lead != "\n\n  " || core != "Hello there" || trail != " \n" {
		t.Errorf("trimSpaceKeep = %q %q %q", lead, core, trail)
	}
	if lead, core, trail := trimSpaceKeep(" \n "); lead+core+trail != " \n " || core != "" {
		t.Errorf("trimSpaceKeep(space) = %q %q %q", lead, core, trail)
	}
}
