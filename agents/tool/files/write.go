package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"path/filepath"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// maxWriteBytes caps the content of one write_file call.
const maxWriteBytes = 10 << 20

const writeFileParams = `{"type":"object","properties":{` +
	`"path":{"type":"string","description":"The file's name, like \"report.md\"; the extension sets its type."},` +
	`"content":{"type":"string","description":"The file's whole text."}},` +
	`"required":["path","content"]}`

// WriteFile is the write_file tool: it stores a text file in the
// conversation. It is safe for concurrent use.
type WriteFile struct {
	store Store
}

var _ agents.Tool = (*WriteFile)(nil)

// NewWriteFile returns the write_file tool saving to store.
func NewWriteFile(store Store) *WriteFile { return &WriteFile{store: store} }

// Spec describes the tool to the model.
func (t *WriteFile) Spec() agents.ToolSpec {
	return agents.ToolSpec{
		Name: WriteFileName,
		Description: "Write a text file (at most 10 MB) into this conversation's files, where the user can download it " +
			"and read_file and code_executor can read it. Writing a name again makes a new version of that file. " +
			"Give a plain file name like \"report.md\"; directories are ignored.",
		Parameters: json.RawMessage(writeFileParams),
	}
}

// Call stores the file the arguments describe.
func (t *WriteFile) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Path    *string `json:"path"`
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(in.Arguments, &args); err != nil {
		return agents.ToolOutput{}, errors.New(`the arguments must be a JSON object with string path and content, like {"path": "notes.txt", "content": "…"}`)
	}
	if args.Path == nil || args.Content == nil {
		return agents.ToolOutput{}, errors.New(`both path and content are required, like {"path": "notes.txt", "content": "…"}`)
	}
	name, err := fileName(*args.Path)
	if err != nil {
		return agents.ToolOutput{}, err
	}
	if len(*args.Content) > maxWriteBytes {
		return agents.ToolOutput{}, fmt.Errorf("the content is %s, more than the %s a file may have",
			safehttp.FormatSize(int64(len(*args.Content))), safehttp.FormatSize(maxWriteBytes))
	}
	// Only for the note below: a failed lookup does not stop the write.
	_, findErr := t.store.Find(ctx, in.Agent.ID, in.ChatID, name)
	f, err := t.store.Save(ctx, in.Agent, in.ChatID, name, contentType(name), "tool", strings.NewReader(*args.Content))
	if err != nil {
		return agents.ToolOutput{}, storeError("could not write "+name, err)
	}
	msg := fmt.Sprintf("Wrote %s (%s, %s, file_id %s).", f.Name, f.ContentType, safehttp.FormatSize(f.Size), f.ID)
	if findErr == nil {
		msg += " It is a new version of " + f.Name + ": read_file now reads this one; the earlier version keeps its own file_id."
	}
	return agents.ToolOutput{Content: msg, FileIDs: []string{f.ID}}, nil
}

// contentType is the media type a name's extension gives, text/plain when
// it gives none; the content is a JSON string, so text types say UTF-8.
func contentType(name string) string {
	ct := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if ct == "" {
		return "text/plain; charset=utf-8"
	}
	if strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "charset") {
		ct += "; charset=utf-8"
	}
	return ct
}
