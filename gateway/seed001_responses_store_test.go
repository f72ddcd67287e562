package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

func TestResponsesStoreBounds(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	msg := func(text string) []agents.ModelMessage {
		return []agents.ModelMessage{{Role: agents.RoleAssistant, Content: text}}
	}
	// Each entry below is about 100 bytes of overhead plus its text.
	big := strings.Repeat("x", 300)
	s := newResponseStore(responseStoreConfig{TTL: time.Hour, MaxBytes: 1800, MaxOwnerBytes: 900, Now: func() time.Time { return now }})
	has := func(owner, id string) bool {
		_, ok := s.get(context.Background(), owner, id)
		return ok
	}

	s.put("a", "a1", msg(big))
	s.put("b", "b1", msg(big))
	if !has("a", "a1") || has("b", "a1") || !has("b", "b1") {
		t.Fatal("an entry is found by its owner only")
	}
	// a's third entry passes a's cap: a's oldest goes, not b's.
	s.put("a", "a2", msg(big))
	s.put("a", "a3", msg(big))
	if has("a", "a1") || !has("a", "a2") || !has("a", "a3") || !has("b", "b1") {
		t.Errorf("after a's cap: a1 %v a2 %v a3 %v b1 %v", has("a", "a1"), has("a", "a2"), has("a", "a3"), has("b", "b1"))
	}
	// More owners pass the total: the oldest entries go, whoever's.
	s.put("c", "c1", msg(big))
	s.put("d", "d1", msg(big))
	if has("b", "b1") || !has("d", "d1") || s.bytes > 1800 {
		t.Errorf("after the total cap: b1 %v d1 %v, %d bytes", has("b", "b1"), has("d", "d1"), s.bytes)
	}
	// Too big for any owner: not kept.
	s.put("e", "e1", msg(strings.Repeat("y", 1000)))
	if has("e", "e1") {
		t.Error("an entry larger than an owner's cap was kept")
	}
	// Expired entries are gone, and leave no owner behind.
	now = now.Add(time.Hour)
	if has("d", "d1") {
		t.Error("an expired entry was found")
	}
	s.put("f", "f1", msg("fresh"))
	if len(s.entries) != 1 || len(s.owners) != 1 || s.order.Len() != 1 {
		t.Errorf("after expiry: %d entries, %d owners, %d in order", len(s.entries), len(s.owners), s.order.Len())
	}
	if got := s.bytes; got != s.owners["f"].bytes || got != s.entries[storeKey{"f", "f1"}].size {
		t.Errorf("bytes = %d, owner's %d", got, s.owners["f"].bytes)
	}
}

// TestResponsesStreamOrder checks the stream of an answer that mixes text
// and interleaved calls, and is cut by max_output_tokens: items in the
// order they start, each call's pieces at its own output_index, and
// response.incomplete at the end. The store gets the answer as one turn.
func TestResponsesStreamOrder(t *testing.T) {
	t.Parallel()
	s := &server{}
	rec := httptest.NewRecorder()
	body := &oaiResponsesRequest{Model: "m"}
	rc := responseCall{store: newResponseStore(responseStoreConfig{}), owner: "o", body: body, base: newResponse(body, "m"),
		req: agents.ModelRequest{Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "q"}}}}
	rs := s.newResponseStream(rec, rc.base)
	for _, d := range []agents.Delta{
		{Text: "Hel"},
		{ToolCall: &agents.ToolCallDelta{Index: 0, ID: "c1", Name: "f", Arguments: `{"a":`}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, Name: "g"}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `1}`}},
		{Text: "lo"},
	} {
		if err := rs.delta(0, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := rs.finish(0, agents.ModelResponse{FinishReason: agents.FinishLength}); err != nil {
		t.Fatal(err)
	}
	rs.close()
	out := rc.finished(rs.answer(), agents.FinishLength, agents.Usage{InputTokens: 1, OutputTokens: 2})
	rs.complete(out)

	type event struct {
		typ  string
		data map[string]any
	}
	var evs []event
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		if typ, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			sc.Scan()
			var data map[string]any
			if err := json.Unmarshal([]byte(strings.TrimPrefix(sc.Text(), "data: ")), &data); err != nil {
				t.Fatalf("%s: %v", sc.Text(), err)
			}
			evs = append(evs, event{typ, data})
		}
	}
	var got []string
	for _, ev := range evs {
		s := ev.typ
		if i, ok := ev.data["output_index"].(float64); ok {
			s += " " + string(rune('0'+int(i)))
		}
		got = append(got, s)
	}
	want := []string{"response.created", "response.in_progress",
		"response.output_item.added 0", "response.content_part.added 0", "response.output_text.delta 0",
		"response.output_text.done 0", "response.content_part.done 0", "response.output_item.done 0",
		"response.output_item.added 1", "response.function_call_arguments.delta 1",
		"response.output_item.added 2",
		"response.function_call_arguments.delta 1",
		"response.output_item.added 3", "response.content_part.added 3", "response.output_text.delta 3",
		"response.output_text.done 3", "response.content_part.done 3", "response.output_item.done 3",
		"response.function_call_arguments.done 1", "response.output_item.done 1",
		"response.function_call_arguments.done 2", "response.output_item.done 2",
		"response.incomplete"}
	if !slices.Equal(got, want) {
		t.Fatalf("events =\n%q\nwant\n%q", got, want)
	}
	if ev := evs[18].data; ev["arguments"] != `{"a":1}` || ev["name"] != "f" {
		t.Errorf("arguments.done = %v", ev)
	}
	if item := evs[21].data["item"].(map[string]any); item["call_id"] == "" || item["arguments"] != "" || item["status"] != "incomplete" {
		t.Errorf("a call without id or arguments = %v", item)
	}
	final := evs[len(evs)-1].data["response"].(map[string]any)
	if final["status"] != "incomplete" || final["incomplete_details"].(map[string]any)["reason"] != "max_output_tokens" || final["completed_at"] != nil {
		t.Errorf("final = %v", final)
	}
	if output := final["output"].([]any); len(output) != 4 || output[3].(map[string]any)["content"].([]any)[0].(map[string]any)["text"] != "lo" {
		t.Errorf("final output = %v", output)
	}

	conv, ok := rc.store.get(context.Background(), "o", out.ID)
	if !ok || len(conv) != 2 {
		t.Fatalf("stored conversation = %+v, %v", conv, ok)
	}
	if a := conv[1]; a.Role != agents.RoleAssistant || a.Content != "Hel\nlo" || len(a.ToolCalls) != 2 || a.ToolCalls[0].Arguments != `{"a":1}` {
		t.Errorf("stored answer = %+v", a)
	}
}

// FuzzSeed001ResponsesInput checks any "input" either is refused with a
// 400 or makes a conversation every model takes: known roles, each tool
// output after its call.
func FuzzSeed001ResponsesInput(f *testing.F) {
	for _, s := range []string{
		`"hi"`, `[]`, `[{"role": "user", "content": "hi"}]`,
		`[{"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}]}]`,
		`[{"role": "user", "content": "q"}, {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"}, {"type": "function_call_output", "call_id": "c", "output": "1"}]`,
		`[{"type": "function_call_output", "call_id": "c", "output": [{"type": "input_text", "text": "x"}]}]`,
		`[{"type": "item_reference", "id": "msg_1"}, {"role": "assistant", "content": [{"type": "output_text", "text": "a"}]}]`,
		`[{"type": "reasoning", "id": "rs_1", "summary": []}]`, `[{"role": "user", "content": null}]`, `[null]`, `{}`, `5`,
	} {
		f.Add(s)
	}
	store := newResponseStore(responseStoreConfig{})
	store.put("o", "msg_1", []agents.ModelMessage{{Role: agents.RoleAssistant, Content: "stored"}})
	f.Fuzz(func(t *testing.T, input string) {
		turns, err := inputTurns(json.RawMessage(input))
		if err != nil {
			if _, ok := err.(*oaiError); !ok {
				t.Fatalf("inputTurns(%s) error %T %v, want an *oaiError", input, err, err)
			}
			return
		}
		msgs, err := resolve(context.Background(), store, "o", nil, turns)
		if err != nil {
			if e, ok := err.(*oaiError); !ok || e.Status != 400 {
				t.Fatalf("resolve(%s) error %v, want a 400", input, err)
			}
			return
		}
		calls := map[string]bool{}
		for i, m := range msgs {
			switch m.Role {
			case agents.RoleUser, agents.RoleSystem, agents.RoleAssistant:
			case agents.RoleTool:
				if !calls[m.ToolCallID] || m.ToolName == "" {
					t.Fatalf("resolve(%s): tool output %d without its call: %+v", input, i, msgs)
				}
			default:
				t.Fatalf("resolve(%s): role %q", input, m.Role)
			}
			if i > 0 && m.Role == agents.RoleAssistant && msgs[i-1].Role == agents.RoleAssistant {
				t.Fatalf("resolve(%s): consecutive assistant messages: %+v", input, msgs)
			}
			for _, tc := range m.ToolCalls {
				calls[tc.ID] = true
			}
		}
	})
}

// TestStoredResponsesReachEveryNode: two nodes' stores over one database
// (agents.ResponseItems) answer each other's references, per owner, until
// the entries expire.
func TestStoredResponsesReachEveryNode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	db := agents.NewResponseItems(sqldbtest.Open(t), agents.ResponseItemsConfig{TTL: time.Hour, Now: func() time.Time { return clock() }})
	a := newResponseStore(responseStoreConfig{Durable: db})
	b := newResponseStore(responseStoreConfig{Durable: db})
	conv := []agents.ModelMessage{{Role: agents.RoleUser, Content: "hi 👋"},
		{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{"q":1}`}}}}
	if err := a.keep(ctx, "user:alice", map[string][]agents.ModelMessage{"resp_1": conv, "msg_1": conv[:1]}); err != nil {
		t.Fatal(err)
	}
	got, ok := b.get(ctx, "user:alice", "resp_1")
	if !ok || len(got) != 2 || got[0].Content != "hi 👋" || got[1].ToolCalls[0].Arguments != `{"q":1}` {
		t.Fatalf("node b: %+v, %v", got, ok)
	}
	if _, ok := b.get(ctx, "user:bob", "resp_1"); ok {
		t.Fatal("another owner reads alice's response")
	}
	// Kept again, the newer wins; past the TTL, none is found.
	a.keep(ctx, "user:alice", map[string][]agents.ModelMessage{"msg_1": conv[1:]})
	c := newResponseStore(responseStoreConfig{Durable: db})
	if got, ok := c.get(ctx, "user:alice", "msg_1"); !ok || got[0].Role != agents.RoleAssistant {
		t.Fatalf("replaced entry: %+v, %v", got, ok)
	}
	later := now.Add(2 * time.Hour)
	clock = func() time.Time { return later }
	d := newResponseStore(responseStoreConfig{Durable: db})
	if _, ok := d.get(ctx, "user:alice", "resp_1"); ok {
		t.Fatal("an expired entry is found")
	}
}
