package rag

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestChunk(t *testing.T) {
	if got := chunk("  short text \r\n", 100, 10); len(got) != 1 || got[0] != "short text" {
		t.Fatalf("short = %q", got)
	}
	if got := chunk(" \n ", 100, 10); got != nil {
		t.Fatalf("blank = %q", got)
	}
	// Paragraphs break at their ends.
	para := strings.Repeat("word ", 30) // 150 bytes
	text := para + "\n\n" + para + "\n\n" + para
	got := chunk(text, 200, 20)
	if len(got) < 3 {
		t.Fatalf("paragraphs = %d chunks: %q", len(got), got)
	}
	for _, c := range got {
		if len(c) > 200 {
			t.Fatalf("chunk of %d bytes > 200", len(c))
		}
		if strings.HasPrefix(c, "ord") || strings.HasSuffix(c, "wor") {
			t.Fatalf("chunk cut inside a word: %q", c)
		}
	}
	// Every word is in some chunk, and chunks overlap.
	long := ""
	for i := range 400 {
		long += "w" + strings.Repeat("x", i%7) + " "
	}
	got = chunk(long, 120, 30)
	joined := strings.Join(got, " ")
	for _, w := range strings.Fields(long) {
		if !strings.Contains(joined, w) {
			t.Fatalf("word %q lost", w)
		}
	}
	if total := len(joined); total <= len(strings.TrimSpace(long)) {
		t.Fatalf("no overlap: %d bytes of chunks for %d of text", total, len(long))
	}
	// Text with no spaces is cut at character boundaries.
	runes := strings.Repeat("é", 500)
	cs := chunk(runes, 101, 10)
	for _, c := range cs {
		if !utf8.ValidString(c) || len(c) > 101 {
			t.Fatalf("bad chunk of unbroken text: %d bytes, valid %t", len(c), utf8.ValidString(c))
		}
	}
	if strings.Join(cs, "") != runes {
		t.Fatal("unbroken text was not kept whole")
	}
}
