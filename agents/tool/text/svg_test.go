package text

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"
)

// hostileSVG is a drawing with every trick the sanitizer must remove,
// wrapped as models do.
const hostileSVG = "Here is your floor plan:\n\n```svg\n" + `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg [<!ENTITY x "boom">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="1000" height="500" onload="alert(1)">
  <style>@import url(https://evil.example/x.css); rect { fill: red }</style>
  <script>alert("script")</script>
  <!-- a comment -->
  <defs>
    <linearGradient id="wall"><stop offset="0" stop-color="#ccc"/></linearGradient>
    <marker id="arrow" markerWidth="10" markerHeight="10" refX="5" refY="5" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker>
  </defs>
  <rect width="1000" height="500" fill="white" onclick="steal()"/>
  <rect x="10" y="10" width="300" height="200" fill="url(#wall)" stroke="black" style="stroke-width:2"/>
  <rect x="10" y="10" width="5" height="5" fill="url(https://evil.example/track.png)" style="background:url(//evil.example/t)"/>
  <line x1="0" y1="0" x2="100" y2="100" stroke="black" marker-end="url(#arrow)"/>
  <text x="50" y="50" font-size="14" text-anchor="middle">Living room &amp; kitchen &lt;20 m²&gt; &nbsp;ok</text>
  <a href="javascript:alert(1)"><text x="1" y="1">linked label</text></a>
  <use href="#arrow"/><use xlink:href="https://evil.example/sprite.svg#a"/>
  <use xlink:href="data:image/svg+xml;base64,PHN2Zz4="/>
  <image href="https://evil.example/x.png" width="10" height="10"/>
  <foreignObject><iframe src="https://evil.example"></iframe><p>html</p></foreignObject>
  <animate attributeName="href" to="javascript:alert(1)"/>
  <set attributeName="onclick" to="alert(1)"/>
  <circle cx="5" cy="5" r="3" fill="JaVa&#x09;ScRiPt:alert(1)"/>
  <ellipse cx="5" cy="5" rx="3" ry="2" style="fill:u\72l(https://evil.example)"/>
  <svg:rect xmlns:svg="http://www.w3.org/2000/svg" width="1" height="1"/>
  <x:thing xmlns:x="http://example.com/x">gone</x:thing>
  <path d="M 0 0 L 10 10" xml:space="preserve" xml:lang="en"/>
</svg>
` + "```\nLet me know if you want changes."

func TestSanitizeHostileSVG(t *testing.T) {
	t.Parallel()
	raw, err := extractSVG(hostileSVG)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sanitizeSVG(raw, svgOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSafeSVG(t, got.svg)
	contains(t, got.svg,
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="1000" height="500" viewBox="0 0 1000 500">`,
		`<linearGradient id="wall"><stop offset="0" stop-color="#ccc"></stop></linearGradient>`,
		`<marker id="arrow" markerWidth="10" markerHeight="10" refX="5" refY="5" orient="auto">`,
		`<rect width="1000" height="500" fill="white"></rect>`,
		`fill="url(#wall)" stroke="black" style="stroke-width:2"`,
		`<rect x="10" y="10" width="5" height="5"></rect>`,
		`marker-end="url(#arrow)"`,
		"Living room &amp; kitchen &lt;20 m²&gt; \u00a0ok",
		`<text x="1" y="1">linked label</text>`,
		`<use href="#arrow"></use><use></use><use></use>`,
		`<circle cx="5" cy="5" r="3"></circle>`,
		`<ellipse cx="5" cy="5" rx="3" ry="2"></ellipse>`,
		`<rect width="1" height="1"></rect>`,
		`<path d="M 0 0 L 10 10" xml:space="preserve"></path>`,
	)
	lacks(t, got.svg, "style>", "@import", "evil", "script", "alert", "onload", "onclick", "comment", "image",
		"foreignObject", "iframe", "html", "animate", "<set", "gone", "thing", "boom", "DOCTYPE", "<?xml", "Let me know", "```", "xml:lang")
	if got.width != 1000 || got.height != 500 {
		t.Errorf("size = %v×%v", got.width, got.height)
	}
}

// checkSafeSVG checks what the fuzz test checks: the SVG parses as strict
// XML, its root is an svg, and it has no script, event handler or
// javascript: URL.
func checkSafeSVG(t *testing.T, svg string) {
	t.Helper()
	if strings.Contains(strings.ToLower(svg), "<script") {
		t.Fatalf("the SVG has <script: %q", svg)
	}
	d := xml.NewDecoder(strings.NewReader(svg))
	first := true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the output is not XML: %v\n%s", err, svg)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			switch tok.(type) {
			case xml.CharData, xml.EndElement:
			default:
				t.Fatalf("the output has a %T", tok)
			}
			continue
		}
		if first && (se.Name.Local != "svg" || se.Name.Space != svgNS) {
			t.Fatalf("the root is %v", se.Name)
		}
		first = false
		if se.Name.Space != svgNS {
			t.Fatalf("element %v is outside SVG's namespace", se.Name)
		}
		if _, kind := svgElement(se.Name); kind != keepElement {
			t.Fatalf("element %v is not allowed", se.Name)
		}
		for _, a := range se.Attr {
			if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") {
				t.Fatalf("attribute %v=%q is an event handler", a.Name, a.Value)
			}
			v := strings.Map(func(r rune) rune {
				if unicode.IsSpace(r) || unicode.IsControl(r) {
					return -1
				}
				return unicode.ToLower(r)
			}, a.Value)
			if strings.Contains(v, "javascript:") || strings.Contains(v, "data:") {
				t.Fatalf("attribute %v=%q has a script or data URL", a.Name, a.Value)
			}
			if a.Name.Local == "href" && !strings.HasPrefix(a.Value, "#") {
				t.Fatalf("href %q leaves the document", a.Value)
			}
		}
	}
	if first {
		t.Fatalf("the output has no element")
	}
}

func TestSanitizeSizeAndTitle(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in     string
		opts   svgOptions
		prefix string
	}{
		{`<svg><rect width="5" height="5"/></svg>`, svgOptions{},
			`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="800" height="600" viewBox="0 0 800 600"><rect`},
		{`<svg width="100%" height="50px" viewBox="0,0,20,10"><rect/></svg>`, svgOptions{width: 400},
			`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="50" viewBox="0 0 20 10"><rect`},
		{`<SVG Width="300" Height="200" viewbox="bad"><title>Old</title><desc>d</desc><rect/></SVG>`, svgOptions{width: 600, height: 400, title: "New <plan>"},
			`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="600" height="400" viewBox="0 0 300 200"><title>New &lt;plan&gt;</title><desc>d</desc><rect`},
		{`<svg viewBox="0 0 10 10" preserveAspectRatio="xMidYMid meet" version="1.1" width="9" width="10"><circle r="1"/></svg>`, svgOptions{},
			`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="9" height="600" viewBox="0 0 10 10" preserveAspectRatio="xMidYMid meet" version="1.1"><circle`},
	} {
		got, err := sanitizeSVG(c.in, c.opts)
		if err != nil {
			t.Errorf("sanitizeSVG(%s): %v", c.in, err)
			continue
		}
		if !strings.HasPrefix(got.svg, c.prefix) {
			t.Errorf("sanitizeSVG(%s) =\n%s\nwant the prefix\n%s", c.in, got.svg, c.prefix)
		}
		checkSafeSVG(t, got.svg)
	}
}

func TestSanitizeRefusals(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"I cannot draw that.":                       "has no <svg> element",
		`<html><svg><rect/></svg></html>`:           "has no <svg> element",
		`<svg><rect/><g><text>cut off`:              "cut off",
		`<svg><title>only a title</title></svg>`:    "draws nothing",
		`<svg><script>alert(1)</script></svg>`:      "draws nothing",
		`<svg><rect></g></svg>`:                     "",
		strings.Repeat("<g>", 100) + "<svg><rect/>": "has no <svg> element",
		"<svg>" + strings.Repeat("<g>", 100) + "<rect/>" + strings.Repeat("</g>", 100) + "</svg>": "deeper than 64",
		"<svg>" + strings.Repeat("<rect/>", 20001) + "</svg>":                                     "more than 20,000 elements",
	} {
		_, err := sanitizeSVG(in, svgOptions{})
		if want == "" {
			continue // either way, as long as it does not panic
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sanitizeSVG(%.60s) error = %v, want one containing %q", in, err, want)
		}
	}
}

func TestSafeValue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, value string
		ok          bool
	}{
		{"fill", "url(#a)", true}, {"fill", `url("#a") red`, true}, {"fill", "url( 'https://x' )", false},
		{"style", "fill:url(#a);stroke:url(x.svg#b)", false}, {"style", "font: 12px sans-serif", true},
		{"style", "background-image:image-set('x.png' 1x)", false}, {"style", "width:expression(alert(1))", false},
		{"style", "fill:\\75rl(x)", false}, {"fill", "java\nscript:x", false}, {"href", "#a", true},
		{"href", "#", false}, {"href", "x.svg#a", false}, {"xlink:href", "#a b", false}, {"href", "#1a", false},
		{"xml:space", "preserve", true}, {"xml:space", "x", false}, {"d", "M0 0", true},
	} {
		if got := safeValue(c.name, c.value); got != c.ok {
			t.Errorf("safeValue(%s, %q) = %v, want %v", c.name, c.value, got, c.ok)
		}
	}
}

func FuzzSanitizeSVG(f *testing.F) {
	f.Add(hostileSVG)
	f.Add(`<svg><rect onload="x" width="1"/><text>a<tspan>b</tspan></text></svg>`)
	f.Add(`<svg xmlns:l="http://www.w3.org/1999/xlink"><use l:href="#a" l:title="t"/><a><circle/></a></svg>`)
	f.Add(`<svg><g><switch><rect style="fill:url(#x)"/></switch></g></svg>`)
	f.Add(`<svg><text x=1 y=2 onclick=alert(1)>&lt;script&gt;</text><rect/></svg>`)
	f.Add("<svg><![CDATA[<script>]]><rect/></svg>")
	f.Fuzz(func(t *testing.T, in string) {
		raw, err := extractSVG(in)
		if err != nil {
			return
		}
		got, err := sanitizeSVG(raw, svgOptions{title: "t"})
		if err != nil {
			return
		}
		checkSafeSVG(t, got.svg)
	})
}

func TestDrawSavesSanitizedFile(t *testing.T) {
	t.Parallel()
	files, agent := realFiles(t)
	m := canned(hostileSVG)
	in := input(t, `{"description": "A floor plan of a small flat", "title": "Flat — Plan №1", "width": 1200, "height": 800.4}`, m)
	in.Agent = agent
	out := mustRun(t, NewSVGDiagram(files), in)

	if len(out.FileIDs) != 1 {
		t.Fatalf("FileIDs = %v", out.FileIDs)
	}
	f, err := files.Find(t.Context(), agent.ID, "", out.FileIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "flat-plan-1.svg" || f.ContentType != "image/svg+xml" || f.Source != "tool" {
		t.Errorf("file = %+v", f)
	}
	r, err := files.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	saved, _ := io.ReadAll(r)
	checkSafeSVG(t, string(saved))
	contains(t, string(saved), `width="1200" height="800" viewBox="0 0 1000 500"`, "<title>Flat — Plan №1</title>")
	contains(t, out.Content, "Saved the diagram as flat-plan-1.svg (file_id: "+f.ID+"; ", "1200×800).\n\n"+string(saved))

	calls := m.seen()
	if len(calls) != 1 {
		t.Fatalf("%d model calls", len(calls))
	}
	contains(t, calls[0].system, "buildings and architecture", `width="1200", height="800"`, "no scripts")
	contains(t, calls[0].prompt, "A floor plan of a small flat", "Title: Flat — Plan №1")
}

func TestDrawRetriesOnce(t *testing.T) {
	t.Parallel()
	answers := []string{"Sure! I'd describe it instead.", "<svg><circle r='4'/></svg>"}
	m := newModel(func(system, prompt string) (string, error) {
		a := answers[0]
		answers = answers[1:]
		return a, nil
	})
	out := mustRun(t, NewSVGDiagram(nil), input(t, `{"description": "a dot"}`, m))
	contains(t, out.Content, "it was not saved as a file", `<circle r="4"></circle>`)
	calls := m.seen()
	if len(calls) != 2 {
		t.Fatalf("%d model calls, want 2", len(calls))
	}
	contains(t, calls[1].system, "previous answer could not be used (the answer has no <svg> element)", "nothing but the SVG markup")
	lacks(t, calls[0].system, "previous answer")

	m = canned("<svg><rect><g>")
	_, err := run(t, NewSVGDiagram(nil), input(t, `{"description": "a box"}`, m))
	wantError(t, err, "the model did not draw a usable SVG, twice (the SVG is cut off")
	if len(m.seen()) != 2 {
		t.Errorf("%d model calls, want 2", len(m.seen()))
	}

	boom := errors.New("no capacity")
	_, err = run(t, NewSVGDiagram(nil), input(t, `{"description": "a box"}`, newModel(func(string, string) (string, error) { return "", boom })))
	if !errors.Is(err, boom) {
		t.Errorf("error = %v, want the model's", err)
	}
}

func TestDrawLargeSVGOnlyInFile(t *testing.T) {
	t.Parallel()
	files, agent := realFiles(t)
	big := "<svg>" + strings.Repeat(`<rect x="1" y="2" width="3" height="4" fill="#abcdef"/>`, 400) + "</svg>"
	in := input(t, `{"description": "many boxes"}`, canned(big))
	in.Agent = agent
	out := mustRun(t, NewSVGDiagram(files), in)
	contains(t, out.Content, "Saved the diagram as many-boxes.svg", "800×600). It is too large to show here")
	lacks(t, out.Content, "<svg")
}

func TestDrawBadArguments(t *testing.T) {
	t.Parallel()
	tool := NewSVGDiagram(nil)
	for args, want := range map[string]string{
		`{}`:                                   "the description argument is required",
		`{"description": ""}`:                  "the description argument is required",
		`{"description": "x", "width": 10}`:    "the width must be between 50 and 4000 pixels",
		`{"description": "x", "height": 1e9}`:  "the height must be between 50 and 4000 pixels",
		`{"description": "x", "width": "big"}`: "the width argument must be a number",
		`{"description": "x", "title": ["a"]}`: "the title argument must be a string",
	} {
		_, err := run(t, tool, input(t, args, canned("<svg><rect/></svg>")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Call(%s) error = %v, want one containing %q", args, err, want)
		}
	}
	_, err := run(t, tool, input(t, map[string]any{"description": strings.Repeat("d", 9000)}, canned("x")))
	wantError(t, err, "the description is too long")
}

func TestFileName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ title, desc, want string }{
		{"Office Floor Plan", "", "office-floor-plan.svg"},
		{"", "  A two-storey house, front elevation, with a very long description that goes on", "a-two-storey-house-front-elevation-with.svg"},
		{"日本の家", "", "diagram.svg"},
	} {
		if got := fileName(c.title, c.desc); got != c.want {
			t.Errorf("fileName(%q, %q) = %q, want %q", c.title, c.desc, got, c.want)
		}
	}
}
