package text

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Store reads and writes the files of an agent's conversations.
// *agents.Files implements it.
type Store interface {
	// Find returns the file that ref (an id or a name) names for a tool
	// of agent's conversation conv.
	Find(ctx context.Context, agent agents.ID, conv workspaces.ChatID, ref string) (agents.File, error)
	// Open opens a file's bytes; the caller closes them.
	Open(f agents.File) (*os.File, error)
	// Save stores a new file of agent a.
	Save(ctx context.Context, a agents.Agent, conv workspaces.ChatID, name, contentType, source string, r io.Reader) (agents.File, error)
}

var _ Store = (*agents.Files)(nil)

// Config configures the tools of this package. The zero value works: no
// files (summarization refuses the file argument and svg_diagram returns
// the SVG without saving it) and translation by the agent's model.
type Config struct {
	// Files stores the files the tools read and make. Leave it nil, not
	// a nil *agents.Files, when there is no store.
	Files Store
	// AWS, when set, makes translation use Amazon Translate with these
	// credentials, region and endpoint.
	AWS *aws.Config
}

// Tools returns the four tools of this package.
func Tools(cfg Config) agents.StaticTools {
	return agents.StaticTools{
		NewSummarization(cfg.Files),
		NewQuestionAnswering(),
		NewTranslation(TranslationConfig{AWS: cfg.AWS}),
		NewSVGDiagram(cfg.Files),
	}
}

// decodeArgs reads the model's arguments into v, wording a failure so the
// model can fix its call: which argument had the wrong type, and an
// example of a good call.
func decodeArgs(raw json.RawMessage, v any, example string) error {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("the %s argument must be a %s, like %s", te.Field, jsonKind(te.Type.Kind().String()), example)
	}
	return fmt.Errorf("the arguments must be a JSON object like %s", example)
}

// jsonKind names a Go kind as JSON does.
func jsonKind(k string) string {
	switch {
	case k == "string":
		return "string"
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "bool":
		return "boolean"
	}
	return "value of another type"
}

// needModel is the error of a tool called in a run without a model.
func needModel(tool string) error {
	return fmt.Errorf("%s needs the agent's model, and this run has none", tool)
}

// cutRunes cuts s to at most n characters, preferring to end at a line
// break or a space in the last tenth, and reports whether it cut.
func cutRunes(s string, n int) (string, bool) {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s, false
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	head := s[:i]
	if j := strings.LastIndexAny(head, "\n "); j > len(head)*9/10 {
		head = head[:j]
	}
	return strings.TrimRight(head, " \n\t"), true
}

// formatCount writes 20000 as "20,000".
func formatCount(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// formatSize writes a byte count for people: "512 bytes", "3.2 KB".
func formatSize(n int) string {
	switch {
	case n < 1000:
		return strconv.Itoa(n) + " bytes"
	case n < 1000*1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + " KB"
	}
	return strconv.FormatFloat(float64(n)/(1000*1000), 'f', 1, 64) + " MB"
}

// mapLimit calls f on every piece with at most n calls at once and
// returns the answers in the pieces' order. The first error cancels the
// calls still running and is returned.
func mapLimit(ctx context.Context, pieces []string, n int, f func(ctx context.Context, i int, piece string) (string, error)) ([]string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := make([]string, len(pieces))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
loop:
	for i, p := range pieces {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break loop
		}
		wg.Go(func() {
			defer func() { <-sem }()
			answer, err := f(ctx, i, p)
			if err != nil {
				once.Do(func() { first = err; cancel(err) })
				return
			}
			out[i] = answer
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return out, nil
}
