package agents

import (
	"context"
	"fmt"
	"strings"
)

// Passage is a piece of an agent's training data found for a query.
type Passage struct {
	// Title names the training document it comes from.
	Title string
	Text  string
	// Score is its similarity to the query, up to 1.
	Score float64
}

// Knowledge is the agents' training data, indexed for retrieval (RAG: the
// use_rag setting, and seed 003's File Search tools).
type Knowledge interface {
	// Search returns at most topK passages of agent's index whose
	// similarity to query is at least threshold, best first; none when
	// the agent has no index. A negative threshold is the embedder's
	// default (Config.SearchThreshold).
	Search(ctx context.Context, agent ID, query string, topK int, threshold float64) ([]Passage, error)
	// Version names the agent's current index ("" without one); a cached
	// answer is reused only while it stays the same.
	Version(ctx context.Context, agent ID) (string, error)
}

// maxKnowledgeBytes bounds the retrieved text added to a system prompt.
const maxKnowledgeBytes = 32 << 10

// withKnowledge adds passages to the system prompt: seed 000's agent loop
// "retrieves relevant context via RAG" before asking the model.
func withKnowledge(system string, passages []Passage) string {
	if len(passages) == 0 {
		return system
	}
	var b strings.Builder
	b.WriteString(system)
	if system != "" {
		b.WriteString("\n\n")
	}
	b.WriteString("Relevant passages from your training data (use them when they help answer; say so when they do not cover the question):")
	for i, p := range passages {
		entry := fmt.Sprintf("\n\n[%d] %s\n%s", i+1, p.Title, p.Text)
		if b.Len()+len(entry) > len(system)+maxKnowledgeBytes {
			break
		}
		b.WriteString(entry)
	}
	return b.String()
}
