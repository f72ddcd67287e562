package script_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/script"
)

// fakeModel is a Querier that records what it was asked.
type fakeModel struct {
	mu    sync.Mutex // guards calls; Run calls from one goroutine, but tests read after
	calls []call
	// answer, if set, answers instead of the default "answer N from MODEL".
	answer func(ctx context.Context, model string, conv []script.Message) (string, error)
}

type call struct {
	model string
	conv  []script.Message
}

func (f *fakeModel) query(ctx context.Context, model string, conv []script.Message) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{model: model, conv: slices.Clone(conv)})
	n := len(f.calls)
	f.mu.Unlock()
	if f.answer != nil {
		return f.answer(ctx, model, conv)
	}
	return fmt.Sprintf("answer %d from %s", n, model), nil
}

func (f *fakeModel) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func user(s string) script.Message      { return script.Message{Role: "user", Content: s} }
func assistant(s string) script.Message { return script.Message{Role: "assistant", Content: s} }

// The seed's two examples, as a user would type them.
const (
	chainOfThought = `initial_response = query("gpt-4o", conversation)
follow_up = add("user", f"Explain your reasoning for that", conversation)
final_response = query("gpt-4", conversation)
`
	modelSwitching = `if len(conversation) > 10:
    response = query("gemini-1.5-flash-latest", conversation) # Use a faster, less expensive model for large conversations
else:
    response = query("gpt-4", conversation) # More powerful model
`
)

func TestSeedChainOfThought(t *testing.T) {
	t.Parallel()
	m := &fakeModel{}
	start := []script.Message{{Role: "system", Content: "Be brief."}, user("What is 17*3?")}
	res, err := script.Run(context.Background(), chainOfThought, start, m.query, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	calls := m.recorded()
	if len(calls) != 2 {
		t.Fatalf("got %d queries, want 2", len(calls))
	}
	if calls[0].model != "gpt-4o" || !slices.Equal(calls[0].conv, start) {
		t.Errorf("first query = %q %v, want gpt-4o %v", calls[0].model, calls[0].conv, start)
	}
	second := append(slices.Clone(start), assistant("answer 1 from gpt-4o"), user("Explain your reasoning for that"))
	if calls[1].model != "gpt-4" || !slices.Equal(calls[1].conv, second) {
		t.Errorf("second query = %q %v, want gpt-4 %v", calls[1].model, calls[1].conv, second)
	}
	if res.Answer != "answer 2 from gpt-4" {
		t.Errorf("Answer = %q", res.Answer)
	}
	final := append(second, assistant("answer 2 from gpt-4"))
	if !slices.Equal(res.Conversation, final) {
		t.Errorf("Conversation = %v, want %v", res.Conversation, final)
	}
	if res.Queries != 2 || res.Steps == 0 {
		t.Errorf("Queries = %d, Steps = %d", res.Queries, res.Steps)
	}
}

func TestSeedModelSwitching(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		messages int
		model    string
	}{
		{1, "gpt-4"},
		{10, "gpt-4"},
		{11, "gemini-1.5-flash-latest"},
	} {
		t.Run(fmt.Sprint(tt.messages), func(t *testing.T) {
			t.Parallel()
			var conv []script.Message
			for i := range tt.messages {
				conv = append(conv, user(fmt.Sprint("message ", i)))
			}
			m := &fakeModel{}
			res, err := script.Run(context.Background(), modelSwitching, conv, m.query, script.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			calls := m.recorded()
			if len(calls) != 1 || calls[0].model != tt.model {
				t.Fatalf("queries = %v, want one to %s", calls, tt.model)
			}
			if want := "answer 1 from " + tt.model; res.Answer != want {
				t.Errorf("Answer = %q, want %q", res.Answer, want)
			}
			if len(res.Conversation) != tt.messages+1 {
				t.Errorf("Conversation has %d messages, want %d", len(res.Conversation), tt.messages+1)
			}
		})
	}
}

func TestHelloWorld(t *testing.T) {
	t.Parallel()
	start := []script.Message{user("hi")}
	res, err := script.Run(context.Background(), "print('Hello World')", start, nil, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Output != "Hello World\n" {
		t.Errorf("Output = %q", res.Output)
	}
	if res.Answer != "" || res.Queries != 0 {
		t.Errorf("Answer = %q, Queries = %d; want none", res.Answer, res.Queries)
	}
	if !slices.Equal(res.Conversation, start) {
		t.Errorf("Conversation = %v, want %v", res.Conversation, start)
	}
}

func TestRunDoesNotChangeCallersConversation(t *testing.T) {
	t.Parallel()
	start := []script.Message{user("hi")}
	_, err := script.Run(context.Background(), `conversation[0]["content"] = "changed"
add("user", "more", conversation)`, start, nil, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(start) != 1 || start[0].Content != "hi" {
		t.Errorf("caller's conversation became %v", start)
	}
}

func TestAdd(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), `c = add("system", "Be brief.", conversation)
add("assistant", "ok", c)
add(role="user", content="again", conversation=conversation)
print(len(c), c == conversation)`, []script.Message{user("hi")}, nil, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []script.Message{user("hi"), {Role: "system", Content: "Be brief."}, assistant("ok"), user("again")}
	if !slices.Equal(res.Conversation, want) {
		t.Errorf("Conversation = %v, want %v", res.Conversation, want)
	}
	if res.Output != "4 True\n" {
		t.Errorf("Output = %q; add should return the conversation itself", res.Output)
	}
}

func TestAttach(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src, want string
	}{
		{"default end", `attach("Answer in French.", conversation)`, "What is X?\nAnswer in French."},
		{"end", `attach("B", conversation, location="end")`, "What is X?\nB"},
		{"start", `attach("Context: X is 1.", conversation, location="start")`, "Context: X is 1.\nWhat is X?"},
		{"beginning", `attach("A", conversation, "beginning")`, "A\nWhat is X?"},
		{"empty content", `attach("", conversation)`, "What is X?"},
		{"returns conversation", `attach("C", attach("B", conversation))`, "What is X?\nB\nC"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := []script.Message{{Role: "system", Content: "sys"}, user("What is X?")}
			res, err := script.Run(context.Background(), tt.src, start, nil, script.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			want := []script.Message{{Role: "system", Content: "sys"}, user(tt.want)}
			if !slices.Equal(res.Conversation, want) {
				t.Errorf("Conversation = %q, want %q", res.Conversation, want)
			}
		})
	}
}

func TestAttachToEmptyMessage(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), `attach("x", conversation)`, []script.Message{user("")}, nil, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Conversation[0].Content; got != "x" {
		t.Errorf("content = %q, want %q (no separator before nothing)", got, "x")
	}
}

func TestBuiltinErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		conv      []script.Message
		line      int
		msg       string
	}{
		{"add bad role", "x = 1\nadd(\"bot\", \"hi\", conversation)", nil, 2, `add: role must be "user", "assistant" or "system", not "bot"`},
		{"add content not a string", `add("user", 42, conversation)`, nil, 1, "add: for parameter content: got int, want string"},
		{"add conversation not a list", `add("user", "x", "conv")`, nil, 1, "want list"},
		{"attach bad location", `attach("x", conversation, location="middle")`, []script.Message{user("hi")}, 1, `location must be "start" or "end", not "middle"`},
		{"attach empty conversation", `attach("x", conversation)`, nil, 1, "attach: the conversation is empty"},
		{"query empty model", `query("", conversation)`, nil, 1, "query: model_name is empty"},
		{"query bad message", "conversation.append({\"role\": \"bot\", \"content\": \"x\"})\nquery(\"gpt-4\", conversation)", nil, 2, `query: conversation[0]: role must be`},
		{"query message without content", "conversation.append({\"role\": \"user\"})\nquery(\"gpt-4\", conversation)", nil, 2, `conversation[0]: the message has no "content"`},
		{"query message not a dict", "conversation.append(\"hi\")\nquery(\"gpt-4\", conversation)", nil, 2, "a message must be a dict"},
		{"conversation rebound to junk", `conversation = 5`, nil, 0, "at the end of the script, conversation must be a list of messages, not int"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &fakeModel{}
			_, err := script.Run(context.Background(), tt.src, tt.conv, m.query, script.Limits{})
			var e *script.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("err = line %d %q, want line %d containing %q", e.Line, e.Msg, tt.line, tt.msg)
			}
			if len(m.recorded()) != 0 {
				t.Errorf("the model was asked despite the error")
			}
		})
	}
}

func TestConversationRebound(t *testing.T) {
	t.Parallel()
	m := &fakeModel{}
	res, err := script.Run(context.Background(), `conversation = [{"role": "user", "content": "fresh"}]
query("gpt-4", conversation)`, []script.Message{user("old")}, m.query, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := []script.Message{user("fresh"), assistant("answer 1 from gpt-4")}
	if !slices.Equal(res.Conversation, want) {
		t.Errorf("Conversation = %v, want %v", res.Conversation, want)
	}
}

func TestQueryFails(t *testing.T) {
	t.Parallel()
	boom := errors.New("model unavailable")
	m := &fakeModel{answer: func(context.Context, string, []script.Message) (string, error) { return "", boom }}
	res, err := script.Run(context.Background(), "print('before')\nquery('gpt-4', conversation)\nprint('after')", nil, m.query, script.Limits{})
	var e *script.Error
	if !errors.As(err, &e) || e.Line != 2 {
		t.Fatalf("err = %v, want an *Error on line 2", err)
	}
	if !errors.Is(err, boom) {
		t.Errorf("err = %v does not wrap the Querier's error", err)
	}
	if want := `query("gpt-4") failed: model unavailable`; e.Msg != want {
		t.Errorf("Msg = %q, want %q", e.Msg, want)
	}
	if res.Output != "before\n" || res.Queries != 1 {
		t.Errorf("Result = %+v, want the output and query so far", res)
	}
}

func TestNoQuerier(t *testing.T) {
	t.Parallel()
	_, err := script.Run(context.Background(), `query("gpt-4", conversation)`, nil, nil, script.Limits{})
	if err == nil || !strings.Contains(err.Error(), "no models are available") {
		t.Errorf("err = %v", err)
	}
}

func TestMaxQueries(t *testing.T) {
	t.Parallel()
	m := &fakeModel{}
	res, err := script.Run(context.Background(), `for i in range(5):
    query("gpt-4", conversation)`, nil, m.query, script.Limits{MaxQueries: 3})
	if !errors.Is(err, script.ErrLimit) || !strings.Contains(err.Error(), "at most 3 queries") {
		t.Fatalf("err = %v, want the query limit", err)
	}
	if len(m.recorded()) != 3 || res.Queries != 3 {
		t.Errorf("made %d queries (Result says %d), want 3", len(m.recorded()), res.Queries)
	}
	if res.Answer != "answer 3 from gpt-4" {
		t.Errorf("Answer = %q, want the last one before the limit", res.Answer)
	}
}

func TestConversationLimits(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, src string
		conv      []script.Message
		limits    script.Limits
		msg       string
	}{
		{"too many messages at start", "", []script.Message{user("a"), user("b")}, script.Limits{MaxMessages: 1}, "2 messages, more than the limit of 1"},
		{"too much content at start", "", []script.Message{user("abcdef")}, script.Limits{MaxContentBytes: 5}, "more than the limit of 5 bytes of content"},
		{"add past messages", `add("user", "b", conversation)`, []script.Message{user("a")}, script.Limits{MaxMessages: 1}, "more than the limit of 1 messages"},
		{"add past content", `add("user", "bcdef", conversation)`, []script.Message{user("a")}, script.Limits{MaxContentBytes: 5}, "more than the limit of 5 bytes"},
		{"attach past content", `attach("bcdef", conversation)`, []script.Message{user("a")}, script.Limits{MaxContentBytes: 5}, "more than the limit of 5 bytes"},
		{"answer past content", `query("m", conversation)`, []script.Message{user("a")}, script.Limits{MaxContentBytes: 5}, "more than the limit of 5 bytes"},
		{"appended directly", "for i in range(3):\n    conversation.append({'role': 'user', 'content': 'x'})", nil, script.Limits{MaxMessages: 2}, "3 messages, more than the limit of 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := &fakeModel{}
			_, err := script.Run(context.Background(), tt.src, tt.conv, m.query, tt.limits)
			if !errors.Is(err, script.ErrLimit) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want a limit error containing %q", err, tt.msg)
			}
		})
	}
}

func TestStepLimit(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), "x = 0\nwhile True:\n    x += 1", nil, nil, script.Limits{MaxSteps: 1000})
	var e *script.Error
	if !errors.As(err, &e) || e.Msg != "exceeded 1000 steps" || !errors.Is(err, script.ErrLimit) {
		t.Fatalf("err = %v, want exceeded 1000 steps", err)
	}
	if e.Line < 2 || e.Line > 3 {
		t.Errorf("Line = %d, want the loop's", e.Line)
	}
	if res.Steps < 1000 || res.Steps > 1001 {
		t.Errorf("Steps = %d, want 1000", res.Steps)
	}
}

func TestTimeoutStopsBlockedQuery(t *testing.T) {
	t.Parallel()
	m := &fakeModel{answer: func(ctx context.Context, _ string, _ []script.Message) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}}
	start := time.Now()
	_, err := script.Run(context.Background(), "x = 1\nquery('slow', conversation)", nil, m.query, script.Limits{Timeout: 50 * time.Millisecond})
	var e *script.Error
	if !errors.As(err, &e) || e.Msg != "timed out after 50ms" || e.Line != 2 {
		t.Fatalf("err = %v, want a timeout on line 2", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v is not context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestTimeoutStopsLoop(t *testing.T) {
	t.Parallel()
	_, err := script.Run(context.Background(), "while True:\n    pass", nil, nil,
		script.Limits{Timeout: 50 * time.Millisecond, MaxSteps: 1 << 62})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	m := &fakeModel{answer: func(ctx context.Context, _ string, _ []script.Message) (string, error) {
		cancel() // the caller gives up while the model is answering
		<-ctx.Done()
		return "", ctx.Err()
	}}
	_, err := script.Run(ctx, "query('m', conversation)\nwhile True:\n    pass", nil, m.query, script.Limits{MaxSteps: 1 << 62})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("err = %v, want a cancellation", err)
	}
}

func TestCancelledBeforeStart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := &fakeModel{}
	_, err := script.Run(ctx, "query('m', conversation)", nil, m.query, script.Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a cancellation", err)
	}
	if len(m.recorded()) != 0 {
		t.Error("the model was asked")
	}
}

func TestPrint(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), `print("a", 1, [2], sep="-")
print()
print(conversation[0]["content"])`, []script.Message{user("hi")}, nil, script.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a-1-[2]\n\nhi\n"; res.Output != want {
		t.Errorf("Output = %q, want %q", res.Output, want)
	}
}

func TestPrintCap(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), `for i in range(1000):
    print("line", i)
print("still running")
x = 1`, nil, nil, script.Limits{MaxOutputBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	kept, note, ok := strings.Cut(res.Output, "\n[output cut at 100 bytes]\n")
	if !ok || note != "" {
		t.Fatalf("Output = %q, want 100 bytes and a note", res.Output)
	}
	if len(kept) > 100 || !strings.HasPrefix(kept, "line 0\nline 1\n") {
		t.Errorf("kept %d bytes: %q", len(kept), kept)
	}
}

func TestPrintCapKeepsUTF8(t *testing.T) {
	t.Parallel()
	res, err := script.Run(context.Background(), `print("ééééé")`, nil, nil, script.Limits{MaxOutputBytes: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Output, "éé\n[output cut") {
		t.Errorf("Output = %q", res.Output)
	}
}
