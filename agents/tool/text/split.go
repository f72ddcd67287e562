package text

import (
	"strings"
	"unicode/utf8"
)

// splitText cuts s into pieces of at most max bytes whose concatenation is
// s. It cuts after a paragraph break if it can, else after a line break,
// else after a sentence, else after a space, else between two characters;
// a break is only taken in the second half of a piece, so pieces are not
// needlessly small. max must be at least 8.
func splitText(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := cutPoint(s, max)
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// cutPoint is where splitText ends a piece of s, len(s) > max.
func cutPoint(s string, max int) int {
	w, min := s[:max], max/2
	if i := strings.LastIndex(w, "\n\n"); i >= min {
		return i + 2
	}
	if i := strings.LastIndexByte(w, '\n'); i >= min {
		return i + 1
	}
	// The marks after which a sentence may end, with the space that
	// follows them where the script uses one.
	best := -1
	for _, end := range [...]string{". ", "! ", "? ", ".\t", "。", "！", "？", "؟ ", "। "} {
		if i := strings.LastIndex(w, end); i >= 0 && i+len(end) > best {
			best = i + len(end)
		}
	}
	if best >= min {
		return best
	}
	if i := strings.LastIndexAny(w, " \t"); i >= min {
		return i + 1
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	if i == 0 { // not UTF-8: any cut will do
		return max
	}
	return i
}

// trimSpaceKeep splits s into its leading space, its core and its
// trailing space, so a translated core can be put back between them.
func trimSpaceKeep(s string) (lead, core, trail string) {
	core = strings.TrimLeft(s, " \t\r\n")
	lead = s[:len(s)-len(core)]
	trimmed := strings.TrimRight(core, " \t\r\n")
	trail = core[len(trimmed):]
	return lead, trimmed, trail
}
