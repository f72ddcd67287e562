package files

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// Limits of one read. The rune cap keeps a file from filling the model's
// context; the byte cap keeps the result under the agent loop's 64 KiB cut
// even for text of 4-byte characters.
const (
	maxReadRunes = 20000
	maxReadBytes = 60000
	// maxListed bounds the names a "not found" error lists.
	maxListed = 20
)

const readFileParams = `{"type":"object","properties":{` +
	`"path":{"type":"string","description":"The file's name, like \"notes.txt\", or its file_id."},` +
	`"offset":{"type":"integer","minimum":0,"description":"The character to start reading at, to read on in a long file. Default 0."}},` +
	`"required":["path"]}`

// ReadFile is the read_file tool: it returns the text of one of the
// conversation's files. It is safe for concurrent use.
type ReadFile struct {
	store Store
}

var _ agents.Tool = (*ReadFile)(nil)

// NewReadFile returns the read_file tool reading from store.
func NewReadFile(store Store) *ReadFile { return &ReadFile{store: store} }

// Spec describes the tool to the model.
func (t *ReadFile) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: ReadFileName,
		Description: "Read a file of this conversation (one the user uploaded, or one written by write_file or code_executor) " +
			"by its name or file_id, and return its text. A file written several times reads as its newest version. " +
			"Long files are cut at 20,000 characters; pass offset to read on. " +
			"A binary file (an image, a PDF) is described, not shown.",
		Parameters: json.RawMessage(readFileParams),
	}
}

// Call reads the file the arguments name.
func (t *ReadFile) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Path   *string         `json:"path"`
		Offset json.RawMessage `json:"offset"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object like {"path": "notes.txt"}`)
	}
	if args.Path == nil {
		return agents.ToolOutput{}, errors.New(`the path argument is required, like {"path": "notes.txt"}`)
	}
	offset, err := parseOffset(args.Offset)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	ref, err := fileName(*args.Path)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	f, err := t.store.Find(ctx, in.Agent.ID, in.ChatID, ref)
	if workspaces.ErrorKind(err) == workspaces.KindNotFound {
		return agents.ToolOutput{}, t.notFound(ctx, in, ref)
	}
	if err != nil {
		return agents.ToolOutput{}, storeError("could not look up the file", err)
	}
	content, err := t.read(f, offset)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	return agents.ToolOutput{Content: content}, nil
}

// parseOffset reads the optional offset: a whole number of characters,
// 0 when missing or null.
func parseOffset(raw json.RawMessage) (int64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var f float64
	if json.Unmarshal(raw, &f) != nil || f < 0 || f != float64(int64(f)) {
		return 0, errors.New("offset must be a whole number of characters, 0 or more")
	}
	return int64(f), nil
}

// notFound is the error for a name that matches no file: it lists the
// names the model could have meant.
func (t *ReadFile) notFound(ctx context.Context, in agents.ToolInput, ref string) error {
	list, err := t.store.List(ctx, in.Agent.ID, in.ChatID)
	if err != nil {
		return fmt.Errorf("no file %q in this conversation", ref)
	}
	var names []string
	seen := map[string]bool{}
	for _, f := range list {
		if !seen[f.Name] {
			seen[f.Name] = true
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no file %q: this conversation has no files yet", ref)
	}
	more := ""
	if len(names) > maxListed {
		more = fmt.Sprintf(" and %d more", len(names)-maxListed)
		names = names[:maxListed]
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = strconv.Quote(n)
	}
	return fmt.Errorf("no file %q in this conversation; its files are %s%s", ref, strings.Join(quoted, ", "), more)
}

// read renders file f from character offset on.
func (t *ReadFile) read(f agents.File, offset int64) (string, error) {
	r, err := t.store.Open(f)
	if err != nil {
		return "", storeError("could not open "+f.Name, err)
	}
	defer r.Close()
	br := bufio.NewReaderSize(r, sniffBytes)
	head, _ := br.Peek(sniffBytes) // a shorter file is fine; a read error shows below
	about := fmt.Sprintf("%s (%s, %s, file_id %s)", f.Name, f.ContentType, safehttp.FormatSize(f.Size), f.ID)
	if !isText(f.ContentType, head) {
		return fmt.Sprintf("%s is a binary file; its content is not text, so it is not shown.", about), nil
	}

	rr := textReader(br, f.ContentType)
	if c, _, err := rr.ReadRune(); err == nil && c != '\uFEFF' {
		rr.UnreadRune() // a byte order mark is not a character of the text
	}
	for n := int64(0); n < offset; n++ {
		if _, _, err := rr.ReadRune(); err != nil {
			if err == io.EOF {
				return "", fmt.Errorf("offset %d is past the end of %s, which has %d characters", offset, f.Name, n)
			}
			return "", fmt.Errorf("reading %s: %w", f.Name, err)
		}
	}
	var text strings.Builder
	var n int64
	cut := false
	for {
		c, _, err := rr.ReadRune()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", f.Name, err)
		}
		if n == maxReadRunes || text.Len()+utf8.RuneLen(c) > maxReadBytes {
			cut = true
			break
		}
		text.WriteRune(c)
		n++
	}

	var out strings.Builder
	out.WriteString("File: " + about + "\n")
	if offset > 0 {
		fmt.Fprintf(&out, "From character %d on.\n", offset)
	}
	out.WriteString("\n")
	switch {
	case n == 0 && offset == 0:
		out.WriteString("[the file is empty]")
	case n == 0:
		out.WriteString("[nothing more: the file ends here]")
	default:
		out.WriteString(text.String())
	}
	if cut {
		fmt.Fprintf(&out, "\n\n[cut at character %d; the file goes on: call read_file with offset %d to read more]", offset+n, offset+n)
	}
	return out.String(), nil
}
