package media

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// capText cuts text for the model at maxRunes characters and 60,000 bytes
// (under the agent loop's 64 KiB cut even for 4-byte characters), at a
// line or word end when one is near, and reports whether it cut.
func capText(text string, maxRunes int) (string, bool) {
	const maxBytes = 60000
	cut := false
	if len(text) > maxBytes {
		i := maxBytes
		for i > 0 && !utf8.RuneStart(text[i]) {
			i--
		}
		text, cut = text[:i], true
	}
	if utf8.RuneCountInString(text) > maxRunes {
		text, cut = truncateRunes(text, maxRunes), true
	}
	if cut {
		if i := strings.LastIndexAny(text, "\n "); i > len(text)*9/10 {
			text = text[:i]
		}
		text = strings.TrimRight(text, " \n")
	}
	return text, cut
}

// formatCount writes 20000 as "20,000".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
