package web

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://example.com/dir/page")
	tests := []struct {
		name, in, title, text string
	}{
		{"empty", "", "", ""},
		{"plain text", "just text", "", "just text"},
		{"title only in head", "<title>T</title><svg><title>no</title></svg>", "T", ""},
		{"inline elements join", "<p>bo<b>ld</b> <i>it</i></p>", "", "bold it"},
		{"whitespace collapses", "<p>  a \n\t b  </p>\n\n<p>c</p>", "", "a b\n\nc"},
		{"nbsp is a space", "<p>a&nbsp;&nbsp;b</p>", "", "a b"},
		{"divs are lines", "<div>a</div><div>b</div><div><div>c</div></div>", "", "a\nb\nc"},
		{"headings", "<h2>Sub</h2><p>x</p>", "", "## Sub\n\nx"},
		{"links resolve", `<a href="../other?q=1">Other</a> <a href="#top">Top</a> <a href="javascript:x()">JS</a>`, "",
			"Other (https://example.com/other?q=1) Top JS"},
		{"link text equal to href", `<a href="https://example.com/">https://example.com/</a>`, "", "https://example.com/"},
		{"image alt", `<img src="x.png" alt=" A   cat "><img src="y.png">`, "", "[image: A cat]"},
		{"hidden things", `<p style="display: none">a</p><p aria-hidden="true">b</p><input type="hidden" value="c"><p>d</p>`, "", "d"},
		{"entities", "<p>&lt;tag&gt; &amp; &eacute; &#x1F600;</p>", "", "<tag> & é 😀"},
		{"control characters dropped", "<p>a\x01b\x7fc</p>", "", "abc"},
		{"comments dropped", "<p>a<!-- secret -->b</p>", "", "ab"},
		{"nested lists", "<ul><li>a<ul><li>b</li></ul></li></ul>", "", "- a\n- b"},
		{"paragraph in a list item", "<ol><li><p>a</p></li><li>b</li></ol>", "", "- a\n- b"},
		{"empty items mark nothing", "<ul><li></li></ul><p>x</p><h2> </h2>y", "", "x\n\ny"},
		{"pre keeps whitespace", "<p>a</p><pre>  b\n\n    c</pre><p>d</p>", "", "a\n\n  b\n\n    c\n\nd"},
		{"table cells", "<table>\n<tr> <td>a</td> <td>b</td> </tr>\n<tr><td>c<td>d</table>", "", "a | b\nc | d"},
	}
	for _, tt := range tests {
		title, text := htmlToText(tt.in, base, 1000)
		if title != tt.title || text != tt.text {
			t.Errorf("%s: htmlToText(%q) = %q, %q; want %q, %q", tt.name, tt.in, title, text, tt.title, tt.text)
		}
	}
}

func TestHTMLToTextStopsEarly(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("<p>word word word</p>", 10000)
	_, text := htmlToText(in, nil, 100)
	if n := utf8.RuneCountInString(text); n < 100 || n > 120 {
		t.Errorf("the text has %d characters, want a little over 100", n)
	}
}

// FuzzHTMLToText checks that any bytes, as a page could send, render
// without a panic to valid UTF-8 within the size asked for.
func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{
		"", "<p>a</p>", "<title>t</title><body>x<br>y</body>", "<pre>a\n  b</pre>", "<a href=x>y</a>",
		"<table><tr><td>a<td>b</table>", "<svg><title>x</title></svg>", "\xff\xfe<p>\x00</p>",
		"<ul><li><ul><li>deep", "<a href='http://[::1'>bad</a>", "<img alt='\xc3'>",
	} {
		f.Add(s)
	}
	base, _ := url.Parse("https://example.com/a/b")
	f.Fuzz(func(t *testing.T, s string) {
		title, text := htmlToText(s, base, 200)
		if !utf8.ValidString(title) || !utf8.ValidString(text) {
			t.Fatalf("htmlToText(%q) = %q, %q: not valid UTF-8", s, title, text)
		}
		if strings.TrimSpace(text) != text {
			t.Fatalf("htmlToText(%q) text %q has surrounding whitespace", s, text)
		}
		// A word or a link may overshoot the limit; the page cannot.
		if n := utf8.RuneCountInString(text); n > 200+utf8.RuneCountInString(s)+len(base.String())+10 {
			t.Fatalf("htmlToText(%q) gave %d characters", s, n)
		}
	})
}

func TestHTMLToTextStopsEarlyInPre(t *testing.T) {
	t.Parallel()
	_, text := htmlToText("<pre>"+strings.Repeat("a\n\n\n", 100000)+"</pre>", nil, 100)
	if n := utf8.RuneCountInString(text); n > 120 {
		t.Errorf("the text has %d characters, want a little over 100", n)
	}
}
