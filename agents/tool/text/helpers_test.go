package text

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// fakeModel stands in for the agent's model: it answers with answer and
// records every call.
type fakeModel struct {
	answer func(system, prompt string) (string, error)

	mu    sync.Mutex // guards calls
	calls []modelCall
}

type modelCall struct{ system, prompt string }

func newModel(answer func(system, prompt string) (string, error)) *fakeModel {
	return &fakeModel{answer: answer}
}

// canned answers every call with the same text.
func canned(answer string) *fakeModel {
	return newModel(func(string, string) (string, error) { return answer, nil })
}

func (m *fakeModel) complete(_ context.Context, system, prompt string) (string, error) {
	m.mu.Lock()
	m.calls = append(m.calls, modelCall{system, prompt})
	m.mu.Unlock()
	return m.answer(system, prompt)
}

func (m *fakeModel) seen() []modelCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]modelCall(nil), m.calls...)
}

// input is a tool input with the arguments args (a JSON object or a value
// to marshal) and the fake model, when m is not nil.
func input(t *testing.T, args any, m *fakeModel) agents.ToolInput {
	t.Helper()
	raw, ok := args.(string)
	if !ok {
		b, err := json.Marshal(args)
		if err != nil {
			t.Fatal(err)
		}
		raw = string(b)
	}
	in := agents.ToolInput{Arguments: json.RawMessage(raw)}
	if m != nil {
		in.Complete = m.complete
	}
	return in
}

func run(t *testing.T, tool agents.Tool, in agents.ToolInput) (agents.ToolOutput, error) {
	t.Helper()
	out, err := tool.Call(t.Context(), in)
	if err == nil && !utf8.ValidString(out.Content) {
		t.Errorf("the content is not valid UTF-8: %q", out.Content)
	}
	return out, err
}

func mustRun(t *testing.T, tool agents.Tool, in agents.ToolInput) agents.ToolOutput {
	t.Helper()
	out, err := run(t, tool, in)
	if err != nil {
		t.Fatalf("%s: %v", tool.Spec().Name, err)
	}
	return out
}

func wantError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v, want one containing %q", err, want)
	}
}

func contains(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%q lacks %q", clip(got), w)
		}
	}
}

func lacks(t *testing.T, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%q has %q", clip(got), w)
		}
	}
}

func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…"
	}
	return s
}

// realFiles returns the real file store on a fresh database, and an agent
// that owns files there.
func realFiles(t *testing.T) (*agents.Files, agents.Agent) {
	t.Helper()
	ctx := t.Context()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	user, err := ws.Register(ctx, "ann@x.io", "pw")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agents.New(db, ws).Create(ctx, user.ID, agents.NewAgent{Name: "writer", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("test file key")}), a
}

// checkSpec checks that a tool's parameters are a JSON schema object
// whose required arguments are properties.
func checkSpec(t *testing.T, tool agents.Tool, name string, required ...string) {
	t.Helper()
	spec := tool.Spec()
	if spec.Name != name || spec.Description == "" {
		t.Errorf("spec = %+v", spec)
	}
	var schema struct {
		Type       string
		Properties map[string]struct{ Type, Description string }
		Required   []string
	}
	if err := json.Unmarshal(spec.Parameters, &schema); err != nil {
		t.Fatalf("%s parameters: %v", name, err)
	}
	if schema.Type != "object" || len(schema.Required) != len(required) {
		t.Errorf("%s schema = %+v", name, schema)
	}
	for _, r := range required {
		if schema.Properties[r].Type == "" {
			t.Errorf("%s: required %q is not a property", name, r)
		}
	}
	for p, s := range schema.Properties {
		if s.Type == "" || s.Description == "" {
			t.Errorf("%s: property %q has no type or description", name, p)
		}
	}
}

func TestSpecs(t *testing.T) {
	t.Parallel()
	tools := Tools(Config{})
	if len(tools) != 4 {
		t.Fatalf("Tools = %d tools", len(tools))
	}
	checkSpec(t, tools[0], "summarization")
	checkSpec(t, tools[1], "question_answering", "question")
	checkSpec(t, tools[2], "translation", "text", "target_language")
	checkSpec(t, tools[3], "svg_diagram", "description")
}

func TestNoModel(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tool agents.Tool
		args string
	}{
		{NewSummarization(nil), `{"text": "hello"}`},
		{NewQuestionAnswering(), `{"question": "why?", "context": "because"}`},
		{NewTranslation(TranslationConfig{}), `{"text": "hello", "target_language": "fr"}`},
		{NewSVGDiagram(nil), `{"description": "a house"}`},
	} {
		_, err := run(t, c.tool, input(t, c.args, nil))
		wantError(t, err, c.tool.Spec().Name+" needs the agent's model")
	}
}
