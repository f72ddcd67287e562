package gateway_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/workspaces"
)

func TestSeed001ChatCompletion(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, c := range []struct{ path, token string }{
		{"/v1/api/chat/completions", e.userKey},
		{"/v1/chat/completions", e.jwt},
	} {
		st, body := e.postJSON(t, c.path, c.token, `{
			"model": "fake-text",
			"messages": [
				{"role": "system", "content": "You are terse."},
				{"role": "developer", "content": [{"type": "text", "text": "Be kind."}]},
				{"role": "user", "content": [{"type": "text", "text": "Say"}, {"type": "text", "text": "hello"}]}
			],
			"temperature": 0.5, "top_p": 0.9, "max_tokens": 50, "stop": ["\n\n", "END"],
			"seed": 7, "user": "u-1", "presence_penalty": 0, "some_future_field": {"x": 1}
		}`)
		if st != http.StatusOK {
			t.Fatalf("%s: status %d: %v", c.path, st, body)
		}
		if id := str(t, body, "id"); !strings.HasPrefix(id, "chatcmpl-") {
			t.Errorf("id = %q", id)
		}
		if body["object"] != "chat.completion" || body["model"] != "fake-text" {
			t.Errorf("object, model = %v, %v", body["object"], body["model"])
		}
		if c, _ := body["created"].(float64); time.Since(time.Unix(int64(c), 0)) > time.Minute {
			t.Errorf("created = %v", body["created"])
		}
		ch := choices(t, body)
		if len(ch) != 1 {
			t.Fatalf("choices = %v", ch)
		}
		msg := obj(t, ch[0], "message")
		if ch[0]["index"] != 0.0 || msg["role"] != "assistant" || msg["content"] != "Hello world" || ch[0]["finish_reason"] != "stop" {
			t.Errorf("choice = %v", ch[0])
		}
		if v, ok := ch[0]["logprobs"]; !ok || v != nil {
			t.Errorf("logprobs = %v, %v; want null", v, ok)
		}
		if _, ok := msg["tool_calls"]; ok {
			t.Errorf("tool_calls in a text answer: %v", msg)
		}
		wantUsage(t, body, 11, 2)

		up := e.up.next(t)
		msgs := up["messages"].([]any)
		want := []any{
			map[string]any{"role": "system", "content": "You are terse."},
			map[string]any{"role": "system", "content": "Be kind."},
			map[string]any{"role": "user", "content": "Say\nhello"},
		}
		if !reflect.DeepEqual(msgs, want) {
			t.Errorf("upstream messages = %v, want %v", msgs, want)
		}
		if up["temperature"] != 0.5 || up["top_p"] != 0.9 || up["max_tokens"] != 50.0 || !reflect.DeepEqual(up["stop"], []any{"\n\n", "END"}) {
			t.Errorf("upstream parameters = %v", up)
		}
	}
}

func wantUsage(t *testing.T, body map[string]any, in, out float64) {
	t.Helper()
	u := obj(t, body, "usage")
	if u["prompt_tokens"] != in || u["completion_tokens"] != out || u["total_tokens"] != in+out {
		t.Errorf("usage = %v, want %v + %v", u, in, out)
	}
}

func TestSeed001ChatStream(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, includeUsage := range []bool{false, true} {
		req := `{"model": "fake-text", "stream": true, "messages": [{"role": "user", "content": "hi"}]}`
		if includeUsage {
			req = `{"model": "fake-text", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]}`
		}
		st, ct, evs := e.stream(t, "/v1/api/chat/completions", e.userKey, req)
		if st != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("status, Content-Type = %d, %q", st, ct)
		}
		if evs[len(evs)-1].data != "[DONE]" {
			t.Fatalf("stream does not end with [DONE]: %v", evs)
		}
		evs = evs[:len(evs)-1]
		if includeUsage {
			last := evs[len(evs)-1]
			if ch := choices(t, last.obj); len(ch) != 0 {
				t.Errorf("usage chunk has choices: %v", last.obj)
			}
			wantUsage(t, last.obj, 11, 2)
			evs = evs[:len(evs)-1]
		}
		var text strings.Builder
		id := ""
		for i, ev := range evs {
			if ev.obj == nil {
				t.Fatalf("event %d = %+v, want a chunk", i, ev)
			}
			if ev.obj["object"] != "chat.completion.chunk" || ev.obj["model"] != "fake-text" {
				t.Errorf("chunk %d = %v", i, ev.obj)
			}
			if _, ok := ev.obj["usage"]; ok {
				t.Errorf("chunk %d has usage: %v", i, ev.obj)
			}
			if id == "" {
				id = str(t, ev.obj, "id")
			} else if ev.obj["id"] != id {
				t.Errorf("chunk %d id = %v, want %v", i, ev.obj["id"], id)
			}
			ch := choices(t, ev.obj)
			if len(ch) != 1 || ch[0]["index"] != 0.0 {
				t.Fatalf("chunk %d choices = %v", i, ch)
			}
			d := obj(t, ch[0], "delta")
			if (i == 0) != (d["role"] == "assistant") {
				t.Errorf("chunk %d delta = %v: the role belongs in the first chunk only", i, d)
			}
			if (i == len(evs)-1) != (ch[0]["finish_reason"] != nil) {
				t.Errorf("chunk %d finish_reason = %v: only the last chunk has one", i, ch[0]["finish_reason"])
			}
			s, _ := d["content"].(string)
			text.WriteString(s)
		}
		if text.String() != "Hello world" || choices(t, evs[len(evs)-1].obj)[0]["finish_reason"] != "stop" {
			t.Errorf("streamed %q, last chunk %v", text.String(), evs[len(evs)-1].obj)
		}
	}
}

// toolsRequest offers two client tools.
const toolsRequest = `{"model": "fake-tools", %s "messages": [{"role": "user", "content": "Weather and time in Paris?"}],
	"tools": [
		{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
		{"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}
	], "tool_choice": "auto", "parallel_tool_calls": true}`

func TestSeed001ToolCalls(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	wantCalls := []any{
		map[string]any{"id": "call_a", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}},
		map[string]any{"id": "call_b", "type": "function", "function": map[string]any{"name": "get_time", "arguments": `{}`}},
	}

	// Not streamed: the calls in the message, its content null.
	st, body := e.postJSON(t, "/v1/chat/completions", e.userKey, strings.Replace(toolsRequest, "%s", "", 1))
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	ch := choices(t, body)[0]
	msg := obj(t, ch, "message")
	if c, ok := msg["content"]; !ok || c != nil {
		t.Errorf("content = %v (present %v), want null", c, ok)
	}
	if !reflect.DeepEqual(msg["tool_calls"], wantCalls) || ch["finish_reason"] != "tool_calls" {
		t.Errorf("message = %v, finish_reason %v", msg, ch["finish_reason"])
	}
	up := e.up.next(t)
	tools, _ := up["tools"].([]any)
	if len(tools) != 2 || up["tool_choice"] != "auto" {
		t.Fatalf("upstream tools = %v, tool_choice %v", up["tools"], up["tool_choice"])
	}
	fn := tools[0].(map[string]any)["function"].(map[string]any)
	if fn["name"] != "get_weather" || fn["description"] != "Weather of a city" || !reflect.DeepEqual(fn["parameters"].(map[string]any)["required"], []any{"city"}) {
		t.Errorf("upstream tool = %v", fn)
	}

	// Streamed: every tool-call delta has its index; the first of each
	// call its id, type and name; the arguments add up.
	st, _, evs := e.stream(t, "/v1/api/chat/completions", e.jwt, strings.Replace(toolsRequest, "%s", `"stream": true,`, 1))
	if st != http.StatusOK || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("status %d, events %v", st, evs)
	}
	e.up.next(t)
	type call struct{ id, name, args string }
	var calls []call
	var finish any
	for _, ev := range evs[:len(evs)-1] {
		c := choices(t, ev.obj)[0]
		if f := c["finish_reason"]; f != nil {
			finish = f
		}
		d := obj(t, c, "delta")
		tcs, _ := d["tool_calls"].([]any)
		for _, raw := range tcs {
			tc := raw.(map[string]any)
			idx, ok := tc["index"].(float64)
			if !ok {
				t.Fatalf("tool-call delta without an index: %v", tc)
			}
			f := tc["function"].(map[string]any)
			if int(idx) == len(calls) {
				if tc["id"] == nil || tc["type"] != "function" || f["name"] == nil {
					t.Errorf("first piece of call %v lacks its id, type or name: %v", idx, tc)
				}
				calls = append(calls, call{id: tc["id"].(string), name: f["name"].(string)})
			} else if _, has := tc["id"]; has {
				t.Errorf("a later piece repeats the id: %v", tc)
			}
			a, _ := f["arguments"].(string)
			calls[int(idx)].args += a
		}
	}
	want := []call{{"call_a", "get_weather", `{"city":"Paris"}`}, {"call_b", "get_time", `{}`}}
	if !reflect.DeepEqual(calls, want) || finish != "tool_calls" {
		t.Errorf("streamed calls = %+v, finish %v; want %+v", calls, finish, want)
	}

	// The client runs the tools and sends the results back.
	st, body = e.postJSON(t, "/v1/api/chat/completions", e.userKey, `{"model": "fake-tools", "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
		"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
		"messages": [
			{"role": "user", "content": "Weather in Paris?"},
			{"role": "assistant", "content": null, "tool_calls": [{"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
			{"role": "tool", "tool_call_id": "call_a", "content": "sunny, 24°C"}
		]}`)
	if st != http.StatusOK || obj(t, choices(t, body)[0], "message")["content"] != "It is sunny in Paris." {
		t.Fatalf("status %d: %v", st, body)
	}
	up = e.up.next(t)
	msgs := up["messages"].([]any)
	asst, tool := msgs[1].(map[string]any), msgs[2].(map[string]any)
	if tc := asst["tool_calls"].([]any)[0].(map[string]any); tc["id"] != "call_a" || tc["function"].(map[string]any)["arguments"] != `{"city":"Paris"}` {
		t.Errorf("upstream assistant message = %v", asst)
	}
	if tool["role"] != "tool" || tool["tool_call_id"] != "call_a" || tool["content"] != "sunny, 24°C" {
		t.Errorf("upstream tool message = %v", tool)
	}
	if tc := up["tool_choice"].(map[string]any); tc["function"].(map[string]any)["name"] != "get_weather" {
		t.Errorf("upstream tool_choice = %v", up["tool_choice"])
	}
}

func TestSeed001ChoicesN(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, body := e.postJSON(t, "/v1/chat/completions", e.userKey, `{"model": "fake-text", "n": 2, "messages": [{"role": "user", "content": "hi"}]}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	ch := choices(t, body)
	if len(ch) != 2 || ch[0]["index"] != 0.0 || ch[1]["index"] != 1.0 {
		t.Fatalf("choices = %v", ch)
	}
	for _, c := range ch {
		if obj(t, c, "message")["content"] != "Hello world" {
			t.Errorf("choice = %v", c)
		}
	}
	wantUsage(t, body, 22, 4) // two upstream calls
	e.up.next(t)
	e.up.next(t)

	st, _, evs := e.stream(t, "/v1/chat/completions", e.userKey, `{"model": "fake-text", "n": 2, "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]}`)
	if st != http.StatusOK || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("status %d: %v", st, evs)
	}
	texts := map[float64]string{}
	finished := map[float64]bool{}
	for _, ev := range evs[:len(evs)-2] {
		c := choices(t, ev.obj)[0]
		i := c["index"].(float64)
		if finished[i] {
			t.Errorf("choice %v streams after its finish", i)
		}
		s, _ := obj(t, c, "delta")["content"].(string)
		texts[i] += s
		finished[i] = c["finish_reason"] != nil
	}
	if !reflect.DeepEqual(texts, map[float64]string{0: "Hello world", 1: "Hello world"}) || !finished[0] || !finished[1] {
		t.Errorf("texts %v, finished %v", texts, finished)
	}
	wantUsage(t, evs[len(evs)-2].obj, 22, 4)
}

func TestSeed001TextCompletion(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, body := e.postJSON(t, "/v1/api/completions", e.userKey, `{"model": "fake-text", "prompt": "Once upon", "max_tokens": 5, "stop": "\n"}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	if id := str(t, body, "id"); !strings.HasPrefix(id, "cmpl-") || body["object"] != "text_completion" {
		t.Errorf("body = %v", body)
	}
	ch := choices(t, body)
	if len(ch) != 1 || ch[0]["text"] != "Hello world" || ch[0]["index"] != 0.0 || ch[0]["finish_reason"] != "stop" {
		t.Errorf("choices = %v", ch)
	}
	wantUsage(t, body, 11, 2)
	up := e.up.next(t)
	if msgs := up["messages"].([]any); len(msgs) != 1 || msgs[0].(map[string]any)["content"] != "Once upon" || !reflect.DeepEqual(up["stop"], []any{"\n"}) || up["max_tokens"] != 5.0 {
		t.Errorf("upstream request = %v", up)
	}

	// Two prompts, n = 2: four choices, prompt i's at 2i and 2i+1.
	st, body = e.postJSON(t, "/v1/completions", e.jwt, `{"model": "echo", "prompt": ["alpha", "beta"], "n": 2}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	ch = choices(t, body)
	if len(ch) != 4 {
		t.Fatalf("choices = %v", ch)
	}
	for i, c := range ch {
		word := []string{"alpha", "beta"}[i/2]
		if c["index"] != float64(i) || !strings.Contains(c["text"].(string), word) {
			t.Errorf("choice %d = %v, want the echo of %q", i, c, word)
		}
	}

	st, ct, evs := e.stream(t, "/v1/api/completions", e.userKey, `{"model": "fake-text", "prompt": "Once", "stream": true, "stream_options": {"include_usage": true}}`)
	if st != http.StatusOK || ct != "text/event-stream" || evs[len(evs)-1].data != "[DONE]" {
		t.Fatalf("status %d, %q: %v", st, ct, evs)
	}
	var text strings.Builder
	for i, ev := range evs[:len(evs)-2] {
		if ev.obj["object"] != "text_completion" {
			t.Errorf("chunk %d = %v", i, ev.obj)
		}
		c := choices(t, ev.obj)[0]
		text.WriteString(c["text"].(string))
		if (i == len(evs)-3) != (c["finish_reason"] != nil) {
			t.Errorf("chunk %d finish_reason = %v", i, c["finish_reason"])
		}
	}
	if text.String() != "Hello world" {
		t.Errorf("streamed %q", text.String())
	}
	wantUsage(t, evs[len(evs)-2].obj, 11, 2)
}

func TestSeed001Models(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	_, v1 := e.do(t, "GET", "/v1/models", e.jwt, "")
	st, api := e.do(t, "GET", "/v1/api/models", e.userKey, "")
	if st != http.StatusOK || !reflect.DeepEqual(v1, api) || api["object"] != "list" || len(list(t, api, "data")) < 2 {
		t.Fatalf("GET /v1/api/models = %d %v, want %v", st, api, v1)
	}
	st, m := e.do(t, "GET", "/v1/api/models/fake-text", e.userKey, "")
	if st != http.StatusOK || m["id"] != "fake-text" || m["object"] != "model" {
		t.Errorf("GET /v1/api/models/fake-text = %d %v", st, m)
	}
	st, m = e.do(t, "GET", "/v1/api/models/no-such-model", e.userKey, "")
	wantOAIError(t, "unknown model", st, m, http.StatusNotFound, "invalid_request", "model_not_found")

	// The caller's agents are models too ("model" may name one), listed
	// and found for their owner only.
	agentID := e.agent(t, e.userID)
	_, mine := e.do(t, "GET", "/v1/models", e.userKey, "")
	found := false
	for _, v := range list(t, mine, "data") {
		if m := v; m["id"] == agentID {
			found = m["object"] == "model" && m["agent"] == true
		}
	}
	if !found || len(list(t, mine, "data")) != len(list(t, v1, "data"))+1 {
		t.Errorf("GET /v1/models with the owner's key does not list agent %s as a model: %v", agentID, mine)
	}
	st, m = e.do(t, "GET", "/v1/models/"+agentID, e.userKey, "")
	if st != http.StatusOK || m["id"] != agentID || m["agent"] != true {
		t.Errorf("GET /v1/models/<agent> = %d %v", st, m)
	}
	st, m = e.do(t, "GET", "/v1/models/"+agentID, "", "")
	wantOAIError(t, "an agent without credentials", st, m, http.StatusUnauthorized, "authentication_error", "missing_api_key")
}

func TestSeed001Errors(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{MaxBodyBytes: 4 << 10})
	ownerAgent := e.agent(t, e.userID)
	if _, err := e.ag.Publish(context.Background(), workspaces.UserID(e.userID), agents.ID(ownerAgent)); err != nil {
		t.Fatal(err)
	}
	agentKey, err := e.ws.CreateKey(context.Background(), workspaces.UserID(e.userID), workspaces.AgentKey, ownerAgent, "k")
	if err != nil {
		t.Fatal(err)
	}
	hello := `"messages": [{"role": "user", "content": "hi"}]`
	for _, c := range []struct {
		what, path, token, body string
		status                  int
		typ, code               string
	}{
		{"no key", "/v1/api/chat/completions", "", `{"model": "echo", ` + hello + `}`, 401, "authentication_error", "missing_api_key"},
		{"bad key", "/v1/api/chat/completions", "atk_nope", `{"model": "echo", ` + hello + `}`, 401, "authentication_error", "invalid_api_key"},
		{"bad jwt", "/v1/completions", "not.a.jwt", `{"model": "echo", "prompt": "x"}`, 401, "authentication_error", "invalid_api_key"},
		{"garbage key", "/v1/api/chat/completions", "garbage", `{"model": "echo", ` + hello + `}`, 401, "authentication_error", "invalid_api_key"},
		{"agent key, another model", "/v1/api/chat/completions", agentKey.Secret, `{"model": "echo", ` + hello + `}`, 404, "invalid_request", "model_not_found"},
		{"bad JSON", "/v1/api/chat/completions", e.userKey, `{"model": "echo",`, 400, "invalid_request", "invalid_json"},
		{"not an object", "/v1/api/chat/completions", e.userKey, `["echo"]`, 400, "invalid_request", "invalid_json"},
		{"empty body", "/v1/api/chat/completions", e.userKey, ``, 400, "invalid_request", "invalid_json"},
		{"no model", "/v1/api/chat/completions", e.userKey, `{` + hello + `}`, 400, "invalid_request", "missing_parameter"},
		{"no messages", "/v1/api/chat/completions", e.userKey, `{"model": "echo"}`, 400, "invalid_request", "missing_parameter"},
		{"empty messages", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": []}`, 400, "invalid_request", "invalid_value"},
		{"messages type", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": "hi"}`, 400, "invalid_request", "invalid_type"},
		{"temperature type", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "temperature": "hot", ` + hello + `}`, 400, "invalid_request", "invalid_type"},
		{"temperature range", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "temperature": 3, ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"max_tokens", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "max_tokens": 0, ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"n too big", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "n": 9, ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"n zero", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "n": 0, ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"stop type", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "stop": 5, ` + hello + `}`, 400, "invalid_request", "invalid_type"},
		{"too many stops", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "stop": ["a","b","c","d","e"], ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"image", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}]}`, 400, "invalid_request", "unsupported_content"},
		{"role", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": [{"role": "narrator", "content": "x"}]}`, 400, "invalid_request", "invalid_value"},
		{"tool result without id", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": [{"role": "tool", "content": "x"}]}`, 400, "invalid_request", "missing_parameter"},
		{"tool type", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "tools": [{"type": "custom", "custom": {"name": "x"}}], ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"tool_choice unknown", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "tool_choice": {"type": "function", "function": {"name": "nope"}}, ` + hello + `}`, 400, "invalid_request", "invalid_value"},
		{"prompt missing", "/v1/api/completions", e.userKey, `{"model": "echo"}`, 400, "invalid_request", "missing_parameter"},
		{"prompt tokens", "/v1/api/completions", e.userKey, `{"model": "echo", "prompt": [[1, 2, 3]]}`, 400, "invalid_request", "invalid_type"},
		{"too large", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": [{"role": "user", "content": "` + strings.Repeat("x", 5<<10) + `"}]}`, 413, "invalid_request", "request_too_large"},
		{"unknown model", "/v1/api/chat/completions", e.userKey, `{"model": "gpt-17", ` + hello + `}`, 404, "invalid_request", "model_not_found"},
		{"unavailable model", "/v1/api/chat/completions", e.userKey, `{"model": "claude-3-haiku", ` + hello + `}`, 400, "invalid_request", "model_not_available"},
		{"upstream 429", "/v1/api/chat/completions", e.userKey, `{"model": "fake-429", ` + hello + `}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"upstream 429 stream", "/v1/api/chat/completions", e.userKey, `{"model": "fake-429", "stream": true, ` + hello + `}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"upstream 400", "/v1/api/completions", e.userKey, `{"model": "fake-400", "prompt": "x"}`, 400, "invalid_request", "context_length_exceeded"},
		{"upstream 500", "/v1/api/chat/completions", e.userKey, `{"model": "fake-500", ` + hello + `}`, 500, "server_error", "upstream_error"},
		{"upstream cut", "/v1/api/chat/completions", e.userKey, `{"model": "fake-cut", ` + hello + `}`, 500, "server_error", "upstream_error"},
		// Seed 001's stateful chat answers the same errors the same way.
		{"NUL", "/v1/api/chat/completions", e.userKey, `{"model": "echo", "messages": [{"role": "user", "content": "a\u0000b"}]}`, 400, "invalid_request", "invalid_value"},
		{"chat: NUL", "/v1/api/chat", e.userKey, `{"model": "echo", "message": "a\u0000b"}`, 400, "invalid_request", "invalid_value"},
		{"chat: no key", "/v1/api/chat", "", `{"model": "echo", "message": "hi"}`, 401, "authentication_error", "missing_api_key"},
		{"chat: bad JSON", "/v1/api/chat", e.userKey, `{"model": "echo",`, 400, "invalid_request", "invalid_json"},
		{"chat: not an object", "/v1/api/chat", e.userKey, `["echo"]`, 400, "invalid_request", "invalid_json"},
		{"chat: message type", "/v1/api/chat", e.userKey, `{"model": "echo", "message": 5}`, 400, "invalid_request", "invalid_type"},
		{"chat: temperature range", "/v1/api/chat", e.userKey, `{"model": "echo", "temperature": 3, "message": "hi"}`, 400, "invalid_request", "invalid_value"},
		{"chat: maxTokens", "/v1/api/chat", e.userKey, `{"model": "echo", "maxTokens": -5, "message": "hi"}`, 400, "invalid_request", "invalid_value"},
		{"chat: streamType", "/v1/api/chat", e.userKey, `{"model": "echo", "streamType": "xml", "message": "hi"}`, 400, "invalid_request", "invalid_parameter"},
		{"chat: no text", "/v1/api/chat", e.userKey, `{"model": "echo", "messages": [{"role": "user", "parts": [{"type": "file", "url": "x"}]}]}`, 400, "invalid_request", "missing_parameter"},
		{"chat: too large", "/v1/api/chat", e.userKey, `{"model": "echo", "message": "` + strings.Repeat("x", 5<<10) + `"}`, 413, "invalid_request", "request_too_large"},
		{"chat: unknown model", "/v1/api/chat", e.userKey, `{"model": "gpt-17", "message": "hi"}`, 404, "invalid_request", "model_not_found"},
		{"chat: unavailable model", "/v1/api/chat", e.userKey, `{"model": "claude-3-haiku", "message": "hi"}`, 400, "invalid_request", "model_not_available"},
		{"chat: upstream 429", "/v1/api/chat", e.userKey, `{"model": "fake-429", "message": "hi"}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"chat: upstream 429 stream", "/v1/api/chat", e.userKey, `{"model": "fake-429", "stream": true, "message": "hi"}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"chat: upstream 429 text stream", "/v1/api/chat", e.userKey, `{"model": "fake-429", "stream": true, "streamType": "text", "message": "hi"}`, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"chat: upstream 500 stream", "/v1/api/chat", e.userKey, `{"model": "fake-500", "stream": true, "message": "hi"}`, 500, "server_error", "upstream_error"},
	} {
		st, body := e.postJSON(t, c.path, c.token, c.body)
		er := wantOAIError(t, c.what, st, body, c.status, c.typ, c.code)
		if c.what == "unavailable model" && !strings.Contains(er["message"].(string), "not configured") {
			t.Errorf("unavailable model: message %q does not say why", er["message"])
		}
		if m := er["message"].(string); strings.Contains(m, "goroutine") || strings.Contains(m, "gateway.") || strings.Contains(m, "oaiSampling") || strings.Contains(m, "segments") {
			t.Errorf("%s: Go internals in the message: %v", c.what, er)
		}
		if p, _ := er["param"].(string); strings.Contains(p, "oaiSampling") {
			t.Errorf("%s: param %q names a Go struct", c.what, p)
		}
	}
}

// TestSeed001CutStream checks an upstream that breaks off mid-answer
// ends the stream with an error event, and no [DONE].
func TestSeed001CutStream(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, _, evs := e.stream(t, "/v1/api/chat/completions", e.userKey, `{"model": "fake-cut", "stream": true, "messages": [{"role": "user", "content": "hi"}]}`)
	if st != http.StatusOK || len(evs) < 2 {
		t.Fatalf("status %d: %v", st, evs)
	}
	if d := obj(t, choices(t, evs[0].obj)[0], "delta"); d["content"] != "partial" {
		t.Errorf("first chunk = %v", evs[0].obj)
	}
	last := evs[len(evs)-1]
	if last.obj == nil {
		t.Fatalf("stream ends with %q, want an error event", last.data)
	}
	wantOAIError(t, "cut stream", 500, last.obj, 500, "server_error", "upstream_error")
	for _, ev := range evs {
		if ev.data == "[DONE]" {
			t.Fatal("a broken stream ended with [DONE]")
		}
	}
}

// TestSeed001StreamPing checks a stream whose model is slow to start gets
// ": ping" comments before its first token.
func TestSeed001StreamPing(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{StreamPing: 20 * time.Millisecond})
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/chat/completions", strings.NewReader(`{"model": "fake-slow", "stream": true, "messages": [{"role": "user", "content": "hi"}]}`))
	req.Header.Set("Authorization", "Bearer "+e.userKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	var evs []sseEvent
	pings := 0
	for sc.Scan() {
		ev, ok := parseSSELine(t, sc.Text())
		if !ok {
			continue
		}
		if ev.comment == "ping" {
			if pings++; pings == 2 {
				close(e.up.release)
			}
			continue
		}
		if pings < 2 {
			t.Fatalf("data before the pings: %v", ev)
		}
		evs = append(evs, ev)
	}
	if len(evs) < 2 || evs[len(evs)-1].data != "[DONE]" || obj(t, choices(t, evs[0].obj)[0], "delta")["content"] != "late" {
		t.Errorf("events after the pings = %v", evs)
	}
}

// TestSeed001ClientDisconnect checks a client that goes away mid-stream
// cancels the upstream call at once.
func TestSeed001ClientDisconnect(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, stream := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		body := `{"model": "fake-hang", "stream": ` + map[bool]string{true: "true", false: "false"}[stream] + `, "messages": [{"role": "user", "content": "hi"}]}`
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/api/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.userKey)
		done := make(chan error, 1)
		go func() {
			resp, err := e.srv.Client().Do(req)
			if err == nil {
				if stream {
					// Read the first chunk, then leave.
					line, _ := bufio.NewReader(resp.Body).ReadString('\n')
					if !strings.Contains(line, "thinking") {
						err = fmt.Errorf("first line %q, want the first chunk", line)
					}
					cancel()
				}
				resp.Body.Close()
			}
			done <- err
		}()
		e.up.next(t)
		if !stream {
			cancel() // the upstream has the request; now leave
		}
		select {
		case <-e.up.left:
		case <-time.After(10 * time.Second):
			t.Fatalf("stream=%v: the upstream call was not cancelled when the client left", stream)
		}
		if err := <-done; err != nil && ctx.Err() == nil {
			t.Errorf("stream=%v: %v", stream, err)
		}
		cancel()
	}
}

// TestSeed001UsageEstimate checks an upstream that reports no usage gets
// an estimate, not zeros.
func TestSeed001UsageEstimate(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, body := e.postJSON(t, "/v1/chat/completions", e.userKey, `{"model": "fake-nousage", "messages": [{"role": "user", "content": "`+strings.Repeat("word ", 20)+`"}]}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	u := obj(t, body, "usage")
	// 100 bytes of prompt, 11 of answer: about 4 bytes a token.
	if u["prompt_tokens"] != 25.0 || u["completion_tokens"] != 3.0 || u["total_tokens"] != 28.0 {
		t.Errorf("usage = %v", u)
	}
}
