package web

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// htmlToText returns the title and the visible text of an HTML document,
// the way a reader would see it: no scripts or styles, whitespace
// collapsed, a line break after block elements and a blank line between
// paragraphs, list items and headings marked, and links as
// "text (absolute URL)" when base is given. It stops a little past
// maxRunes characters, so a huge page costs no more than a short one to
// render. The result is valid UTF-8 for any input.
func htmlToText(src string, base *url.URL, maxRunes int) (title, text string) {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		// html.Parse fails only on reader errors; a string has none.
		return "", ""
	}
	title = findTitle(doc)
	w := &textWriter{max: maxRunes, base: base}
	w.walk(doc)
	return title, strings.TrimSpace(w.b.String())
}

// findTitle returns the text of the document's first <title> (the one in
// <head>; an <svg> may have its own title elements), collapsed.
func findTitle(n *html.Node) string {
	if n.Type == html.ElementNode && n.DataAtom == atom.Svg {
		return ""
	}
	if n.Type == html.ElementNode && n.DataAtom == atom.Title {
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
		}
		return strings.Join(strings.Fields(clean(b.String())), " ")
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if t := findTitle(c); t != "" {
			return t
		}
	}
	return ""
}

// skipped elements hold no text a reader sees. <head> is skipped whole:
// its <title> is returned apart.
var skipped = map[atom.Atom]bool{
	atom.Head: true, atom.Script: true, atom.Style: true, atom.Noscript: true,
	atom.Template: true, atom.Svg: true, atom.Math: true, atom.Iframe: true,
	atom.Object: true, atom.Embed: true, atom.Canvas: true, atom.Select: true,
	atom.Audio: true, atom.Video: true, atom.Map: true, atom.Dialog: true,
}

// blocks maps block elements to the line breaks around them: 2 for a
// paragraph break, 1 for a line break.
var blocks = map[atom.Atom]int{
	atom.P: 2, atom.H1: 2, atom.H2: 2, atom.H3: 2, atom.H4: 2, atom.H5: 2, atom.H6: 2,
	atom.Ul: 2, atom.Ol: 2, atom.Dl: 2, atom.Table: 2, atom.Blockquote: 2, atom.Pre: 2,
	atom.Section: 2, atom.Article: 2, atom.Header: 2, atom.Footer: 2, atom.Nav: 2,
	atom.Aside: 2, atom.Main: 2, atom.Figure: 2, atom.Form: 2, atom.Fieldset: 2,
	atom.Address: 2, atom.Details: 2, atom.Hr: 2, atom.Hgroup: 2,
	atom.Div: 1, atom.Li: 1, atom.Tr: 1, atom.Dt: 1, atom.Dd: 1, atom.Figcaption: 1,
	atom.Summary: 1, atom.Caption: 1, atom.Legend: 1, atom.Br: 1, atom.Option: 1,
	atom.Body: 2, atom.Html: 2,
}

// headingLevel gives each heading its Markdown marker.
var headingLevel = map[atom.Atom]string{
	atom.H1: "#", atom.H2: "##", atom.H3: "###", atom.H4: "####", atom.H5: "#####", atom.H6: "######",
}

// textWriter accumulates readable text. Whitespace is written lazily: a
// pending separator or line breaks are written only before the next word,
// so no element leaves trailing spaces or runs of blank lines.
type textWriter struct {
	b     strings.Builder
	runes int
	max   int
	base  *url.URL
	sep   string // written before the next word on the same line
	nl    int    // line breaks due before the next word (at most 2)
	pre   int    // depth of <pre> elements: whitespace is kept
	// marker ("- ", "## ") starts the line of the next word: it waits so
	// that "<li><p>text" gives "- text", not a lone "-".
	marker string
	// listItems is the depth of <li> elements, and cells the cells seen
	// so far in the current table row: kept as state, because looking
	// them up among ancestors and siblings is quadratic on hostile pages.
	listItems int
	cells     int
}

func (w *textWriter) full() bool { return w.runes > w.max }

// lineBreak asks for n line breaks before the next word.
func (w *textWriter) lineBreak(n int) {
	if w.marker != "" {
		return // the marker's element already started a line
	}
	if w.b.Len() > 0 && n > w.nl {
		w.nl = n
	}
	w.sep = ""
}

// space asks for a space before the next word, unless a line break or a
// wider separator is already due.
func (w *textWriter) space() {
	if w.sep == "" && w.nl == 0 {
		w.sep = " "
	}
}

// write writes s (which holds no whitespace to collapse) after whatever
// separator is due.
func (w *textWriter) write(s string) {
	if s == "" || w.full() {
		return
	}
	if w.b.Len() > 0 {
		if w.nl > 0 {
			w.b.WriteString("\n\n"[:w.nl])
			w.runes += w.nl
		} else if w.sep != "" {
			w.b.WriteString(w.sep)
			w.runes += utf8.RuneCountInString(w.sep)
		}
	}
	w.nl, w.sep = 0, ""
	if w.marker != "" {
		w.b.WriteString(w.marker)
		w.runes += utf8.RuneCountInString(w.marker)
		w.marker = ""
	}
	w.b.WriteString(s)
	w.runes += utf8.RuneCountInString(s)
}

// text writes a text node, collapsing its whitespace outside <pre>.
func (w *textWriter) text(s string) {
	s = clean(s)
	if w.pre > 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		for i, line := range strings.Split(s, "\n") {
			if w.full() {
				return
			}
			if i > 0 {
				w.b.WriteString("\n")
				w.runes++
				w.nl, w.sep = 0, ""
			}
			if line != "" {
				w.write(line)
			}
		}
		return
	}
	if s != "" && isSpace(firstRune(s)) {
		w.space()
	}
	for word := range strings.FieldsFuncSeq(s, isSpace) {
		if w.full() {
			return
		}
		w.write(word)
		w.space()
	}
	if s != "" && !isSpace(lastRune(s)) {
		// The next text node continues this word ("<b>bo</b>ld").
		w.sep = ""
	}
}

func (w *textWriter) walk(n *html.Node) {
	if w.full() {
		return
	}
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.DocumentNode:
		w.children(n)
		return
	case html.ElementNode:
	default: // comments, doctypes
		return
	}
	if skipped[n.DataAtom] || hidden(n) {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.lineBreak(1)
		return
	case atom.Img:
		if alt := strings.Join(strings.FieldsFunc(clean(attr(n, "alt")), isSpace), " "); alt != "" {
			w.write("[image: " + alt + "]")
			w.space()
		}
		return
	case atom.Td, atom.Th:
		if w.cells > 0 {
			w.sep = " | "
		}
		w.cells++
		w.children(n)
		return
	case atom.A:
		start := w.b.Len()
		w.children(n)
		linkText := strings.TrimSpace(w.b.String()[start:])
		if href := w.link(attr(n, "href")); href != "" && linkText != "" && linkText != href && !w.full() {
			w.sep = " "
			w.write("(" + href + ")")
		}
		return
	}
	br, block := blocks[n.DataAtom]
	if br == 2 && w.listItems > 0 {
		// A list in a list item continues the list, line by line.
		br = 1
	}
	if block {
		w.lineBreak(br)
	}
	switch n.DataAtom {
	case atom.Li:
		w.marker = "- "
		w.listItems++
		defer func() { w.listItems-- }()
	case atom.Tr:
		saved := w.cells
		w.cells = 0
		defer func() { w.cells = saved }()
	case atom.Pre:
		w.pre++
		defer func() { w.pre-- }()
	default:
		if h := headingLevel[n.DataAtom]; h != "" {
			w.marker = h + " "
		}
	}
	w.children(n)
	w.marker = "" // an empty item or heading marks nothing
	if block {
		w.lineBreak(br)
	}
}

func (w *textWriter) children(n *html.Node) {
	for c := n.FirstChild; c != nil && !w.full(); c = c.NextSibling {
		w.walk(c)
	}
}

// link resolves href against the page's URL, keeping only http(s) links
// to another page: fragments, javascript: and mailto: are noise to a model.
func (w *textWriter) link(href string) string {
	href = strings.TrimSpace(href)
	if w.base == nil || href == "" || strings.HasPrefix(href, "#") {
		return ""
	}
	u, err := w.base.Parse(href)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		return ""
	}
	return strings.ToValidUTF8(u.String(), "\uFFFD")
}

// hidden reports whether an element is hidden by its attributes, as
// cookie banners and menus often are.
func hidden(n *html.Node) bool {
	for _, a := range n.Attr {
		switch strings.ToLower(a.Key) {
		case "hidden":
			return true
		case "aria-hidden":
			if strings.EqualFold(strings.TrimSpace(a.Val), "true") {
				return true
			}
		case "style":
			s := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
			if strings.Contains(s, "display:none") || strings.Contains(s, "visibility:hidden") {
				return true
			}
		case "type":
			if n.DataAtom == atom.Input && strings.EqualFold(a.Val, "hidden") {
				return true
			}
		}
	}
	return false
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// clean makes s valid UTF-8 and drops control characters other than
// whitespace, which show up as garbage.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !isSpace(r) {
			return -1
		}
		return r
	}, s)
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}
