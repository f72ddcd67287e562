package text

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Namespaces an SVG may use.
const (
	svgNS   = "http://www.w3.org/2000/svg"
	xlinkNS = "http://www.w3.org/1999/xlink"
	xmlNS   = "http://www.w3.org/XML/1998/namespace"
)

// Limits of a sanitized SVG.
const (
	maxSVGInput    = 2 << 20
	maxSVGOutput   = 2 << 20
	maxSVGElements = 20000
	maxSVGDepth    = 64
	defaultSVGW    = 800
	defaultSVGH    = 600
)

// svgOptions are what the sanitizer sets on the root element. Zero width
// or height keeps the drawing's own, or the default; an empty title keeps
// the drawing's.
type svgOptions struct {
	width, height float64
	title         string
}

// sanitizedSVG is a sanitized drawing and its size.
type sanitizedSVG struct {
	svg           string
	width, height float64
}

// Errors of the sanitizer that the model can act on.
var (
	errNoSVG  = errors.New("the answer has no <svg> element")
	errCutOff = errors.New("the SVG is cut off: it ends before </svg>")
)

// extractSVG returns the <svg>…</svg> element of a model's answer, which
// may sit in Markdown fences or between sentences: from the first "<svg" to
// the last "</svg>", or to the end when it is missing.
func extractSVG(answer string) (string, error) {
	lower := asciiLower(answer) // strings.ToLower may change the length
	start := strings.Index(lower, "<svg")
	if start < 0 {
		return "", errNoSVG
	}
	end := strings.LastIndex(lower, "</svg>")
	if end < start {
		return answer[start:], nil
	}
	return answer[start : end+len("</svg>")], nil
}

// asciiLower lowercases the ASCII letters of s, keeping every byte where
// it is.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// sanitizeSVG parses an SVG document and writes a new one holding only
// what a diagram needs and nothing that runs, fetches or links:
//
//   - elements on an allow-list (svgElement); <a> and <switch> are replaced
//     by their content; anything else (script, style, foreignObject,
//     iframe, image, animate, set, filter, elements of other namespaces)
//     is dropped with its content. <style> is dropped rather than cleaned:
//     a style sheet of an SVG inlined into a page would restyle the page.
//   - attributes on an allow-list (svgAttr), so no on* handler survives;
//     an href must point inside the document ("#id"); a value holding
//     javascript:, data:, a CSS escape or a url() that is not "url(#id)"
//     is dropped.
//   - text only inside text, tspan, title and desc; no comments,
//     processing instructions or DOCTYPE.
//
// The root gets xmlns, a width, a height and a viewBox. The output is
// well-formed XML whatever the input; input that is not an SVG, is cut off
// or draws nothing is an error.
func sanitizeSVG(raw string, opts svgOptions) (sanitizedSVG, error) {
	if len(raw) > maxSVGInput {
		return sanitizedSVG{}, fmt.Errorf("the SVG is larger than %s", formatSize(maxSVGInput))
	}
	d := xml.NewDecoder(strings.NewReader(raw))
	// Models write sloppy XML (HTML entities, unquoted attributes); the
	// lenient decoder reads it and the output is rewritten anyway.
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // the input is a Go string: UTF-8

	type frame struct {
		name string // "" for an unwrapped element
		text bool   // whether character data is kept
	}
	var (
		b         strings.Builder
		stack     []frame
		skip      int // depth inside a dropped element
		res       sanitizedSVG
		rootSeen  bool
		elements  int
		drawables int
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			switch {
			case !rootSeen:
				return sanitizedSVG{}, errNoSVG
			case errors.As(err, &se) && se.Msg == "unexpected EOF":
				return sanitizedSVG{}, errCutOff
			}
			return sanitizedSVG{}, fmt.Errorf("the SVG is not well-formed: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			if !rootSeen {
				if !svgSpace(t.Name.Space) || strings.ToLower(t.Name.Local) != "svg" {
					return sanitizedSVG{}, errNoSVG
				}
				rootSeen = true
				res.width, res.height = writeRoot(&b, t.Attr, opts)
				stack = append(stack, frame{name: "svg"})
				continue
			}
			if len(stack) >= maxSVGDepth {
				return sanitizedSVG{}, fmt.Errorf("the SVG nests elements deeper than %d", maxSVGDepth)
			}
			if elements++; elements > maxSVGElements {
				return sanitizedSVG{}, fmt.Errorf("the SVG has more than %s elements", formatCount(maxSVGElements))
			}
			name, kind := svgElement(t.Name)
			if kind == keepElement && name == "title" && len(stack) == 1 && opts.title != "" {
				kind = dropElement // the root has the given title
			}
			switch kind {
			case dropElement:
				skip = 1
			case unwrapElement:
				stack = append(stack, frame{text: stack[len(stack)-1].text})
			case keepElement:
				b.WriteString("<" + name)
				writeAttrs(&b, name, t.Attr, nil)
				b.WriteString(">")
				stack = append(stack, frame{name: name, text: textElement(name)})
				if drawable(name) {
					drawables++
				}
			}
		case xml.EndElement:
			if skip > 0 {
				skip--
				continue
			}
			if len(stack) == 0 {
				continue
			}
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if f.name != "" {
				b.WriteString("</" + f.name + ">")
			}
		case xml.CharData:
			if skip == 0 && len(stack) > 0 && stack[len(stack)-1].text {
				xml.EscapeText(&b, t)
			}
		}
		if b.Len() > maxSVGOutput {
			return sanitizedSVG{}, fmt.Errorf("the SVG is larger than %s", formatSize(maxSVGOutput))
		}
		if rootSeen && len(stack) == 0 {
			break // text after the root is not the drawing's
		}
	}
	switch {
	case !rootSeen:
		return sanitizedSVG{}, errNoSVG
	case len(stack) > 0:
		return sanitizedSVG{}, errCutOff
	case drawables == 0:
		return sanitizedSVG{}, errors.New("the SVG draws nothing: it has no shapes or text")
	}
	res.svg = b.String()
	return res, nil
}

// writeRoot writes the root's start tag, with xmlns, width, height and
// viewBox set, and the given title, and returns the width and height.
func writeRoot(b *strings.Builder, attrs []xml.Attr, opts svgOptions) (w, h float64) {
	var ownW, ownH float64
	viewBox := ""
	seen := map[string]bool{} // the first of repeated attributes counts, as in writeAttrs
	for _, a := range attrs {
		name := strings.ToLower(a.Name.Local)
		if a.Name.Space != "" || seen[name] {
			continue
		}
		seen[name] = true
		switch name {
		case "width":
			ownW = parseLength(a.Value)
		case "height":
			ownH = parseLength(a.Value)
		case "viewbox":
			viewBox, _ = parseViewBox(a.Value)
		}
	}
	w, h = firstPositive(opts.width, ownW, defaultSVGW), firstPositive(opts.height, ownH, defaultSVGH)
	if viewBox == "" {
		// The drawing's coordinates are its own size's, when it said one.
		viewBox = "0 0 " + formatNumber(firstPositive(ownW, w)) + " " + formatNumber(firstPositive(ownH, h))
	}
	fmt.Fprintf(b, `<svg xmlns="%s" xmlns:xlink="%s" width="%s" height="%s" viewBox="%s"`,
		svgNS, xlinkNS, formatNumber(w), formatNumber(h), viewBox)
	writeAttrs(b, "svg", attrs, map[string]bool{"width": true, "height": true, "viewBox": true})
	b.WriteString(">")
	if opts.title != "" {
		b.WriteString("<title>")
		xml.EscapeText(b, []byte(opts.title))
		b.WriteString("</title>")
	}
	return w, h
}

// writeAttrs writes the allowed, safe attributes of an element, each name
// once, leaving out those in done.
func writeAttrs(b *strings.Builder, elem string, attrs []xml.Attr, done map[string]bool) {
	seen := map[string]bool{}
	for name := range done {
		seen[name] = true
	}
	for _, a := range attrs {
		name, ok := svgAttr(a.Name)
		if !ok || seen[name] || !safeValue(name, a.Value) {
			continue
		}
		seen[name] = true
		b.WriteString(" " + name + `="`)
		xml.EscapeText(b, []byte(a.Value))
		b.WriteString(`"`)
	}
}

// svgSpace reports whether an element of namespace space is SVG's: the
// namespace itself, none, or an undeclared "svg:" prefix.
func svgSpace(space string) bool {
	return space == "" || space == svgNS || space == "svg"
}

// What the sanitizer does with an element.
const (
	dropElement = iota
	keepElement
	unwrapElement
)

// svgElement returns an element's name as it is written and whether it is
// kept, dropped or replaced by its content.
func svgElement(n xml.Name) (string, int) {
	if !svgSpace(n.Space) {
		return "", dropElement
	}
	switch l := strings.ToLower(n.Local); l {
	case "svg", "g", "defs", "title", "desc", "rect", "circle", "ellipse", "line", "polyline", "polygon",
		"path", "text", "tspan", "marker", "stop", "pattern", "mask", "symbol", "use":
		return l, keepElement
	case "lineargradient":
		return "linearGradient", keepElement
	case "radialgradient":
		return "radialGradient", keepElement
	case "clippath":
		return "clipPath", keepElement
	case "a", "switch":
		return "", unwrapElement
	}
	return "", dropElement
}

// textElement reports whether an element's character data is kept.
func textElement(name string) bool {
	return name == "text" || name == "tspan" || name == "title" || name == "desc"
}

// drawable reports whether an element shows something.
func drawable(name string) bool {
	switch name {
	case "rect", "circle", "ellipse", "line", "polyline", "polygon", "path", "text", "use":
		return true
	}
	return false
}

// svgAttr returns an attribute's name as it is written, if it is allowed.
func svgAttr(n xml.Name) (string, bool) {
	switch n.Space {
	case "":
	case xlinkNS, "xlink":
		if n.Local == "href" {
			return "xlink:href", true
		}
		return "", false
	case xmlNS, "xml":
		if n.Local == "space" {
			return "xml:space", true
		}
		return "", false
	default:
		return "", false
	}
	switch l := strings.ToLower(n.Local); l {
	case "id", "class", "x", "y", "x1", "y1", "x2", "y2", "cx", "cy", "r", "rx", "ry", "fx", "fy", "fr",
		"width", "height", "d", "points", "transform", "href", "version",
		"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity", "stroke-dasharray",
		"stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit", "opacity", "color",
		"font-family", "font-size", "font-weight", "font-style", "font-variant", "text-anchor",
		"dominant-baseline", "alignment-baseline", "baseline-shift", "letter-spacing", "word-spacing",
		"text-decoration", "dx", "dy", "rotate", "marker-start", "marker-mid", "marker-end", "orient",
		"offset", "stop-color", "stop-opacity", "clip-path", "clip-rule", "mask", "visibility", "display",
		"style", "shape-rendering", "text-rendering", "vector-effect", "paint-order", "writing-mode":
		return l, true
	case "viewbox":
		return "viewBox", true
	case "preserveaspectratio":
		return "preserveAspectRatio", true
	case "textlength":
		return "textLength", true
	case "lengthadjust":
		return "lengthAdjust", true
	case "markerwidth":
		return "markerWidth", true
	case "markerheight":
		return "markerHeight", true
	case "markerunits":
		return "markerUnits", true
	case "refx":
		return "refX", true
	case "refy":
		return "refY", true
	case "gradientunits":
		return "gradientUnits", true
	case "gradienttransform":
		return "gradientTransform", true
	case "spreadmethod":
		return "spreadMethod", true
	case "patternunits":
		return "patternUnits", true
	case "patterncontentunits":
		return "patternContentUnits", true
	case "patterntransform":
		return "patternTransform", true
	case "clippathunits":
		return "clipPathUnits", true
	case "maskunits":
		return "maskUnits", true
	case "maskcontentunits":
		return "maskContentUnits", true
	case "pathlength":
		return "pathLength", true
	}
	return "", false
}

// fragmentRef reports whether s is an href inside the document: "#"
// and an XML name of ASCII letters, digits and "_.:-".
func fragmentRef(s string) bool {
	if len(s) < 2 || s[0] != '#' {
		return false
	}
	for i, c := range []byte(s[1:]) {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '.' || c == ':' || c == '-')) {
			return false
		}
	}
	return true
}

// safeValue reports whether attribute name may have value: no script or
// data URLs, no CSS escapes or functions that fetch, url() only to an
// element of the document, and href only to a "#id".
func safeValue(name, value string) bool {
	if name == "href" || name == "xlink:href" {
		return fragmentRef(strings.TrimSpace(value))
	}
	if name == "xml:space" {
		return value == "default" || value == "preserve"
	}
	// Browsers ignore spaces and control characters inside a URL scheme
	// ("java\tscript:"), so they are removed before looking.
	v := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == 0xFEFF || r == 0x200B {
			return -1
		}
		return unicode.ToLower(r)
	}, value)
	for _, bad := range [...]string{"javascript:", "vbscript:", "data:", "\\", "expression(", "@import",
		"behavior:", "-moz-binding", "image(", "image-set(", "cross-fade(", "element(", "src("} {
		if strings.Contains(v, bad) {
			return false
		}
	}
	for rest := v; ; {
		i := strings.Index(rest, "url(")
		if i < 0 {
			return true
		}
		rest = strings.TrimLeft(rest[i+len("url("):], `"'`)
		if !strings.HasPrefix(rest, "#") {
			return false
		}
	}
}

// parseLength reads a width or height in user units ("800", "800px"); 0
// means it is not one.
func parseLength(s string) float64 {
	s = strings.TrimSuffix(strings.TrimSpace(s), "px")
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 100000 || math.IsNaN(f) {
		return 0
	}
	return f
}

// parseViewBox returns a viewBox of four numbers, the last two positive,
// written plainly.
func parseViewBox(s string) (string, bool) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) != 4 {
		return "", false
	}
	out := make([]string, 4)
	for i, f := range fields {
		n, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) || (i >= 2 && n <= 0) {
			return "", false
		}
		out[i] = formatNumber(n)
	}
	return strings.Join(out, " "), true
}

func firstPositive(fs ...float64) float64 {
	for _, f := range fs {
		if f > 0 {
			return f
		}
	}
	return 0
}

func formatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
