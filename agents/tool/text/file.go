package text

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// textFile is the text of a file, as far as it was read.
type textFile struct {
	text string
	// source names the file for the model.
	source string
	// cut is set when the file was longer than what was read.
	cut  bool
	size int64
}

// readFile returns the text of the conversation's file ref. It reads at
// most 4 bytes per character of maxSummaryInput, and refuses files that
// are not text.
func (s *Summarization) readFile(ctx context.Context, in agents.ToolInput, ref string) (textFile, error) {
	if s.files == nil {
		return textFile{}, fmt.Errorf("%s cannot read files here: give the text argument instead", SummarizationName)
	}
	fl, err := s.files.Find(ctx, in.Agent.ID, in.ChatID, ref)
	if workspaces.ErrorKind(err) == workspaces.KindNotFound {
		return textFile{}, fmt.Errorf("there is no file %q in this conversation: give a file id or name", ref)
	}
	if err != nil {
		return textFile{}, fmt.Errorf("finding file %q: %w", ref, err)
	}
	if !textType(fl.ContentType) {
		return textFile{}, fmt.Errorf("%s is a %s file, and %s reads only text files", fl.Name, fl.ContentType, SummarizationName)
	}
	f, err := s.files.Open(fl)
	if err != nil {
		return textFile{}, fmt.Errorf("opening %s: %w", fl.Name, err)
	}
	defer f.Close()
	// A character takes at most 4 bytes; one more byte shows the cut.
	raw, err := io.ReadAll(io.LimitReader(f, 4*maxSummaryInput+1))
	if err != nil {
		return textFile{}, fmt.Errorf("reading %s: %w", fl.Name, err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	head := raw[:min(len(raw), 1024)]
	if bytes.IndexByte(head, 0) >= 0 {
		return textFile{}, fmt.Errorf("%s holds binary data, and %s reads only text files", fl.Name, SummarizationName)
	}
	cut := len(raw) > 4*maxSummaryInput
	if cut {
		raw = raw[:4*maxSummaryInput] // a character cut in two becomes U+FFFD below
	}
	return textFile{
		text:   strings.ToValidUTF8(string(raw), "\uFFFD"),
		source: fmt.Sprintf("%s (file_id %s)", fl.Name, fl.ID),
		cut:    cut,
		size:   fl.Size,
	}, nil
}

// textType reports whether a file of this content type holds text a model
// can read.
func textType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/xml", "application/x-yaml", "application/yaml", "application/toml",
		"application/javascript", "application/x-javascript", "application/ecmascript", "application/sql",
		"application/x-sh", "application/x-python", "application/x-ndjson", "application/ld+json",
		"application/rtf", "image/svg+xml":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
