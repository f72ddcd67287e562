package agents_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

// shelf is a Knowledge with one passage; version is its index's version.
type shelf struct {
	mu       sync.Mutex
	version  string
	searched []string // the questions, with topK and threshold
}

func (s *shelf) Version(context.Context, agents.ID) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, nil
}

func (s *shelf) Search(_ context.Context, _ agents.ID, q string, topK int, threshold float64) ([]agents.Passage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searched = append(s.searched, q)
	if topK != 3 || threshold != 0.4 {
		return nil, nil
	}
	return []agents.Passage{{Title: "Refunds", Text: "Refunds are paid within 14 days.", Score: 0.9}}, nil
}

// TestRAGAddsPassagesToTheSystemPrompt checks that an agent with use_rag
// gets the passages found for the question in its system prompt (with its
// rag_top_k and rag_threshold), one without does not, and a cached answer
// is not reused once the index changes.
func TestRAGAddsPassagesToTheSystemPrompt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := &toolModel{}
	k := &shelf{version: "1/words"}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Knowledge: k, Hot: &memHot{}}, "m",
		`{"system_prompt": "Be brief.", "use_rag": true, "rag_top_k": 3, "rag_threshold": 0.4}`)
	ask := func() agents.ModelRequest {
		t.Helper()
		e.newChat(t)
		if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "when are refunds paid?", ""); err != nil {
			t.Fatal(err)
		}
		e.until(t, agents.EventRunCompleted)
		reqs := model.requests()
		return reqs[len(reqs)-1]
	}
	req := ask()
	if !strings.HasPrefix(req.System, "Be brief.\n\n") || !strings.Contains(req.System, "[1] Refunds\nRefunds are paid within 14 days.") {
		t.Fatalf("system prompt = %q", req.System)
	}
	if len(k.searched) != 1 || k.searched[0] != "when are refunds paid?" {
		t.Fatalf("searched %q", k.searched)
	}
	// The same question in a new conversation: from the cache, while the
	// index stays the same; asked again once it changes.
	ask()
	if n := len(model.requests()); n != 1 {
		t.Fatalf("the model ran %d times; the second answer should come from the cache", n)
	}
	k.mu.Lock()
	k.version = "2/words"
	k.mu.Unlock()
	ask()
	if n := len(model.requests()); n != 2 {
		t.Fatalf("the model ran %d times; a new index must not answer from the cache", n)
	}
}

// TestNoRAGWithoutUseRAG checks an agent without use_rag is not searched.
func TestNoRAGWithoutUseRAG(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := &toolModel{}
	k := &shelf{version: "1/words"}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Knowledge: k}, "m", `{"system_prompt": "Be brief."}`)
	if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "when are refunds paid?", ""); err != nil {
		t.Fatal(err)
	}
	e.until(t, agents.EventRunCompleted)
	if req := model.requests()[0]; req.System != "Be brief." || len(k.searched) != 0 {
		t.Fatalf("system prompt %q, searched %q", req.System, k.searched)
	}
}
