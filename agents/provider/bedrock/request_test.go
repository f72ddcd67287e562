package bedrock_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// conversation is a request that uses every translation rule.
func conversation() agents.ModelRequest {
	temp, topP := 0.5, 0.25
	return agents.ModelRequest{
		Model:  "anthropic.claude-3-5-sonnet-20240620-v1:0",
		System: "You are Atrium's helper.",
		Messages: []agents.ModelMessage{
			{Role: agents.RoleUser, Content: "What is the weather"},
			{Role: agents.RoleUser, Content: "in Paris and Oslo?"},
			{Role: agents.RoleSystem, Content: "Use metric units."},
			{Role: agents.RoleAssistant, Content: "Let me look.", ToolCalls: []agents.ToolCall{
				{ID: "t1", Name: "weather", Arguments: `{"city":"Paris","days":12345678901234567890}`},
				{ID: "t2", Name: "weather", Arguments: `{"city":`}, // the model's broken JSON
			}},
			{Role: agents.RoleTool, ToolCallID: "t1", ToolName: "weather", Content: "18°C, sunny"},
			{Role: agents.RoleTool, ToolCallID: "t2", ToolName: "weather", Content: "arguments are not valid JSON", IsError: true},
			{Role: agents.RoleUser, Content: "Thanks! And tomorrow?"},
			{Role: agents.RoleAssistant, Content: "   "}, // blank: dropped
			{Role: agents.RoleUser, Content: "Please."},
		},
		Tools: []agents.ToolSpec{
			{Name: "weather", Description: "Forecast for a city.", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","maximum":12345678901234567890}},"required":["city"]}`)},
			{Name: "now"},
		},
		ToolChoice:  "required",
		Temperature: &temp,
		TopP:        &topP,
		MaxTokens:   512,
		Stop:        []string{"END"},
	}
}

func TestRequestGolden(t *testing.T) {
	t.Parallel()
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	if _, err := f.provider(bedrock.Config{}).Stream(context.Background(), conversation(), (&recorder{}).emit); err != nil {
		t.Fatal(err)
	}
	r := f.request(t)
	if r.Model != "anthropic.claude-3-5-sonnet-20240620-v1:0" {
		t.Errorf("model in path = %q", r.Model)
	}
	golden(t, "request.json", r.Raw)
}

func TestToolChoiceNoneSendsToolHistoryAsText(t *testing.T) {
	t.Parallel()
	// Bedrock rejects toolUse and toolResult blocks without a toolConfig,
	// and Converse has no "none" choice: the history becomes text.
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	req := conversation()
	req.ToolChoice = "none"
	if _, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, (&recorder{}).emit); err != nil {
		t.Fatal(err)
	}
	r := f.request(t)
	if _, ok := r.Body["toolConfig"]; ok {
		t.Errorf("toolConfig sent with tool choice none")
	}
	if bytes.Contains(r.Raw, []byte(`"toolUse"`)) || bytes.Contains(r.Raw, []byte(`"toolResult"`)) {
		t.Errorf("tool blocks sent without a toolConfig: %s", r.Raw)
	}
	for _, want := range []string{
		`(called the tool weather with {\"city\":\"Paris\",\"days\":12345678901234567890})`,
		`(the tool weather returned: 18°C, sunny)`,
		`(the tool weather failed: arguments are not valid JSON)`,
	} {
		if !bytes.Contains(r.Raw, []byte(want)) {
			t.Errorf("body lacks %s:\n%s", want, r.Raw)
		}
	}
	assertAlternates(t, r.Body)
}

func TestToolChoiceAutoIsBedrocksDefault(t *testing.T) {
	t.Parallel()
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	req := conversation()
	req.ToolChoice = "auto"
	if _, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, (&recorder{}).emit); err != nil {
		t.Fatal(err)
	}
	tc := path(t, f.request(t).Body, "toolConfig").(map[string]any)
	if _, ok := tc["toolChoice"]; ok {
		t.Errorf("toolChoice sent for auto: %v", tc)
	}
	if n := len(tc["tools"].([]any)); n != 2 {
		t.Errorf("%d tools sent, want 2", n)
	}
}

func TestInvalidToolSchemaIsNotSent(t *testing.T) {
	t.Parallel()
	f := newFake(t, script(messageStart(), messageStop("end_turn")))
	req := hello()
	req.Tools = []agents.ToolSpec{{Name: "broken", Parameters: []byte(`{"type":`)}}
	_, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, (&recorder{}).emit)
	if err == nil || !strings.Contains(err.Error(), `tool "broken"`) {
		t.Fatalf("err = %v, want an error naming the tool", err)
	}
	if n := f.requests(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func FuzzToolArguments(f *testing.F) {
	for _, s := range []string{`{"a":1}`, ``, `null`, `[1,2]`, `"s"`, `{"a":`, `{} {}`, `{"n":1e400}`, `{"😀":"\u0000"}`} {
		f.Add(s)
	}
	fake := newFake(f, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	p := fake.provider(bedrock.Config{})
	f.Fuzz(func(t *testing.T, args string) {
		req := hello()
		req.Tools = []agents.ToolSpec{{Name: "x"}}
		req.Messages = append(req.Messages,
			agents.ModelMessage{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{{ID: "c", Name: "x", Arguments: args}}},
			agents.ModelMessage{Role: agents.RoleTool, ToolCallID: "c", ToolName: "x", Content: "done"},
		)
		if _, err := p.Stream(context.Background(), req, (&recorder{}).emit); err != nil {
			t.Fatal(err)
		}
		r := <-fake.reqs
		// Whatever the model wrote, Bedrock must get an object.
		if _, ok := path(t, r.Body, "messages", 1, "content", 0, "toolUse", "input").(map[string]any); !ok {
			t.Fatalf("input for %q is not an object: %s", args, r.Raw)
		}
	})
}

// assertAlternates checks the roles Bedrock requires: user first, then
// alternating.
func assertAlternates(t *testing.T, body map[string]any) {
	t.Helper()
	want := "user"
	for i, m := range body["messages"].([]any) {
		if role := m.(map[string]any)["role"]; role != want {
			t.Errorf("message %d role = %v, want %s", i, role, want)
		}
		want = map[string]string{"user": "assistant", "assistant": "user"}[want]
	}
}

// golden compares JSON with testdata/name, indented with sorted keys so
// the SDK's key order does not matter; -update rewrites it.
func golden(t *testing.T, name string, raw []byte) {
	t.Helper()
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, raw)
	}
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", file, got)
	}
}
