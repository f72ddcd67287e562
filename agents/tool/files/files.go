package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Store is where the tools find and keep files; *agents.Files is one.
type Store interface {
	// Find returns the file a name or id refers to in the agent's
	// conversation, the newest of a name winning, or a KindNotFound error.
	Find(ctx context.Context, agent agents.ID, conv workspaces.ChatID, ref string) (agents.File, error)
	// List returns the files the conversation may see, newest first.
	List(ctx context.Context, agent agents.ID, conv workspaces.ChatID) ([]agents.File, error)
	// Open opens a file's bytes; the caller closes them.
	Open(f agents.File) (*os.File, error)
	// Save stores a new file.
	Save(ctx context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error)
}

var _ Store = (*agents.Files)(nil)

// The tools' names, as agent configurations enable them.
const (
	ReadFileName  = "read_file"
	WriteFileName = "write_file"
)

// New returns the read_file and write_file tools, working on store.
func New(store Store) []agents.Tool {
	return []agents.Tool{NewReadFile(store), NewWriteFile(store)}
}

// maxNameBytes bounds a file name, as agents.Files does.
const maxNameBytes = 255

// fileName turns the path a model wrote into the flat file name it
// means: its last element. "notes.txt", "./notes.txt", "/notes.txt" and
// "out/notes.txt" all name notes.txt; a ".." element anywhere and an
// absolute path with directories are refused.
func fileName(path string) (string, error) {
	p := strings.TrimSpace(path)
	if p == "" {
		return "", errors.New(`the path is empty: give a file name like "notes.txt"`)
	}
	slashed := strings.ReplaceAll(p, `\`, "/")
	var elems []string
	for _, e := range strings.Split(slashed, "/") {
		switch strings.TrimSpace(e) {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf(`the path %q is not allowed: ".." cannot be used; files are named by their name alone, like "notes.txt"`, p)
		}
		elems = append(elems, e)
	}
	if len(elems) == 0 {
		return "", fmt.Errorf(`%q is not a file name: give one like "notes.txt"`, p)
	}
	if strings.HasPrefix(slashed, "/") && len(elems) > 1 {
		return "", fmt.Errorf(`the path %q is outside the conversation: files are named by their name alone, like %q`, p, elems[len(elems)-1])
	}
	name := strings.TrimSpace(elems[len(elems)-1])
	if len(name) > maxNameBytes {
		return "", fmt.Errorf("the file name is longer than %d bytes", maxNameBytes)
	}
	return name, nil
}

// storeError words a store's failure for the model: the message of a
// workspaces.Error, never its cause.
func storeError(what string, err error) error {
	return fmt.Errorf("%s: %s", what, workspaces.ErrorMessage(err))
}
