package rag

import (
	"strings"
	"unicode/utf8"
)

// chunk splits text into passages of at most size bytes, breaking at a
// paragraph, a line, a sentence or a word where it can (in the second half
// of the passage), each starting about overlap bytes before the previous
// one ended, at a word. Passages are trimmed; empty ones are left out.
func chunk(text string, size, overlap int) []string {
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return nil
	}
	if len(text) <= size {
		return []string{text}
	}
	overlap = min(max(overlap, 0), size/2)
	var out []string
	for start := 0; start < len(text); {
		end := len(text)
		if start+size < len(text) {
			end = breakAt(text, start, start+size)
		}
		if p := strings.TrimSpace(text[start:end]); p != "" {
			out = append(out, p)
		}
		if end >= len(text) {
			break
		}
		next := wordStart(text, end-overlap)
		if next <= start || next > end { // no word to start at: no overlap
			next = end
		}
		start = next
	}
	return out
}

// breakAt returns where a passage from start that may run to limit
// should end: after the last paragraph, line, sentence or word break in
// its second half, else at limit (moved back to a character's start).
func breakAt(text string, start, limit int) int {
	window := text[start+(limit-start)/2 : limit]
	base := limit - len(window)
	for _, sep := range []string{"\n\n", "\n", ". ", "! ", "? ", "; ", " "} {
		if i := strings.LastIndex(window, sep); i >= 0 {
			return base + i + len(sep)
		}
	}
	for limit > start+1 && !utf8.RuneStart(text[limit]) {
		limit--
	}
	return limit
}

// wordStart returns the start of the first word at or after i.
func wordStart(text string, i int) int {
	i = max(i, 0)
	if i > 0 && text[i-1] != ' ' && text[i-1] != '\n' {
		if j := strings.IndexAny(text[i:], " \n"); j >= 0 {
			i += j
		} else {
			return len(text)
		}
	}
	for i < len(text) && (text[i] == ' ' || text[i] == '\n') {
		i++
	}
	return i
}
