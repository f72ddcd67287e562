package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
)

// TestBuiltInToolsAreSeed000s checks the wiring: seed 000's sixteen tools,
// each with a description and the parameters issue 6 names.
func TestBuiltInToolsAreSeed000s(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig("serve", nil, []string{"ATRIUM_DATA_DIR=" + t.TempDir()}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	src, err := buildTools(context.Background(), toolDeps{cfg: cfg, logger: slog.New(slog.DiscardHandler), web: safehttp.New(safehttp.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	tools, err := src.(agents.ToolSources)[0].Tools(context.Background(), agents.Agent{})
	if err != nil {
		t.Fatal(err)
	}
	params := map[string][]string{}
	for _, tl := range tools {
		spec := tl.Spec()
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(spec.Parameters, &schema); err != nil || schema.Type != "object" || spec.Description == "" {
			t.Errorf("%s: schema %s, description %q", spec.Name, spec.Parameters, spec.Description)
		}
		for p := range schema.Properties {
			params[spec.Name] = append(params[spec.Name], p)
		}
	}
	seed := []string{"read_file", "write_file", "web_search", "url_resolver", "code_executor", "transcription", "text_to_image",
		"text_to_video", "image_to_video", "text_to_speech", "combine_video_audio", "svg_diagram", "ocr", "summarization",
		"question_answering", "translation"}
	if len(tools) != len(seed) {
		t.Errorf("%d built-in tools, want %d", len(tools), len(seed))
	}
	for _, name := range seed {
		if _, ok := params[name]; !ok {
			t.Errorf("no built-in tool %s", name)
		}
	}
	for name, want := range map[string][]string{
		"read_file": {"path"}, "write_file": {"path", "content"}, "code_executor": {"code"}, "url_resolver": {"url"},
		"web_search": {"query"}, "text_to_image": {"text_prompt"}, "text_to_speech": {"text"}, "translation": {"text", "target_language"},
	} {
		for _, p := range want {
			if !slices.Contains(params[name], p) {
				t.Errorf("%s has parameters %v, want %s among them", name, params[name], p)
			}
		}
	}
}
