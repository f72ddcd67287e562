package search

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/net/html"
)

// Limits of one result, so ten fit well within the model's context.
const (
	maxTitleRunes   = 200
	maxSnippetRunes = 400
	maxURLBytes     = 1000
)

// format writes up to n results as a numbered list:
//
//  1. Title — URL
//     snippet
//
// Results without an http(s) URL, and repeated URLs, are left out.
func format(query, service string, results []result, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Web results for %q (%s):\n", query, service)
	seen := map[string]bool{}
	i := 0
	for _, r := range results {
		if i == n {
			break
		}
		link := strings.TrimSpace(r.url)
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(link) > maxURLBytes || seen[link] {
			continue
		}
		seen[link] = true
		i++
		title := clean(r.title, maxTitleRunes)
		if title == "" {
			title = u.Host
		}
		fmt.Fprintf(&b, "\n%d. %s — %s\n", i, title, link)
		if snippet := clean(r.snippet, maxSnippetRunes); snippet != "" {
			b.WriteString("   " + snippet + "\n")
		}
	}
	if i == 0 {
		return fmt.Sprintf("No web results for %q (%s).", query, service)
	}
	return strings.TrimRight(b.String(), "\n")
}

// clean turns a snippet that may hold HTML (Brave marks matches with
// <strong>) into one line of plain text of at most maxRunes characters:
// tags dropped, entities decoded, spaces and control characters
// collapsed, cut at a word with "…".
func clean(s string, maxRunes int) string {
	var text strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := false // inside a script or style element
loop:
	for {
		switch z.Next() {
		case html.ErrorToken:
			break loop
		case html.StartTagToken:
			name, _ := z.TagName()
			skip = string(name) == "script" || string(name) == "style"
		case html.EndTagToken:
			skip = false
		case html.TextToken:
			if !skip {
				text.Write(z.Text())
			}
		}
	}
	fields := strings.FieldsFunc(strings.ToValidUTF8(text.String(), "\uFFFD"), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	})
	out := strings.Join(fields, " ")
	runes := []rune(out)
	if len(runes) <= maxRunes {
		return out
	}
	cut := string(runes[:maxRunes])
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + "…"
}
