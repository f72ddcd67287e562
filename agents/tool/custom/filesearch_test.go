package custom_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/tool/custom"
)

// docs is a Knowledge answering every query with its passages.
type docs struct {
	version  string
	passages []agents.Passage
	asked    string
	topK     int
}

func (d *docs) Version(context.Context, agents.ID) (string, error) { return d.version, nil }

func (d *docs) Search(_ context.Context, _ agents.ID, q string, topK int, _ float64) ([]agents.Passage, error) {
	d.asked, d.topK = q, topK
	return d.passages, nil
}

type defs []agents.CustomTool

func (d defs) OfAgent(context.Context, agents.Agent) ([]agents.CustomTool, error) { return d, nil }

func TestFileSearchTool(t *testing.T) {
	ctx := context.Background()
	k := &docs{version: "1/hash-512", passages: []agents.Passage{{Title: "Terms", Text: "Refunds take 14 days.", Score: 0.42}}}
	store := defs{{Name: "Terms Search", Type: agents.ToolTypeFileSearch, Description: "Search the terms"}, {Name: "Other", Type: agents.ToolTypeCustom}}
	agent := agents.Agent{ID: "a1"}
	// Without the agents' documents, File Search tools are not offered.
	if tools, _ := custom.NewSource(store, nil).Tools(ctx, agent); len(tools) != 1 {
		t.Fatalf("%d tools without knowledge, want the HTTP one only", len(tools))
	}
	tools, err := custom.NewSource(store, nil).SearchingWith(k).Tools(ctx, agent)
	if err != nil || len(tools) != 2 {
		t.Fatalf("tools = %d, %v", len(tools), err)
	}
	fs := tools[0]
	spec := fs.Spec()
	var schema struct{ Required []string }
	json.Unmarshal(spec.Parameters, &schema)
	if spec.Description != "Search the terms" || len(schema.Required) != 1 || schema.Required[0] != "query" {
		t.Fatalf("spec = %+v", spec)
	}
	out, err := fs.Call(ctx, agents.ToolInput{Agent: agent, Arguments: json.RawMessage(`{"query":"refund time"}`), Query: "the user's message"})
	if err != nil || !strings.Contains(out.Content, "[1] Terms (similarity 0.42)\nRefunds take 14 days.") || k.asked != "refund time" || k.topK != 5 {
		t.Fatalf("call = %q, %v (asked %q, top %d)", out.Content, err, k.asked, k.topK)
	}
	// No query: the message being answered.
	if _, err := fs.Call(ctx, agents.ToolInput{Agent: agent, Arguments: json.RawMessage(`{}`), Query: "the user's message"}); err != nil || k.asked != "the user's message" {
		t.Fatalf("no query: asked %q, %v", k.asked, err)
	}
	k.passages = nil
	if out, err := fs.Call(ctx, agents.ToolInput{Agent: agent, Arguments: json.RawMessage(`{"query":"x"}`)}); err != nil || !strings.HasPrefix(out.Content, "No passage") {
		t.Fatalf("nothing found = %q, %v", out.Content, err)
	}
	k.version = ""
	if _, err := fs.Call(ctx, agents.ToolInput{Agent: agent, Arguments: json.RawMessage(`{"query":"x"}`)}); err == nil || !strings.Contains(err.Error(), "index_rag") {
		t.Fatalf("not indexed: %v", err)
	}
	if _, err := fs.Call(ctx, agents.ToolInput{Agent: agent, Arguments: json.RawMessage(`[1]`)}); err == nil {
		t.Fatal("bad arguments: no error")
	}
}
