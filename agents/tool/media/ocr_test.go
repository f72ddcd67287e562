package media

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// textImage draws lines of black text on a white PNG with ffmpeg's
// drawtext and the DejaVu font.
func textImage(t *testing.T, dir string, lines ...string) string {
	t.Helper()
	need(t, "ffmpeg")
	needFont(t)
	var filters []string
	for i, l := range lines {
		filters = append(filters, fmt.Sprintf("drawtext=fontfile=%s:text='%s':fontsize=56:fontcolor=black:x=40:y=%d", font, l, 40+90*i))
	}
	p := filepath.Join(dir, "text.png")
	sh(t, "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("color=white:s=1000x%d", 80+90*len(lines)), "-vf", strings.Join(filters, ","), "-frames:v", "1", p)
	return p
}

// textPDF writes a PDF with one page per text, each a line in Helvetica,
// built by hand with a correct cross-reference table.
func textPDF(pages ...string) []byte {
	var objs []string
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 4+2*i)
	}
	objs = append(objs,
		"<< /Type /Catalog /Pages 2 0 R >>",
		fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids, len(pages)),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i, text := range pages {
		content := fmt.Sprintf("BT /F1 36 Tf 72 700 Td (%s) Tj ET", text)
		objs = append(objs,
			fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", 5+2*i),
			fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// words lower-cases s and splits it into words, for comparing OCR output.
func words(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func TestOCRImageTesseract(t *testing.T) {
	t.Parallel()
	need(t, "tesseract")
	img := textImage(t, t.TempDir(), "Atrium reads images", "Invoice 4217")
	store := newMemStore(t)
	store.putFile(t, "scan.png", img)
	tool := tools(Config{}, store, nil, nil)[OCRName]

	out := mustCall(t, tool, map[string]any{"file": "scan.png"})
	if !strings.HasPrefix(out.Content, "Text of scan.png (read by tesseract):\n\n") {
		t.Errorf("content = %q", out.Content)
	}
	contains(t, words(out.Content), "atrium reads images", "invoice 4217")
	if len(out.FileIDs) != 0 {
		t.Errorf("FileIDs = %v", out.FileIDs)
	}
}

func TestOCRPDFTesseract(t *testing.T) {
	t.Parallel()
	need(t, "tesseract", "pdftoppm", "pdfinfo")
	store := newMemStore(t)
	f := store.put(t, "letter.pdf", textPDF("Hello from page one", "The second page says goodbye", "Page three is never read"))
	tool := tools(Config{MaxPages: 2}, store, nil, nil)[OCRName]

	out := mustCall(t, tool, map[string]any{"file": f.ID})
	got := out.Content
	contains(t, got, "Text of letter.pdf (read by tesseract, the first 2 of 3 pages):", "--- page 1 ---", "--- page 2 ---",
		"[only the first 2 pages were read]")
	contains(t, words(got), "hello from page one", "the second page says goodbye")
	if strings.Contains(got, "three") || strings.Contains(got, "--- page 3") {
		t.Errorf("page 3 was read: %q", got)
	}
}

func TestOCRTextract(t *testing.T) {
	t.Parallel()
	need(t, "pdftoppm")
	fake := newFakeAWS(t)
	fake.textract = func(w http.ResponseWriter, req textractRequest) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		json.NewEncoder(w).Encode(map[string]any{
			"DocumentMetadata": map[string]any{"Pages": 1},
			"Blocks": []map[string]any{
				{"BlockType": "PAGE", "Id": "p"},
				{"BlockType": "LINE", "Id": "l1", "Text": "First line", "Page": 1},
				{"BlockType": "WORD", "Id": "w1", "Text": "First"},
				{"BlockType": "LINE", "Id": "l2", "Text": "Second line", "Page": 1},
			},
		})
	}
	store := newMemStore(t)
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-not-really-an-image")
	store.put(t, "photo.png", png)
	// tesseract is not needed when Textract is configured.
	tool := tools(Config{Tesseract: "/nonexistent/tesseract"}, store, nil, fake)[OCRName]

	out := mustCall(t, tool, map[string]any{"file": "photo.png"})
	if out.Content != "Text of photo.png (read by Amazon Textract):\n\nFirst line\nSecond line" {
		t.Errorf("content = %q", out.Content)
	}
	reqs := fake.requests()
	if len(reqs) != 1 || !bytes.Equal(reqs[0].body.(textractRequest).Document.Bytes, png) {
		t.Fatalf("requests = %+v", reqs)
	}

	// A PDF is rendered page by page, each page sent as a PNG.
	store.put(t, "two.pdf", textPDF("one", "two"))
	out = mustCall(t, tool, map[string]any{"file": "two.pdf"})
	contains(t, out.Content, "(read by Amazon Textract, 2 pages)", "--- page 2 ---\nFirst line\nSecond line")
	reqs = fake.requests()
	if len(reqs) != 2 || !bytes.HasPrefix(reqs[1].body.(textractRequest).Document.Bytes, []byte("\x89PNG")) {
		t.Errorf("%d requests", len(reqs))
	}

	// Textract takes no GIF; without tesseract that is said.
	store.put(t, "anim.gif", []byte("GIF89a......"))
	_, err := call(t, tool, map[string]any{"file": "anim.gif"})
	wantErr(t, err, "Amazon Textract reads PNG, JPEG and TIFF images, and anim.gif is image/gif")

	fake.textract = func(w http.ResponseWriter, req textractRequest) {
		awsError(w, http.StatusBadRequest, "UnsupportedDocumentException", "Request has unsupported document format")
	}
	_, err = call(t, tool, map[string]any{"file": "photo.png"})
	wantErr(t, err, "Amazon Textract cannot read this document")
}

func TestOCRErrors(t *testing.T) {
	t.Parallel()
	store := newMemStore(t)
	store.put(t, "notes.txt", []byte("just text"))
	tool := tools(Config{}, store, nil, nil)[OCRName]
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, "the image or PDF is required"},
		{map[string]any{"file": "a.png", "url": "https://example.com/a.png"}, "either file or url"},
		{map[string]any{"url": "ftp://example.com/a.png"}, "must start with http:// or https://"},
		{map[string]any{"file": "missing.png"}, `no file "missing.png" in this conversation`},
	} {
		_, err := call(t, tool, c.args)
		wantErr(t, err, c.want)
	}

	need(t, "tesseract")
	_, err := call(t, tool, map[string]any{"file": "notes.txt"})
	wantErr(t, err, "notes.txt is not an image or a PDF (it looks like text/plain)")

	none := tools(Config{Tesseract: "/nonexistent/tesseract"}, store, nil, nil)[OCRName]
	_, err = call(t, none, map[string]any{"file": "notes.txt"})
	wantErr(t, err, "ocr needs tesseract (Debian packages tesseract-ocr and tesseract-ocr-eng) or Amazon Textract", "AWS_REGION")

	store.put(t, "doc.pdf", textPDF("x"))
	noPoppler := tools(Config{Pdftoppm: "/nonexistent/pdftoppm"}, store, nil, nil)[OCRName]
	_, err = call(t, noPoppler, map[string]any{"file": "doc.pdf"})
	wantErr(t, err, "reading a PDF needs pdftoppm (Debian package poppler-utils)")

	big := tools(Config{MaxInputBytes: 5}, store, nil, nil)[OCRName]
	_, err = call(t, big, map[string]any{"file": "notes.txt"})
	wantErr(t, err, "notes.txt is 9 bytes, larger than the limit of 5 bytes")
}

// TestURLInput reads an image from a URL: refused on 127.0.0.1 unless
// the operator allows it.
func TestURLInput(t *testing.T) {
	t.Parallel()
	need(t, "tesseract")
	img, err := os.ReadFile(textImage(t, t.TempDir(), "Fetched from the web"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/scan.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(img)
		case "/huge":
			w.Write(bytes.Repeat([]byte("x"), 4096))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	refused := tools(Config{}, newMemStore(t), safehttp.New(safehttp.Config{}), nil)[OCRName]
	_, err = call(t, refused, map[string]any{"url": srv.URL + "/scan.png"})
	wantErr(t, err, "refusing to connect to 127.0.0.1: loopback address", "ATRIUM_TOOLS_ALLOW_HOSTS")
	// The default client refuses too.
	refused = New(Config{}, nil, newMemStore(t), nil)[2]
	_, err = call(t, refused, map[string]any{"file": srv.URL + "/scan.png"})
	wantErr(t, err, "refusing to connect to 127.0.0.1")

	allowed := tools(Config{MaxInputBytes: 1 << 20}, newMemStore(t), safehttp.New(safehttp.Config{Allow: []string{"127.0.0.1"}}), nil)[OCRName]
	out := mustCall(t, allowed, map[string]any{"url": srv.URL + "/scan.png"})
	contains(t, out.Content, "Text of scan.png (read by tesseract)")
	contains(t, words(out.Content), "fetched from the web")

	_, err = call(t, allowed, map[string]any{"url": srv.URL + "/nope.png"})
	wantErr(t, err, "could not fetch", "404")
	small := tools(Config{MaxInputBytes: 1000}, newMemStore(t), safehttp.New(safehttp.Config{Allow: []string{"127.0.0.1"}}), nil)[OCRName]
	_, err = call(t, small, map[string]any{"url": srv.URL + "/huge"})
	wantErr(t, err, "larger than the limit of 1000 bytes")
}

func TestOCRRender(t *testing.T) {
	t.Parallel()
	r := ocrResult{engine: "tesseract", pages: []string{"  \n", "text"}, pdf: true}
	if got := r.render("a.pdf", 100); got != "Text of a.pdf (read by tesseract, 2 pages):\n\n--- page 1 ---\n[no text found]\n\n--- page 2 ---\ntext" {
		t.Errorf("render = %q", got)
	}
	r = ocrResult{engine: "tesseract", pages: []string{""}}
	if got := r.render("a.png", 100); got != "Text of a.png (read by tesseract):\n\n[no text found]" {
		t.Errorf("render = %q", got)
	}
	r = ocrResult{engine: "tesseract", pages: []string{strings.Repeat("word ", 100)}}
	got := r.render("a.png", 52)
	if !strings.HasSuffix(got, "word word\n\n[text cut at 52 characters; there is more]") {
		t.Errorf("render = %q", got)
	}
}
