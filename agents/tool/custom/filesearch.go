package custom

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/atrium-hq/atrium/agents"
)

// fileSearchSchema is what a File Search tool takes: what to look for.
var fileSearchSchema = json.RawMessage(`{"type":"object","properties":{"query":{"type":"string","description":"What to look for in the documents: a question or the words to find"}},"required":["query"]}`)

// FileSearch is seed 003's File Search tool: it searches the agent's
// indexed training data (its documents) for passages matching a query, as
// RAG does, with the agent's rag_top_k and rag_threshold.
type FileSearch struct {
	def       agents.CustomTool
	knowledge agents.Knowledge
}

// Spec describes the tool to the model under its model name.
func (t *FileSearch) Spec() agents.ToolSpec {
	desc := t.def.Description
	if desc == "" {
		desc = "Searches the agent's documents"
	}
	return agents.ToolSpec{Name: t.def.ModelName(), Description: desc, Parameters: fileSearchSchema}
}

// Alias is the name its owner gave it, which agent configurations may use.
func (t *FileSearch) Alias() string { return t.def.Name }

// Call searches the agent's index for the query (the message being
// answered when the model gave none).
func (t *FileSearch) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var args struct {
		Query any `json:"query"`
	}
	if len(in.Arguments) > 0 {
		if err := json.Unmarshal(in.Arguments, &args); err != nil {
			return agents.ToolOutput{}, fmt.Errorf("the arguments are not a JSON object with a query: %v", err)
		}
	}
	query, _ := args.Query.(string)
	if strings.TrimSpace(query) == "" {
		query = in.Query
	}
	version, err := t.knowledge.Version(ctx, in.Agent.ID)
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the agent's documents could not be read: %v", err)
	}
	if version == "" {
		return agents.ToolOutput{}, fmt.Errorf("the agent's documents are not indexed yet (its owner must add training data and POST /api/agents/%s/index_rag/)", in.Agent.ID)
	}
	cfg := in.Agent.Settings()
	found, err := t.knowledge.Search(ctx, in.Agent.ID, query, max(cfg.RAGTopK, 1), cfg.SearchThreshold())
	if err != nil {
		return agents.ToolOutput{}, fmt.Errorf("the search failed: %v", err)
	}
	if len(found) == 0 {
		return agents.ToolOutput{Content: "No passage of the documents matches: " + query}, nil
	}
	var b strings.Builder
	for i, p := range found {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "[%d] %s (similarity %.2f)\n%s", i+1, p.Title, p.Score, p.Text)
	}
	return agents.ToolOutput{Content: b.String()}, nil
}
