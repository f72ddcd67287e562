package rag

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/workspaces"
)

// docx makes a Word file whose word/document.xml is body.
func docx(t testing.TB, body string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range map[string]string{"[Content_Types].xml": "<Types/>", "word/document.xml": body} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExtractText(t *testing.T) {
	html := `<html><head><title>T</title><style>p{color:red}</style><script>var x="<p>no</p>"</script></head>
<body><h1>Opening&nbsp;hours</h1><!-- hidden --><p>We open at <b>nine</b> &amp; close at six.</p><ul><li>Mon</li><li>Tue</li></ul></body></html>`
	got, err := extractText("page.html", "", []byte(html))
	if err != nil || !strings.Contains(got, "Opening\u00a0hours") || !strings.Contains(got, "We open at nine & close at six.") || !strings.Contains(got, "Mon") {
		t.Fatalf("html = %q, %v", got, err)
	}
	for _, bad := range []string{"no", "color", "hidden", "<", "T\n"} {
		if strings.Contains(got, bad) {
			t.Fatalf("html text %q keeps %q", got, bad)
		}
	}
	for _, tc := range []struct {
		name, ct, body string
		ok             bool
	}{
		{"notes.md", "", "# Title\nbody", true},
		{"data.bin", "application/octet-stream", "plain words", true},
		{"data.bin", "application/octet-stream", "bin\x00ary", false},
		{"report.pdf", "application/pdf", "%PDF-1.7", false},
		{"old.doc", "", "x", false},
		{"photo.png", "image/png", "\x89PNG", false},
		{"latin1.txt", "text/plain", "caf\xe9", false},
		{"x", "application/json; charset=utf-8", `{"a":1}`, true},
	} {
		_, err := extractText(tc.name, tc.ct, []byte(tc.body))
		if (err == nil) != tc.ok || (err != nil && workspaces.ErrorKind(err) != workspaces.KindInvalid) {
			t.Errorf("%s (%s): %v, want ok %t", tc.name, tc.ct, err, tc.ok)
		}
	}
}

func TestDocxText(t *testing.T) {
	body := `<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		`<w:p><w:r><w:t>Refunds take</w:t></w:r><w:r><w:t xml:space="preserve"> 14 days.</w:t></w:r></w:p>` +
		`<w:p><w:r><w:t>Second</w:t><w:tab/><w:t>line</w:t><w:br/><w:t>after a break</w:t></w:r></w:p></w:body></w:document>`
	raw := docx(t, body)
	got, err := docxText(bytes.NewReader(raw), int64(len(raw)), 1<<20)
	if err != nil || got != "Refunds take 14 days.\nSecond\tline\nafter a break" {
		t.Fatalf("docx = %q, %v", got, err)
	}
	// Hostile or broken files are refused without reading them whole.
	deep := docx(t, strings.Repeat("<a>", 100_000))
	if _, err := docxText(bytes.NewReader(deep), int64(len(deep)), 1<<20); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("deeply nested XML: %v", err)
	}
	huge := docx(t, "<w:document><w:t>"+strings.Repeat("x", 2<<20)+"</w:t></w:document>")
	if _, err := docxText(bytes.NewReader(huge), int64(len(huge)), 1<<16); workspaces.ErrorKind(err) != workspaces.KindTooLarge {
		t.Fatalf("too much XML: %v", err)
	}
	lots := docx(t, "<w:document>"+strings.Repeat("<w:p><w:t>text</w:t></w:p>", 20_000)+"</w:document>")
	if _, err := docxText(bytes.NewReader(lots), int64(len(lots)), 10_000); workspaces.ErrorKind(err) != workspaces.KindTooLarge {
		t.Fatalf("too much text: %v", err)
	}
	for _, raw := range [][]byte{[]byte("not a zip"), docx(t, "<unclosed")} {
		if _, err := docxText(bytes.NewReader(raw), int64(len(raw)), 1<<20); workspaces.ErrorKind(err) != workspaces.KindInvalid {
			t.Fatalf("broken docx: %v", err)
		}
	}
}

// FuzzExtract checks that no input makes the extractors panic or exceed
// their limits.
func FuzzExtract(f *testing.F) {
	f.Add([]byte("<p>a &amp; b</p><script>x</script>"), false)
	f.Add(docx(f, "<w:p><w:t>x</w:t></w:p>"), true)
	f.Fuzz(func(t *testing.T, raw []byte, word bool) {
		if word {
			got, err := docxText(bytes.NewReader(raw), int64(len(raw)), 1<<12)
			if err == nil && len(got) > 1<<12+1<<10 {
				t.Fatalf("%d bytes of text past the limit", len(got))
			}
			return
		}
		extractText("f.html", "text/html", raw)
		extractText("f", "", raw)
	})
}
