package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb"
)

// toolModel calls its tool until it has seen rounds tool results (forever
// when rounds < 0, as long as it is offered tools), then answers with the
// last result. It records what it was asked.
type toolModel struct {
	tool   string
	args   string
	rounds int

	mu   sync.Mutex
	reqs []agents.ModelRequest
}

func (m *toolModel) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	results, last := 0, ""
	for _, msg := range req.Messages {
		if msg.Role == agents.RoleTool {
			results++
			last = msg.Content
		}
	}
	if len(req.Tools) > 0 && (m.rounds < 0 || results < m.rounds) {
		var text string
		if results == 0 {
			text = "Let me check."
			if err := emit(agents.Delta{Text: text}); err != nil {
				return agents.ModelResponse{}, err
			}
		}
		call := agents.ToolCall{ID: fmt.Sprintf("call_%d", results), Name: m.tool, Arguments: m.args}
		half := len(call.Arguments) / 2
		emit(agents.Delta{ToolCall: &agents.ToolCallDelta{ID: call.ID, Name: call.Name, Arguments: call.Arguments[:half]}})
		emit(agents.Delta{ToolCall: &agents.ToolCallDelta{Arguments: call.Arguments[half:]}})
		return agents.ModelResponse{Text: text, ToolCalls: []agents.ToolCall{call}, FinishReason: agents.FinishToolCalls,
			Usage: agents.Usage{InputTokens: 10, OutputTokens: 5}}, nil
	}
	text := "Result: " + last
	if err := emit(agents.Delta{Text: text}); err != nil {
		return agents.ModelResponse{}, err
	}
	return agents.ModelResponse{Text: text, FinishReason: agents.FinishStop, Usage: agents.Usage{InputTokens: 20, OutputTokens: 7}}, nil
}

func (m *toolModel) requests() []agents.ModelRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]agents.ModelRequest(nil), m.reqs...)
}

// funcTool is a tool made of a function.
type funcTool struct {
	name string
	fn   func(context.Context, agents.ToolInput) (agents.ToolOutput, error)
}

func (f funcTool) Spec() agents.ToolSpec {
	return agents.ToolSpec{Name: f.name, Description: "test tool " + f.name, Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}}}`)}
}

func (f funcTool) Call(ctx context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	return f.fn(ctx, in)
}

// memHot is an in-memory agents.HotStore.
type memHot struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (h *memHot) Get(k []byte) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	v, ok := h.m[string(k)]
	if !ok {
		return nil, errors.New("not found")
	}
	return v, nil
}

func (h *memHot) Set(k, v []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string][]byte{}
	}
	h.m[string(k)] = append([]byte(nil), v...)
	return nil
}

func lookupTool(seen chan<- agents.ToolInput) funcTool {
	return funcTool{name: "lookup", fn: func(_ context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
		if seen != nil {
			seen <- in
		}
		var a struct{ Q string }
		json.Unmarshal(in.Arguments, &a)
		return agents.ToolOutput{Content: "found " + a.Q + " ✅"}, nil
	}}
}

func TestLoopCallsToolsAndStreamsTheirEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := &toolModel{tool: "lookup", args: `{"q":"order 🚚 42"}`, rounds: 1}
	seen := make(chan agents.ToolInput, 1)
	never := funcTool{name: "never", fn: func(context.Context, agents.ToolInput) (agents.ToolOutput, error) { return agents.ToolOutput{}, nil }}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Tools: agents.StaticTools{lookupTool(seen), never}},
		"m", `{"system_prompt":"Be exact.","disabled_tools":["never"]}`)
	if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "where is my order?", ""); err != nil {
		t.Fatal(err)
	}
	got := e.until(t, agents.EventRunCompleted)
	var types []string
	for _, env := range got {
		types = append(types, string(env.Type))
	}
	want := "message.created run.started run.delta tool.call tool.result run.delta run.completed"
	if strings.Join(types, " ") != want {
		t.Fatalf("events: %v\nwant: %s", types, want)
	}
	var call struct {
		CallID    string `json:"call_id"`
		Name      string
		Arguments map[string]string
		Iteration int
	}
	json.Unmarshal(got[3].Data, &call)
	if call.Name != "lookup" || call.Arguments["q"] != "order 🚚 42" || call.CallID != "call_0" || call.Iteration != 1 {
		t.Fatalf("tool.call = %s", got[3].Data)
	}
	var result struct {
		Name, Result, Error string
	}
	json.Unmarshal(got[4].Data, &result)
	if result.Name != "lookup" || result.Result != "found order 🚚 42 ✅" || result.Error != "" {
		t.Fatalf("tool.result = %s", got[4].Data)
	}
	var done struct{ Message struct{ Content string } }
	json.Unmarshal(got[6].Data, &done)
	if done.Message.Content != "Let me check.\n\nResult: found order 🚚 42 ✅" {
		t.Fatalf("answer = %q", done.Message.Content)
	}

	// The tool saw the query and the conversation; the model saw the
	// system prompt, and never the disabled tool.
	in := <-seen
	if in.Query != "where is my order?" || len(in.Conversation) < 2 || in.Agent.ID != e.agent.ID || in.ChatID != e.chat {
		t.Fatalf("tool input = %+v", in)
	}
	reqs := model.requests()
	if len(reqs) != 2 || reqs[0].System != "Be exact." || len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Name != "lookup" {
		t.Fatalf("model requests = %+v", reqs)
	}
	last := reqs[1].Messages
	if len(last) != 3 || last[1].Role != agents.RoleAssistant || len(last[1].ToolCalls) != 1 || last[2].Role != agents.RoleTool || last[2].ToolCallID != "call_0" {
		t.Fatalf("second request messages = %+v", last)
	}

	// Recorded: the tool call and the request log.
	var calls []sqldb.ToolCall
	e.db.NewSelect().Model(&calls).Scan(ctx)
	if len(calls) != 1 || calls[0].Name != "lookup" || calls[0].Result != "found order 🚚 42 ✅" || calls[0].Parameters != `{"q":"order 🚚 42"}` {
		t.Fatalf("tool_calls = %+v", calls)
	}
	logs, _, err := e.ag.History(ctx, e.agent, "", 10)
	if err != nil || len(logs) != 1 {
		t.Fatalf("History = %+v, %v", logs, err)
	}
	l := logs[0]
	if l.Prompt != "where is my order?" || l.Response != done.Message.Content || l.Iterations != 2 || l.ToolCalls != 1 ||
		l.Usage.InputTokens != 30 || l.Usage.OutputTokens != 12 || l.Status != agents.RunCompleted || l.Source != "chat" {
		t.Fatalf("log = %+v", l)
	}
}

func TestLoopStopsAfterMaxToolIterations(t *testing.T) {
	t.Parallel()
	model := &toolModel{tool: "lookup", args: `{"q":"again"}`, rounds: -1}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Tools: agents.StaticTools{lookupTool(nil)}}, "m", `{"max_tool_iterations":3}`)
	if _, err := e.conv.Send(context.Background(), e.wsID, e.chat, e.owner.ID, "loop", ""); err != nil {
		t.Fatal(err)
	}
	got := e.until(t, agents.EventRunCompleted)
	n := 0
	for _, env := range got {
		if env.Type == agents.EventToolCall {
			n++
		}
	}
	reqs := model.requests()
	if n != 3 || len(reqs) != 4 || reqs[3].Tools != nil {
		t.Fatalf("%d tool calls, %d model calls; the last offered %d tools", n, len(reqs), len(reqs[len(reqs)-1].Tools))
	}
}

func TestFailingToolsBecomeErrorsTheModelSees(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		tool agents.Tool
		args string
		want string
	}{
		"error": {funcTool{"t", func(context.Context, agents.ToolInput) (agents.ToolOutput, error) {
			return agents.ToolOutput{}, errors.New("quota 🙈")
		}}, `{}`, "quota 🙈"},
		"panic": {funcTool{"t", func(context.Context, agents.ToolInput) (agents.ToolOutput, error) { panic("boom") }}, `{}`, "the tool crashed: boom"},
		"slow":  {funcTool{"t", func(ctx context.Context, _ agents.ToolInput) (agents.ToolOutput, error) { select {} }}, `{}`, "the tool took longer than 200ms"},
		"badjson": {funcTool{"t", func(context.Context, agents.ToolInput) (agents.ToolOutput, error) {
			return agents.ToolOutput{Content: "ran"}, nil
		}}, `{"q":`, "the arguments must be a JSON object"},
		"unknown": {funcTool{"other", func(context.Context, agents.ToolInput) (agents.ToolOutput, error) { return agents.ToolOutput{}, nil }}, `{}`, "there is no tool named t"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			model := &toolModel{tool: "t", args: tc.args, rounds: 1}
			// "unknown": the model calls "t", which is not offered; the
			// model is offered "other" so it still calls tools.
			e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Tools: agents.StaticTools{tc.tool}, ToolTimeout: 200 * time.Millisecond}, "m", "")
			if _, err := e.conv.Send(context.Background(), e.wsID, e.chat, e.owner.ID, "go", ""); err != nil {
				t.Fatal(err)
			}
			got := e.until(t, agents.EventRunCompleted)
			var res struct{ Error string }
			for _, env := range got {
				if env.Type == agents.EventToolResult {
					json.Unmarshal(env.Data, &res)
				}
			}
			if res.Error != tc.want {
				t.Fatalf("tool.result error = %q, want %q", res.Error, tc.want)
			}
			reqs := model.requests()
			if msgs := reqs[len(reqs)-1].Messages; !msgs[len(msgs)-1].IsError || msgs[len(msgs)-1].Content != "Error: "+tc.want {
				t.Fatalf("the model saw %+v", msgs[len(msgs)-1])
			}
		})
	}
}

func TestMemorySettingsShapeTheHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		config string
		want   int
	}{{`{}`, 5}, {`{"max_history_messages":2}`, 3}, {`{"use_memory":false}`, 1}, {`{"max_history_messages":0}`, 1}} {
		model := &toolModel{}
		e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}}, "m", tc.config)
		for i := range 3 {
			if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, fmt.Sprintf("message %d", i), ""); err != nil {
				t.Fatal(err)
			}
			e.until(t, agents.EventRunCompleted)
		}
		reqs := model.requests()
		msgs := reqs[len(reqs)-1].Messages
		if len(msgs) != tc.want || msgs[len(msgs)-1].Content != "message 2" {
			t.Fatalf("%s: the model saw %d messages: %+v", tc.config, len(msgs), msgs)
		}
	}
}

func TestResponseCacheAnswersNewConversationsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := &toolModel{}
	hot := &memHot{}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Hot: hot}, "m", "")
	ask := func(newChat bool) {
		t.Helper()
		if newChat {
			e.newChat(t)
		}
		if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "same question", ""); err != nil {
			t.Fatal(err)
		}
		e.until(t, agents.EventRunCompleted)
	}
	ask(false) // a new conversation: answered and cached
	ask(true)  // another new conversation, same question: from the cache
	if n := len(model.requests()); n != 1 {
		t.Fatalf("the model ran %d times for a cached question", n)
	}
	ask(false) // the same chat again: not new, so not cached
	if n := len(model.requests()); n != 2 {
		t.Fatalf("the model ran %d times; a follow-up must not come from the cache", n)
	}
	logs, _, _ := e.ag.History(ctx, e.agent, "", 10)
	cached := 0
	for _, l := range logs {
		if l.Cached {
			cached++
			if l.Credits != 0 || l.Response == "" {
				t.Fatalf("cached log = %+v", l)
			}
		}
	}
	if cached != 1 {
		t.Fatalf("%d cached logs", cached)
	}
	// A configuration change invalidates the cache.
	if _, err := e.ag.Update(ctx, e.owner.ID, e.agent.ID, agents.AgentUpdate{Config: map[string]json.RawMessage{"system_prompt": json.RawMessage(`"new"`)}}); err != nil {
		t.Fatal(err)
	}
	// The runner keeps loaded agents a while, but the next run sees the
	// change: its claim reads the agent's version.
	ask(true)
	if len(model.requests()) != 3 {
		t.Fatal("a changed agent still answered from the cache")
	}
	if got := model.requests()[2].System; !strings.Contains(got, "new") {
		t.Fatalf("the run after the change had the system prompt %q", got)
	}
}

// TestHotStoreIsACacheNotTheTruth: the runner's hot copy of a conversation
// speeds up loading it, but a stale, foreign or broken copy (another
// runner answered, this one restarted) never changes what the model sees.
func TestHotStoreIsACacheNotTheTruth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	model := &toolModel{}
	hot := &memHot{}
	e := newLiveEnvWith(t, agents.RunnerConfig{Models: models{"m": model}, Hot: hot}, "m", "")
	say := func(text string) {
		t.Helper()
		if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, text, ""); err != nil {
			t.Fatal(err)
		}
		e.until(t, agents.EventRunCompleted)
	}
	say("one 🥇")
	say("two")
	key := "conv/" + string(e.chat)
	if _, err := hot.Get([]byte(key)); err != nil {
		t.Fatal("the runner keeps no hot copy of the conversation")
	}
	for _, stale := range []string{`not json`, `[{"i":"someone-else","r":"user","c":"injected"}]`, `[]`} {
		hot.Set([]byte(key), []byte(stale))
		say("again")
	}
	reqs := model.requests()
	msgs := reqs[len(reqs)-1].Messages
	var got []string
	for _, m := range msgs {
		got = append(got, m.Role+":"+m.Content)
	}
	if len(msgs) != 9 || msgs[0].Content != "one 🥇" || msgs[8].Content != "again" || strings.Contains(strings.Join(got, "|"), "injected") {
		t.Fatalf("the model saw %q", got)
	}
}
