package text

import (
	"fmt"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
)

func TestAnswerFromContext(t *testing.T) {
	t.Parallel()
	m := canned(" Bob signed it on 3 May. ")
	out := mustRun(t, NewQuestionAnswering(), input(t, map[string]any{
		"question": "Who signed the contract?", "context": "The contract was signed by Bob on 3 May.",
	}, m))
	if want := "Answer from the given context:\n\nBob signed it on 3 May."; out.Content != want {
		t.Errorf("content = %q, want %q", out.Content, want)
	}
	c := m.seen()[0]
	contains(t, c.system, "only the context", "does not contain the answer", "do not guess")
	contains(t, c.prompt, "The contract was signed by Bob on 3 May.", "Question: Who signed the contract?")
}

func TestAnswerFromConversation(t *testing.T) {
	t.Parallel()
	m := canned("The context does not say.")
	in := input(t, `{"question": "What is the capital?"}`, m)
	in.Conversation = []agents.ModelMessage{
		{Role: agents.RoleSystem, Content: "secret system prompt"},
		{Role: agents.RoleUser, Content: "Fetch example.com"},
		{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{{ID: "1", Name: "url_resolver"}}},
		{Role: agents.RoleTool, ToolName: "url_resolver", Content: "Example Domain page"},
		{Role: agents.RoleAssistant, Content: "It is the example page."},
	}
	out := mustRun(t, NewQuestionAnswering(), in)
	contains(t, out.Content, "Answer from the conversation's recent messages:\n\nThe context does not say.")
	p := m.seen()[0].prompt
	contains(t, p, "User: Fetch example.com\n\nTool result (url_resolver): Example Domain page\n\nAssistant: It is the example page.")
	lacks(t, p, "secret system prompt")
}

func TestConversationIsCapped(t *testing.T) {
	t.Parallel()
	var msgs []agents.ModelMessage
	for i := range 100 {
		msgs = append(msgs, agents.ModelMessage{Role: agents.RoleUser, Content: fmt.Sprintf("message %d", i)})
	}
	msgs = append(msgs, agents.ModelMessage{Role: agents.RoleAssistant, Content: strings.Repeat("long ", 5000)})
	got := transcript(msgs)
	contains(t, got, "User: message 99\n\nAssistant: long long", " [cut]")
	lacks(t, got, "message 70\n")
	if n := strings.Count(got, "User: "); n != maxQAMessages-1 {
		t.Errorf("%d user messages, want %d", n, maxQAMessages-1)
	}

	huge := []agents.ModelMessage{}
	for range 20 {
		huge = append(huge, agents.ModelMessage{Role: agents.RoleUser, Content: strings.Repeat("x", 10000)})
	}
	if got := transcript(huge); len(got) > maxQAContext+500 {
		t.Errorf("the transcript has %d bytes", len(got))
	}
}

func TestLongContextIsCut(t *testing.T) {
	t.Parallel()
	m := canned("Yes.")
	out := mustRun(t, NewQuestionAnswering(), input(t, map[string]any{
		"question": "Is it there?", "context": strings.Repeat("lorem ipsum ", 10000),
	}, m))
	contains(t, out.Content, "[The context has 119,999 characters; only the first 59,99")
	if n := len(m.seen()[0].prompt); n > maxQAContext+200 {
		t.Errorf("the prompt has %d bytes", n)
	}
}

func TestQuestionBadArguments(t *testing.T) {
	t.Parallel()
	tool := NewQuestionAnswering()
	for args, want := range map[string]string{
		`{}`:                                  "the question argument is required",
		`{"question": " "}`:                   "the question argument is required",
		`{"question": 1}`:                     "the question argument must be a string",
		`{"question": "why?"}`:                "there is no context to answer from",
		`{"question": "why?", "context": ""}`: "there is no context to answer from",
	} {
		_, err := run(t, tool, input(t, args, canned("ok")))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Call(%s) error = %v, want one containing %q", args, err, want)
		}
	}
	_, err := run(t, tool, input(t, map[string]any{"question": strings.Repeat("q", 5000), "context": "c"}, canned("ok")))
	wantError(t, err, "the question is too long")
}
