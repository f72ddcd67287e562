package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// OCR is the ocr tool: it reads the text of an image or a PDF, with Amazon
// Textract when AWS is configured, else with tesseract. It is safe for
// concurrent use.
type OCR struct{ k *toolkit }

var _ agents.TimedTool = (*OCR)(nil)

// Spec describes the tool to the model.
func (t *OCR) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: OCRName,
		Description: "Read the text in an image (PNG, JPEG, TIFF, GIF, WebP, BMP) or a scanned PDF by optical character recognition. " +
			"The input is a file of the conversation (its id or name) or a URL. " +
			fmt.Sprintf("PDFs are read page by page, at most %d pages; the text returned is cut at %s characters.",
				t.k.cfg.MaxPages, formatCount(t.k.cfg.MaxTextRunes)),
		Parameters: json.RawMessage(`{"type":"object","properties":{` +
			`"file":{"type":"string","description":"The id or name of an image or PDF file of the conversation."},` +
			`"url":{"type":"string","description":"The http or https URL of an image or PDF, instead of a file."}}}`),
	}
}

// Timeout is the longest one call may take.
func (t *OCR) Timeout() time.Duration { return t.k.cfg.Timeout }

// Call reads the text of the image or PDF.
func (t *OCR) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		File string `json:"file"`
		URL  string `json:"url"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"file": "scan.png"}`)
	}
	ref, err := pick(args.File, args.URL, "image or PDF")
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if t.k.textract == nil && !t.k.has(progTesseract) {
		return agents.ToolOutput{}, fmt.Errorf("ocr needs tesseract (Debian packages tesseract-ocr and tesseract-ocr-eng) or Amazon Textract: install tesseract, or %s", awsHint)
	}
	dir, cleanup, err := t.k.tempDir()
	if err != nil {
		return agents.ToolOutput{}, err
	}
	defer cleanup()
	src, err := t.k.load(ctx, in, ref, dir, "input")
	if err != nil {
		return agents.ToolOutput{}, err
	}

	var r ocrResult
	switch {
	case src.kind == typePDF:
		r, err = t.k.readPDF(ctx, dir, src)
	case strings.HasPrefix(src.kind, "image/"):
		r, err = t.k.readImage(ctx, dir, src)
	default:
		return agents.ToolOutput{}, fmt.Errorf("%s is not an image or a PDF (it looks like %s)", src.name, src.kind)
	}
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return agents.ToolOutput{Content: r.render(src.name, t.k.cfg.MaxTextRunes)}, nil
}

// ocrResult is the text of each page read.
type ocrResult struct {
	engine string
	pages  []string
	// total is the number of pages of a PDF (0 when unknown or an image).
	total int
	pdf   bool
}

func (r ocrResult) render(name string, maxRunes int) string {
	var b strings.Builder
	what := ""
	switch {
	case !r.pdf:
	case r.total > len(r.pages):
		what = fmt.Sprintf(", the first %d of %d pages", len(r.pages), r.total)
	case len(r.pages) == 1:
		what = ", 1 page"
	default:
		what = fmt.Sprintf(", %d pages", len(r.pages))
	}
	fmt.Fprintf(&b, "Text of %s (read by %s%s):\n\n", name, r.engine, what)
	var text strings.Builder
	empty := true
	for i, p := range r.pages {
		p = strings.TrimSpace(p)
		if p != "" {
			empty = false
		}
		if len(r.pages) > 1 {
			if i > 0 {
				text.WriteString("\n\n")
			}
			fmt.Fprintf(&text, "--- page %d ---\n", i+1)
			if p == "" {
				p = "[no text found]"
			}
		}
		text.WriteString(p)
	}
	if empty {
		b.WriteString("[no text found]")
		return b.String()
	}
	s, cut := capText(text.String(), maxRunes)
	b.WriteString(s)
	if cut {
		fmt.Fprintf(&b, "\n\n[text cut at %s characters; there is more]", formatCount(maxRunes))
	}
	if r.total > len(r.pages) {
		fmt.Fprintf(&b, "\n\n[only the first %d pages were read]", len(r.pages))
	}
	return b.String()
}

// textractKinds are the image types Textract reads.
var textractKinds = map[string]bool{"image/png": true, "image/jpeg": true, typeTIFF: true}

// readImage reads one image.
func (k *toolkit) readImage(ctx context.Context, dir string, src input) (ocrResult, error) {
	if k.textract != nil && (textractKinds[src.kind] || !k.has(progTesseract)) {
		if !textractKinds[src.kind] {
			return ocrResult{}, fmt.Errorf("Amazon Textract reads PNG, JPEG and TIFF images, and %s is %s: convert it, or install tesseract (Debian package tesseract-ocr)", src.name, src.kind)
		}
		text, err := k.textractText(ctx, src.path)
		if err != nil {
			return ocrResult{}, err
		}
		return ocrResult{engine: "Amazon Textract", pages: []string{text}}, nil
	}
	text, err := k.tesseract(ctx, dir, src.path)
	if err != nil {
		return ocrResult{}, err
	}
	return ocrResult{engine: "tesseract", pages: []string{text}}, nil
}

// readPDF renders a PDF's pages with pdftoppm and reads each. Without
// pdftoppm, Textract is given the PDF itself, which it reads when it has
// one page.
func (k *toolkit) readPDF(ctx context.Context, dir string, src input) (ocrResult, error) {
	if !k.has(progPdftoppm) {
		if k.textract == nil {
			return ocrResult{}, errors.New("reading a PDF needs pdftoppm (Debian package poppler-utils) to turn its pages into images")
		}
		text, err := k.textractText(ctx, src.path)
		if err != nil {
			return ocrResult{}, fmt.Errorf("%w (for PDFs of several pages, install poppler-utils so that they are read page by page)", err)
		}
		return ocrResult{engine: "Amazon Textract", pages: []string{text}, pdf: true, total: 1}, nil
	}
	total := k.pdfPages(ctx, dir, src.path)
	last := k.cfg.MaxPages
	if total > 0 && total < last {
		last = total
	}
	if _, err := k.run(ctx, dir, progPdftoppm, 64<<10, "-r", "200", "-png", "-f", "1", "-l", strconv.Itoa(last),
		src.path, filepath.Join(dir, "page")); err != nil {
		return ocrResult{}, fmt.Errorf("rendering the pages of %s: %w", src.name, err)
	}
	pages, err := filepath.Glob(filepath.Join(dir, "page-*.png"))
	if err != nil || len(pages) == 0 {
		return ocrResult{}, fmt.Errorf("%s has no pages that could be rendered", src.name)
	}
	sort.Strings(pages) // pdftoppm pads the numbers to one width
	r := ocrResult{engine: "tesseract", pdf: true, total: total}
	if k.textract != nil {
		r.engine = "Amazon Textract"
	}
	for _, p := range pages {
		var text string
		if k.textract != nil {
			text, err = k.textractText(ctx, p)
		} else {
			text, err = k.tesseract(ctx, dir, p)
		}
		if err != nil {
			return ocrResult{}, fmt.Errorf("page %d: %w", len(r.pages)+1, err)
		}
		r.pages = append(r.pages, text)
		os.Remove(p) // a page image is some megabytes
	}
	return r, nil
}

var pagesLine = regexp.MustCompile(`(?m)^Pages:\s+(\d+)`)

// pdfPages is a PDF's number of pages, from pdfinfo; 0 when unknown.
func (k *toolkit) pdfPages(ctx context.Context, dir, path string) int {
	out, err := k.run(ctx, dir, progPdfinfo, 1<<20, path)
	if err != nil {
		return 0
	}
	m := pagesLine.FindSubmatch(out)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// tesseract reads the text of the image at path.
func (k *toolkit) tesseract(ctx context.Context, dir, path string) (string, error) {
	out, err := k.run(ctx, dir, progTesseract, 1<<20, path, "stdout", "-l", k.cfg.TesseractLanguage)
	var pe *programError
	if errors.As(err, &pe) && strings.Contains(pe.msg, "Failed loading language") {
		return "", fmt.Errorf("tesseract has no data for the language %q (Debian package tesseract-ocr-%s)", k.cfg.TesseractLanguage, k.cfg.TesseractLanguage)
	}
	if err != nil {
		return "", err
	}
	return strings.ToValidUTF8(string(out), "\uFFFD"), nil
}
