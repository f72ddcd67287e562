package rag

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// AddFile adds the text of one of the agent's files (uploaded with seed
// 000's file API, or made by a tool) to its training data: plain text,
// Markdown, CSV, JSON, XML, HTML (its text), PDF (its text, by pdftotext)
// or a Word document (.docx).
func (s *Service) AddFile(ctx context.Context, caller workspaces.UserID, agent agents.ID, fileID, title string) (Document, error) {
	a, err := s.agents.Owned(ctx, caller, agent)
	if err != nil {
		return Document{}, err
	}
	if s.files == nil {
		return Document{}, workspaces.E(workspaces.KindUnavailable, "Files are not available on this server")
	}
	f, err := s.files.File(ctx, a.ID, fileID)
	if err != nil {
		return Document{}, err
	}
	r, err := s.files.Open(f)
	if err != nil {
		return Document{}, err
	}
	defer r.Close()
	var text string
	switch {
	case isDocx(f.Name, f.ContentType):
		// Read from the file in place: a Word file is mostly not text.
		text, err = docxText(r, f.Size, s.cfg.MaxDocumentBytes)
	case isPDF(f.Name, f.ContentType):
		text, err = pdfText(ctx, r.Name(), s.cfg.MaxDocumentBytes)
	default:
		raw, rerr := io.ReadAll(io.LimitReader(r, int64(s.cfg.MaxDocumentBytes)*4+1))
		switch {
		case rerr != nil:
			return Document{}, workspaces.Internal("read file", rerr)
		case len(raw) > s.cfg.MaxDocumentBytes*4: // HTML shrinks; nothing else much
			return Document{}, workspaces.E(workspaces.KindTooLarge, "The file has more text than a training document may hold ("+byteSize(s.cfg.MaxDocumentBytes)+")")
		}
		text, err = extractText(f.Name, f.ContentType, raw)
	}
	if err != nil {
		return Document{}, err
	}
	if title == "" {
		title = f.Name
	}
	return s.add(ctx, a, title, text, f.ID)
}

var errNotText = workspaces.E(workspaces.KindInvalid,
	"Only documents with text can be training data: plain text, Markdown, CSV, JSON, XML, HTML, PDF or Word (.docx; not .doc)")

// isPDF reports whether a file named name of type contentType is a PDF.
func isPDF(name, contentType string) bool {
	return strings.ToLower(path.Ext(name)) == ".pdf" || mediaType(contentType) == "application/pdf"
}

// isDocx reports whether a file named name of type contentType is a Word
// document (.docx).
func isDocx(name, contentType string) bool {
	return strings.ToLower(path.Ext(name)) == ".docx" || mediaType(contentType) == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
}

func mediaType(contentType string) string {
	return strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
}

// extractText returns the text of a file named name of type contentType
// (not a Word document or a PDF: docxText and pdfText read those).
func extractText(name, contentType string, raw []byte) (string, error) {
	ext := strings.ToLower(path.Ext(name))
	ct := mediaType(contentType)
	switch {
	case ext == ".html" || ext == ".htm" || ct == "text/html":
		return htmlText(string(raw)), nil
	case ext == ".doc" || ct == "application/msword":
		return "", errNotText
	}
	textual := strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/xml" ||
		strings.HasSuffix(ct, "+json") || strings.HasSuffix(ct, "+xml")
	switch ext {
	case ".txt", ".md", ".markdown", ".csv", ".tsv", ".json", ".xml", ".yaml", ".yml", ".log", ".rst":
		textual = true
	}
	if !textual && (ct == "" || ct == "application/octet-stream") {
		textual = utf8.Valid(raw) && !bytes.ContainsRune(raw, 0) // untyped but text
	}
	if !textual {
		return "", errNotText
	}
	if !utf8.Valid(raw) || bytes.ContainsRune(raw, 0) {
		return "", workspaces.E(workspaces.KindInvalid, "The file is not UTF-8 text")
	}
	return string(raw), nil
}

var (
	htmlDropped = regexp.MustCompile(`(?is)<(script|style|head|noscript|template)\b.*?</(script|style|head|noscript|template)\s*>|<!--.*?-->`)
	htmlBlock   = regexp.MustCompile(`(?i)<\s*/?\s*(p|div|br|li|ul|ol|tr|table|h[1-6]|section|article|header|footer|blockquote|pre)\b[^>]*>`)
	htmlTag     = regexp.MustCompile(`(?s)<[^>]*>`)
	blankLines  = regexp.MustCompile(`\n[ \t]*\n([ \t]*\n)+`)
	spaces      = regexp.MustCompile(`[ \t]+`)
)

// htmlText is the readable text of an HTML page.
func htmlText(s string) string {
	s = htmlDropped.ReplaceAllString(s, " ")
	s = htmlBlock.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, " ")
	s = html.UnescapeString(s)
	s = spaces.ReplaceAllString(s, " ")
	s = blankLines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}

var errBadDocx = workspaces.E(workspaces.KindInvalid, "The file is not a readable Word (.docx) document")

// docxText is the text of a Word document of size bytes read from r: the
// paragraphs of word/document.xml, at most maxText bytes of them.
func docxText(r io.ReaderAt, size int64, maxText int) (string, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return "", errBadDocx
	}
	for _, f := range zr.File {
		if f.Name != "word/document.xml" {
			continue
		}
		// Markup is most of the XML; more than 32 times the text allowed
		// is a bomb, not a document. (A header that lies about the size
		// is cut short by the limit, and then is not readable.)
		xmlCap := 32 * int64(maxText)
		if f.UncompressedSize64 > uint64(xmlCap) {
			return "", workspaces.E(workspaces.KindTooLarge, "The Word document is too large to be training data")
		}
		rc, err := f.Open()
		if err != nil {
			return "", errBadDocx
		}
		defer rc.Close()
		return wordParagraphs(io.LimitReader(rc, xmlCap), maxText)
	}
	return "", errBadDocx
}

// maxXMLDepth bounds the nesting of a Word document's XML (real ones nest
// a few dozen deep).
const maxXMLDepth = 256

// wordParagraphs reads the text runs (w:t), tabs and breaks of a
// WordprocessingML body, a line per paragraph (w:p), up to maxText bytes.
func wordParagraphs(r io.Reader, maxText int) (string, error) {
	var b strings.Builder
	d := xml.NewDecoder(r)
	inText := false
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", errBadDocx
		}
		if b.Len() > maxText {
			return "", workspaces.E(workspaces.KindTooLarge, "The Word document has more text than a training document may hold ("+byteSize(maxText)+")")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth++; depth > maxXMLDepth {
				return "", errBadDocx
			}
			switch t.Name.Local {
			case "t":
				inText = true
			case "tab":
				b.WriteByte('\t')
			case "br", "cr":
				b.WriteByte('\n')
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "t":
				inText = false
			case "p":
				b.WriteByte('\n')
			}
		case xml.CharData:
			if inText {
				b.Write(t)
			}
		}
	}
	return strings.TrimSpace(b.String()), nil
}
