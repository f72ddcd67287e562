package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/gateway"
)

// respEvent is one server-sent event of a Responses stream, or a comment.
type respEvent struct {
	comment string
	typ     string // the event: line
	obj     map[string]any
}

// readRespEvents reads a Responses stream, checking every event's "event:"
// line names its data's type and the sequence numbers count up from 0.
func readRespEvents(t *testing.T, body io.Reader) []respEvent {
	t.Helper()
	var out []respEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var typ string
	seq := 0.0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			typ = ""
		case strings.HasPrefix(line, ":"):
			out = append(out, respEvent{comment: strings.TrimSpace(line[1:])})
		case strings.HasPrefix(line, "event: "):
			typ = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev := respEvent{typ: typ}
			if err := json.Unmarshal([]byte(line[len("data: "):]), &ev.obj); err != nil {
				t.Fatalf("data line %q is not JSON: %v", line, err)
			}
			if ev.obj["type"] != typ {
				t.Errorf("event %q carries data of type %v", typ, ev.obj["type"])
			}
			if ev.obj["sequence_number"] != seq {
				t.Errorf("event %q: sequence_number %v, want %v", typ, ev.obj["sequence_number"], seq)
			}
			seq++
			out = append(out, ev)
		default:
			t.Fatalf("unexpected stream line %q", line)
		}
	}
	return out
}

// respStream posts a streamed Responses request and returns its status,
// Content-Type and events.
func (e *oaiEnv) respStream(t *testing.T, path, token, body string) (int, string, []respEvent) {
	t.Helper()
	resp, data := e.post(t, path, token, body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), readRespEvents(t, strings.NewReader(string(data)))
}

// types lists the events' types.
func types(evs []respEvent) []string {
	var out []string
	for _, ev := range evs {
		if ev.typ != "" {
			out = append(out, ev.typ)
		}
	}
	return out
}

// outputItems returns a Response object's output.
func outputItems(t *testing.T, resp map[string]any) []map[string]any {
	t.Helper()
	return list(t, resp, "output")
}

// messageText returns the text of an output message item.
func messageText(t *testing.T, item map[string]any) string {
	t.Helper()
	content := list(t, item, "content")
	if len(content) != 1 || content[0]["type"] != "output_text" {
		t.Fatalf("message content = %v", content)
	}
	if a, ok := content[0]["annotations"].([]any); !ok || len(a) != 0 {
		t.Errorf("annotations = %v, want []", content[0]["annotations"])
	}
	return content[0]["text"].(string)
}

// wantRespUsage checks a Response's usage.
func wantRespUsage(t *testing.T, resp map[string]any, in, out float64) {
	t.Helper()
	u := obj(t, resp, "usage")
	if u["input_tokens"] != in || u["output_tokens"] != out || u["total_tokens"] != in+out {
		t.Errorf("usage = %v, want %v + %v", u, in, out)
	}
	if obj(t, u, "input_tokens_details")["cached_tokens"] != 0.0 || obj(t, u, "output_tokens_details")["reasoning_tokens"] != 0.0 {
		t.Errorf("usage details = %v", u)
	}
}

func TestSeed001Responses(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, c := range []struct{ path, token, input string }{
		{"/v1/api/responses", e.userKey, `"Say hello"`},
		{"/v1/responses", e.jwt, `[
			{"role": "developer", "content": "Be kind."},
			{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Say"}, {"type": "input_text", "text": "hello"}]}
		]`},
	} {
		st, body := e.postJSON(t, c.path, c.token, `{
			"model": "fake-text", "input": `+c.input+`, "instructions": "You are terse.",
			"temperature": 0.5, "top_p": 0.9, "max_output_tokens": 50,
			"metadata": {"k": "v"}, "user": "u-1", "store": true, "reasoning": {"effort": "low"}, "some_future_field": 1
		}`)
		if st != http.StatusOK {
			t.Fatalf("%s: status %d: %v", c.path, st, body)
		}
		if id := str(t, body, "id"); !strings.HasPrefix(id, "resp_") {
			t.Errorf("id = %q", id)
		}
		if body["object"] != "response" || body["status"] != "completed" || body["model"] != "fake-text" {
			t.Errorf("object, status, model = %v, %v, %v", body["object"], body["status"], body["model"])
		}
		if c, _ := body["created_at"].(float64); time.Since(time.Unix(int64(c), 0)) > time.Minute {
			t.Errorf("created_at = %v", body["created_at"])
		}
		for _, k := range []string{"error", "incomplete_details", "previous_response_id"} {
			if v, ok := body[k]; !ok || v != nil {
				t.Errorf("%s = %v (present %v), want null", k, v, ok)
			}
		}
		if body["instructions"] != "You are terse." || body["temperature"] != 0.5 || body["max_output_tokens"] != 50.0 || body["user"] != "u-1" ||
			!reflect.DeepEqual(body["metadata"], map[string]any{"k": "v"}) || body["tool_choice"] != "auto" || body["store"] != true {
			t.Errorf("echoed settings = %v", body)
		}
		out := outputItems(t, body)
		if len(out) != 1 || out[0]["type"] != "message" || out[0]["role"] != "assistant" || out[0]["status"] != "completed" || !strings.HasPrefix(out[0]["id"].(string), "msg_") {
			t.Fatalf("output = %v", out)
		}
		if text := messageText(t, out[0]); text != "Hello world" {
			t.Errorf("text = %q", text)
		}
		wantRespUsage(t, body, 11, 2)

		up := e.up.next(t)
		want := []any{map[string]any{"role": "system", "content": "You are terse."}}
		if c.path == "/v1/responses" {
			want = append(want, map[string]any{"role": "system", "content": "Be kind."}, map[string]any{"role": "user", "content": "Say\nhello"})
		} else {
			want = append(want, map[string]any{"role": "user", "content": "Say hello"})
		}
		if !reflect.DeepEqual(up["messages"], want) {
			t.Errorf("upstream messages = %v, want %v", up["messages"], want)
		}
		if up["temperature"] != 0.5 || up["top_p"] != 0.9 || up["max_tokens"] != 50.0 {
			t.Errorf("upstream parameters = %v", up)
		}
	}
}

func TestSeed001ResponsesStream(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, ct, evs := e.respStream(t, "/v1/api/responses", e.userKey, `{"model": "fake-text", "stream": true, "input": "hi"}`)
	if st != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("status, Content-Type = %d, %q", st, ct)
	}
	want := []string{"response.created", "response.in_progress",
		"response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.delta",
		"response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.completed"}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
	created := obj(t, evs[0].obj, "response")
	id := str(t, created, "id")
	if created["status"] != "in_progress" || created["model"] != "fake-text" || len(outputItems(t, created)) != 0 || created["usage"] != nil {
		t.Errorf("response.created = %v", created)
	}
	added := obj(t, evs[2].obj, "item")
	itemID := str(t, added, "id")
	if added["type"] != "message" || added["status"] != "in_progress" || added["role"] != "assistant" || len(list(t, added, "content")) != 0 || evs[2].obj["output_index"] != 0.0 {
		t.Errorf("output_item.added = %v", evs[2].obj)
	}
	if p := obj(t, evs[3].obj, "part"); p["type"] != "output_text" || p["text"] != "" || evs[3].obj["item_id"] != itemID {
		t.Errorf("content_part.added = %v", evs[3].obj)
	}
	var text string
	for _, ev := range evs[4:6] {
		if ev.obj["item_id"] != itemID || ev.obj["output_index"] != 0.0 || ev.obj["content_index"] != 0.0 {
			t.Errorf("delta = %v", ev.obj)
		}
		text += ev.obj["delta"].(string)
	}
	if text != "Hello world" || evs[6].obj["text"] != "Hello world" || obj(t, evs[7].obj, "part")["text"] != "Hello world" {
		t.Errorf("streamed %q; done events %v, %v", text, evs[6].obj, evs[7].obj)
	}
	if done := obj(t, evs[8].obj, "item"); done["id"] != itemID || done["status"] != "completed" || messageText(t, done) != "Hello world" {
		t.Errorf("output_item.done = %v", evs[8].obj)
	}
	final := obj(t, evs[9].obj, "response")
	if final["id"] != id || final["status"] != "completed" || len(outputItems(t, final)) != 1 || messageText(t, outputItems(t, final)[0]) != "Hello world" {
		t.Errorf("response.completed = %v", final)
	}
	wantRespUsage(t, final, 11, 2)
}

// respToolsRequest offers two function tools, in the Responses API's shape.
const respToolsRequest = `{"model": "fake-tools", %s "input": [{"role": "user", "content": "Weather and time in Paris?"}],
	"tools": [
		{"type": "function", "name": "get_weather", "description": "Weather of a city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}, "strict": false},
		{"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}
	], "tool_choice": "auto", "parallel_tool_calls": true}`

func TestSeed001ResponsesTools(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	type call struct{ callID, name, args string }
	want := []call{{"call_a", "get_weather", `{"city":"Paris"}`}, {"call_b", "get_time", `{}`}}

	// Not streamed: a function_call item per call.
	st, body := e.postJSON(t, "/v1/responses", e.userKey, strings.Replace(respToolsRequest, "%s", "", 1))
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, body)
	}
	var calls []call
	for _, it := range outputItems(t, body) {
		if it["type"] != "function_call" || it["status"] != "completed" || !strings.HasPrefix(it["id"].(string), "fc_") {
			t.Errorf("item = %v", it)
			continue
		}
		calls = append(calls, call{it["call_id"].(string), it["name"].(string), it["arguments"].(string)})
	}
	if !reflect.DeepEqual(calls, want) || body["status"] != "completed" {
		t.Errorf("calls = %+v, status %v; want %+v", calls, body["status"], want)
	}
	if tools := list(t, body, "tools"); len(tools) != 2 || tools[0]["name"] != "get_weather" || tools[0]["type"] != "function" {
		t.Errorf("echoed tools = %v", tools)
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

	// Streamed: each call an item, its arguments in deltas.
	st, _, evs := e.respStream(t, "/v1/api/responses", e.jwt, strings.Replace(respToolsRequest, "%s", `"stream": true,`, 1))
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, evs)
	}
	e.up.next(t)
	wantTypes := []string{"response.created", "response.in_progress",
		"response.output_item.added", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
		"response.output_item.added", "response.function_call_arguments.delta",
		"response.function_call_arguments.done", "response.output_item.done",
		"response.function_call_arguments.done", "response.output_item.done",
		"response.completed"}
	if got := types(evs); !slices.Equal(got, wantTypes) {
		t.Fatalf("events = %q, want %q", got, wantTypes)
	}
	calls = nil
	args := map[float64]string{}
	for _, ev := range evs {
		switch ev.typ {
		case "response.output_item.added":
			it := obj(t, ev.obj, "item")
			if it["type"] != "function_call" || it["status"] != "in_progress" || it["arguments"] != "" || ev.obj["output_index"] != float64(len(calls)) {
				t.Errorf("added = %v", ev.obj)
			}
			calls = append(calls, call{callID: it["call_id"].(string), name: it["name"].(string)})
		case "response.function_call_arguments.delta":
			args[ev.obj["output_index"].(float64)] += ev.obj["delta"].(string)
		case "response.function_call_arguments.done":
			i := ev.obj["output_index"].(float64)
			if ev.obj["arguments"] != args[i] {
				t.Errorf("arguments.done = %v, deltas %q", ev.obj, args[i])
			}
			calls[int(i)].args = args[i]
		case "response.output_item.done":
			if it := obj(t, ev.obj, "item"); it["status"] != "completed" || it["arguments"] != args[ev.obj["output_index"].(float64)] {
				t.Errorf("done = %v", ev.obj)
			}
		}
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("streamed calls = %+v, want %+v", calls, want)
	}
	final := obj(t, evs[len(evs)-1].obj, "response")
	if out := outputItems(t, final); len(out) != 2 || out[1]["call_id"] != "call_b" {
		t.Errorf("completed output = %v", out)
	}
	wantRespUsage(t, final, 20, 9)

	// The client runs the tools and sends the calls and their outputs
	// back; the model answers.
	st, body = e.postJSON(t, "/v1/responses", e.userKey, `{"model": "fake-tools", "tool_choice": {"type": "function", "name": "get_weather"},
		"tools": [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}],
		"input": [
			{"role": "user", "content": "Weather in Paris?"},
			{"type": "function_call", "call_id": "call_a", "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"},
			{"type": "function_call", "call_id": "call_b", "name": "get_time", "arguments": "{}"},
			{"type": "function_call_output", "call_id": "call_a", "output": "sunny, 24°C"},
			{"type": "function_call_output", "call_id": "call_b", "output": [{"type": "input_text", "text": "noon"}]}
		]}`)
	if st != http.StatusOK || messageText(t, outputItems(t, body)[0]) != "It is sunny in Paris." {
		t.Fatalf("status %d: %v", st, body)
	}
	up = e.up.next(t)
	msgs := up["messages"].([]any)
	if len(msgs) != 4 {
		t.Fatalf("upstream messages = %v", msgs)
	}
	asst := msgs[1].(map[string]any)
	if tcs := asst["tool_calls"].([]any); len(tcs) != 2 || tcs[0].(map[string]any)["id"] != "call_a" || tcs[1].(map[string]any)["function"].(map[string]any)["name"] != "get_time" {
		t.Errorf("upstream assistant message = %v", asst)
	}
	if tool := msgs[2].(map[string]any); tool["role"] != "tool" || tool["tool_call_id"] != "call_a" || tool["content"] != "sunny, 24°C" {
		t.Errorf("upstream tool message = %v", tool)
	}
	if tool := msgs[3].(map[string]any); tool["tool_call_id"] != "call_b" || tool["content"] != "noon" {
		t.Errorf("upstream tool message = %v", tool)
	}
	if tc := up["tool_choice"].(map[string]any); tc["function"].(map[string]any)["name"] != "get_weather" {
		t.Errorf("upstream tool_choice = %v", up["tool_choice"])
	}
}

// TestSeed001ResponsesStored checks stored responses: their items can be
// referenced (the AI SDK sends item_reference for the assistant's earlier
// text) and a response continued (previous_response_id), by their caller
// only; store: false keeps nothing.
func TestSeed001ResponsesStored(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, first := e.postJSON(t, "/v1/api/responses", e.userKey, `{"model": "fake-text", "input": "Hi", "instructions": "Be brief."}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, first)
	}
	e.up.next(t)
	respID, msgID := str(t, first, "id"), str(t, outputItems(t, first)[0], "id")
	history := []any{
		map[string]any{"role": "user", "content": "Hi"},
		map[string]any{"role": "assistant", "content": "Hello world"},
		map[string]any{"role": "user", "content": "Again"},
	}

	st, body := e.postJSON(t, "/v1/api/responses", e.userKey, `{"model": "fake-text", "input": [
		{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]},
		{"type": "item_reference", "id": "`+msgID+`"},
		{"role": "user", "content": [{"type": "input_text", "text": "Again"}]}]}`)
	if st != http.StatusOK {
		t.Fatalf("item_reference: status %d: %v", st, body)
	}
	if up := e.up.next(t); !reflect.DeepEqual(up["messages"], history) {
		t.Errorf("item_reference: upstream messages = %v, want %v", up["messages"], history)
	}

	// The instructions are not carried over, as OpenAI's are not.
	st, body = e.postJSON(t, "/v1/responses", e.jwt, `{"model": "fake-text", "previous_response_id": "`+respID+`", "input": "Again"}`)
	if st != http.StatusOK || body["previous_response_id"] != respID {
		t.Fatalf("previous_response_id: status %d: %v", st, body)
	}
	if up := e.up.next(t); !reflect.DeepEqual(up["messages"], history) {
		t.Errorf("previous_response_id: upstream messages = %v, want %v", up["messages"], history)
	}
	// ... and that one chains on.
	st, _ = e.postJSON(t, "/v1/responses", e.jwt, `{"model": "fake-text", "previous_response_id": "`+str(t, body, "id")+`", "input": "Bye"}`)
	if up := e.up.next(t); st != http.StatusOK || len(up["messages"].([]any)) != 5 {
		t.Errorf("chained: status %d, upstream messages %v", st, up["messages"])
	}

	// Not stored, or not the caller's: not found.
	st, unstored := e.postJSON(t, "/v1/responses", e.userKey, `{"model": "fake-text", "input": "Hi", "store": false}`)
	if st != http.StatusOK || unstored["store"] != false {
		t.Fatalf("store false: status %d: %v", st, unstored)
	}
	e.up.next(t)
	otherJWT, _ := e.user(t, "other@example.com")
	for _, c := range []struct{ what, token, body, code string }{
		{"unstored item", e.userKey, `{"model": "fake-text", "input": [{"type": "item_reference", "id": "` + str(t, outputItems(t, unstored)[0], "id") + `"}]}`, "item_not_found"},
		{"unstored response", e.userKey, `{"model": "fake-text", "previous_response_id": "` + str(t, unstored, "id") + `", "input": "x"}`, "previous_response_not_found"},
		{"another's item", otherJWT, `{"model": "fake-text", "input": [{"type": "item_reference", "id": "` + msgID + `"}]}`, "item_not_found"},
		{"another's response", otherJWT, `{"model": "fake-text", "previous_response_id": "` + respID + `", "input": "x"}`, "previous_response_not_found"},
	} {
		st, body := e.postJSON(t, "/v1/responses", c.token, c.body)
		er := wantOAIError(t, c.what, st, body, http.StatusBadRequest, "invalid_request", c.code)
		if c.code == "item_not_found" && !strings.Contains(er["message"].(string), "store: false") {
			t.Errorf("%s: the message does not say what to do: %v", c.what, er["message"])
		}
	}

	// Streamed answers are stored too, function calls included.
	st, _, evs := e.respStream(t, "/v1/responses", e.userKey, strings.Replace(respToolsRequest, "%s", `"stream": true,`, 1))
	if st != http.StatusOK {
		t.Fatalf("stream: status %d", st)
	}
	e.up.next(t)
	out := outputItems(t, obj(t, evs[len(evs)-1].obj, "response"))
	st, body = e.postJSON(t, "/v1/responses", e.userKey, `{"model": "fake-tools", "input": [
		{"role": "user", "content": "Weather and time in Paris?"},
		{"type": "item_reference", "id": "`+str(t, out[0], "id")+`"},
		{"type": "item_reference", "id": "`+str(t, out[1], "id")+`"},
		{"type": "function_call_output", "call_id": "call_a", "output": "sunny"},
		{"type": "function_call_output", "call_id": "call_b", "output": "noon"}]}`)
	if st != http.StatusOK || messageText(t, outputItems(t, body)[0]) != "It is sunny in Paris." {
		t.Fatalf("referenced calls: status %d: %v", st, body)
	}
	up := e.up.next(t)
	if msgs := up["messages"].([]any); len(msgs) != 4 || len(msgs[1].(map[string]any)["tool_calls"].([]any)) != 2 {
		t.Errorf("referenced calls: upstream messages = %v", msgs)
	}
}

func TestSeed001ResponsesErrors(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{MaxBodyBytes: 4 << 10})
	const path = "/v1/api/responses"
	for _, c := range []struct {
		what, token, body string
		status            int
		typ, code, param  string
	}{
		{"no key", "", `{"model": "echo", "input": "hi"}`, 401, "authentication_error", "missing_api_key", ""},
		{"bad key", "atk_nope", `{"model": "echo", "input": "hi"}`, 401, "authentication_error", "invalid_api_key", ""},
		{"bad JSON", e.userKey, `{"model": "echo",`, 400, "invalid_request", "invalid_json", ""},
		{"empty body", e.userKey, ``, 400, "invalid_request", "invalid_json", ""},
		{"no model", e.userKey, `{"input": "hi"}`, 400, "invalid_request", "missing_parameter", "model"},
		{"no input", e.userKey, `{"model": "echo"}`, 400, "invalid_request", "missing_parameter", "input"},
		{"empty input", e.userKey, `{"model": "echo", "input": []}`, 400, "invalid_request", "invalid_value", "input"},
		{"input type", e.userKey, `{"model": "echo", "input": 5}`, 400, "invalid_request", "invalid_type", "input"},
		{"item type", e.userKey, `{"model": "echo", "input": [{"type": "web_search_call", "id": "ws_1"}]}`, 400, "invalid_request", "invalid_value", "input[0].type"},
		{"item not an object", e.userKey, `{"model": "echo", "input": ["hi"]}`, 400, "invalid_request", "invalid_type", "input[0]"},
		{"item role type", e.userKey, `{"model": "echo", "input": [{"role": 1, "content": "x"}]}`, 400, "invalid_request", "invalid_type", "input[0].role"},
		{"no type nor role", e.userKey, `{"model": "echo", "input": [{"content": "hi"}]}`, 400, "invalid_request", "missing_parameter", "input[0].type"},
		{"role", e.userKey, `{"model": "echo", "input": [{"role": "narrator", "content": "x"}]}`, 400, "invalid_request", "invalid_value", "input[0].role"},
		{"no content", e.userKey, `{"model": "echo", "input": [{"role": "user"}]}`, 400, "invalid_request", "missing_parameter", "input[0].content"},
		{"image", e.userKey, `{"model": "echo", "input": [{"role": "user", "content": [{"type": "input_text", "text": "what?"}, {"type": "input_image", "image_url": "https://x/y.png"}]}]}`, 400, "invalid_request", "unsupported_content", "input[0].content[1]"},
		{"call without call_id", e.userKey, `{"model": "echo", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}`, 400, "invalid_request", "missing_parameter", "input[0].call_id"},
		{"output without call", e.userKey, `{"model": "echo", "input": [{"role": "user", "content": "x"}, {"type": "function_call_output", "call_id": "call_x", "output": "1"}]}`, 400, "invalid_request", "invalid_value", "input[1].call_id"},
		{"output missing", e.userKey, `{"model": "echo", "input": [{"type": "function_call_output", "call_id": "call_x"}]}`, 400, "invalid_request", "missing_parameter", "input[0].output"},
		{"reference without id", e.userKey, `{"model": "echo", "input": [{"type": "item_reference"}]}`, 400, "invalid_request", "missing_parameter", "input[0].id"},
		{"unknown reference", e.userKey, `{"model": "echo", "input": [{"type": "item_reference", "id": "msg_nope"}]}`, 400, "invalid_request", "item_not_found", "input[0].id"},
		{"unknown previous", e.userKey, `{"model": "echo", "previous_response_id": "resp_nope", "input": "x"}`, 400, "invalid_request", "previous_response_not_found", "previous_response_id"},
		{"conversation", e.userKey, `{"model": "echo", "conversation": "conv_1", "input": "x"}`, 400, "invalid_request", "unsupported_parameter", "conversation"},
		{"background", e.userKey, `{"model": "echo", "background": true, "input": "x"}`, 400, "invalid_request", "unsupported_parameter", "background"},
		{"temperature", e.userKey, `{"model": "echo", "temperature": 3, "input": "x"}`, 400, "invalid_request", "invalid_value", "temperature"},
		{"max_output_tokens", e.userKey, `{"model": "echo", "max_output_tokens": 0, "input": "x"}`, 400, "invalid_request", "invalid_value", "max_output_tokens"},
		{"hosted tool", e.userKey, `{"model": "echo", "tools": [{"type": "web_search"}], "input": "x"}`, 400, "invalid_request", "invalid_value", "tools[0].type"},
		{"tool without name", e.userKey, `{"model": "echo", "tools": [{"type": "function"}], "input": "x"}`, 400, "invalid_request", "missing_parameter", "tools[0].name"},
		{"tool_choice unknown", e.userKey, `{"model": "echo", "tool_choice": {"type": "function", "name": "nope"}, "input": "x"}`, 400, "invalid_request", "invalid_value", "tool_choice"},
		{"tool_choice hosted", e.userKey, `{"model": "echo", "tool_choice": {"type": "web_search"}, "input": "x"}`, 400, "invalid_request", "invalid_value", "tool_choice"},
		{"required without tools", e.userKey, `{"model": "echo", "tool_choice": "required", "input": "x"}`, 400, "invalid_request", "invalid_value", "tool_choice"},
		{"too large", e.userKey, `{"model": "echo", "input": "` + strings.Repeat("x", 5<<10) + `"}`, 413, "invalid_request", "request_too_large", ""},
		{"unknown model", e.userKey, `{"model": "gpt-17", "input": "x"}`, 404, "invalid_request", "model_not_found", "model"},
		{"unavailable model", e.userKey, `{"model": "claude-3-haiku", "input": "x"}`, 400, "invalid_request", "model_not_available", "model"},
		{"upstream 429", e.userKey, `{"model": "fake-429", "input": "x"}`, 429, "rate_limit_error", "rate_limit_exceeded", ""},
		{"upstream 429 stream", e.userKey, `{"model": "fake-429", "stream": true, "input": "x"}`, 429, "rate_limit_error", "rate_limit_exceeded", ""},
		{"upstream 400", e.userKey, `{"model": "fake-400", "input": "x"}`, 400, "invalid_request", "context_length_exceeded", ""},
		{"upstream 500", e.userKey, `{"model": "fake-500", "input": "x"}`, 500, "server_error", "upstream_error", ""},
		{"upstream cut", e.userKey, `{"model": "fake-cut", "input": "x"}`, 500, "server_error", "upstream_error", ""},
	} {
		st, body := e.postJSON(t, path, c.token, c.body)
		er := wantOAIError(t, c.what, st, body, c.status, c.typ, c.code)
		if c.param != "" && er["param"] != c.param {
			t.Errorf("%s: param = %v, want %q", c.what, er["param"], c.param)
		}
		if m := er["message"].(string); strings.Contains(m, "Go ") || strings.Contains(m, "gateway.") {
			t.Errorf("%s: Go internals in the message %q", c.what, m)
		}
	}
}

// TestSeed001ResponsesCutStream checks an upstream that breaks off
// mid-answer ends the stream with an error event and response.failed, not
// response.completed.
func TestSeed001ResponsesCutStream(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	st, _, evs := e.respStream(t, "/v1/api/responses", e.userKey, `{"model": "fake-cut", "stream": true, "input": "hi"}`)
	if st != http.StatusOK {
		t.Fatalf("status %d: %v", st, evs)
	}
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "error", "response.failed"}
	if got := types(evs); !slices.Equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
	er := evs[5].obj
	if er["code"] != "upstream_error" || er["message"] == "" {
		t.Errorf("error event = %v", er)
	}
	wantOAIError(t, "error event", 500, er, 500, "server_error", "upstream_error")
	failed := obj(t, evs[6].obj, "response")
	if failed["status"] != "failed" || obj(t, failed, "error")["code"] != "upstream_error" {
		t.Errorf("response.failed = %v", failed)
	}
	if out := outputItems(t, failed); len(out) != 1 || messageText(t, out[0]) != "partial" || out[0]["status"] != "incomplete" {
		t.Errorf("failed output = %v", out)
	}
}

// TestSeed001ResponsesPing checks a stream whose model is slow to start
// gets ": ping" comments before its first event.
func TestSeed001ResponsesPing(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{StreamPing: 20 * time.Millisecond})
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/responses", strings.NewReader(`{"model": "fake-slow", "stream": true, "input": "hi"}`))
	req.Header.Set("Authorization", "Bearer "+e.userKey)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// Let the answer go after two pings, reading the stream meanwhile.
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(resp.Body)
		pings := 0
		for sc.Scan() {
			if sc.Text() == ": ping" {
				if pings++; pings == 2 {
					close(e.up.release)
				}
			}
			fmt.Fprintln(pw, sc.Text())
		}
		pw.Close()
	}()
	evs := readRespEvents(t, pr)
	if len(evs) < 3 || evs[0].comment != "ping" || evs[1].comment != "ping" {
		t.Fatalf("events = %v, want pings first", evs)
	}
	var text strings.Builder
	for _, ev := range evs {
		if ev.typ == "response.output_text.delta" {
			text.WriteString(ev.obj["delta"].(string))
		}
	}
	if last := evs[len(evs)-1]; last.typ != "response.completed" || text.String() != "late" {
		t.Errorf("after the pings: %q, last event %v", text.String(), last)
	}
}

// TestSeed001ResponsesClientDisconnect checks a client that goes away
// cancels the upstream call at once.
func TestSeed001ResponsesClientDisconnect(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	for _, stream := range []bool{true, false} {
		ctx, cancel := context.WithCancel(context.Background())
		body := fmt.Sprintf(`{"model": "fake-hang", "stream": %v, "input": "hi"}`, stream)
		req, _ := http.NewRequestWithContext(ctx, "POST", e.srv.URL+"/v1/api/responses", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.userKey)
		done := make(chan error, 1)
		go func() {
			resp, err := e.srv.Client().Do(req)
			if err == nil {
				if stream {
					// Read up to the first delta, then leave.
					br := bufio.NewReader(resp.Body)
					for {
						line, rerr := br.ReadString('\n')
						if strings.Contains(line, `"delta":"thinking"`) {
							break
						}
						if rerr != nil {
							err = fmt.Errorf("stream ended before the first delta: %v", rerr)
							break
						}
					}
					cancel()
				}
				resp.Body.Close()
			}
			done <- err
		}()
		e.up.next(t)
		if !stream {
			cancel()
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

// TestSeed001ResponsesAgent checks an agent answers /responses as it
// answers chat completions: by its id with its owner's token or its key.
func TestSeed001ResponsesAgent(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{"system_prompt":"Be kind."}`)
	for _, auth := range []string{owner, key} {
		st, body := e.do(t, "POST", "/v1/responses", auth, `{"model":"`+id+`","input":"hello agent"}`)
		if st != http.StatusOK || body["model"] != id || body["status"] != "completed" {
			t.Fatalf("agent response = %d %v", st, body)
		}
		if text := messageText(t, outputItems(t, body)[0]); !strings.HasPrefix(text, "This is the echo model") {
			t.Errorf("agent answer = %q", text)
		}
	}
	st, data, _ := e.send(t, "POST", "/v1/api/responses", map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"},
		`{"model":"`+id+`","stream":true,"input":[{"role":"user","content":"hello stream"}]}`)
	evs := readRespEvents(t, strings.NewReader(data))
	var text strings.Builder
	for _, ev := range evs {
		if ev.typ == "response.output_text.delta" {
			text.WriteString(ev.obj["delta"].(string))
		}
	}
	if st != 200 || len(evs) == 0 || evs[len(evs)-1].typ != "response.completed" || !strings.HasPrefix(text.String(), "This is the echo model") {
		t.Fatalf("agent stream = %d %s", st, data)
	}
	stranger, _ := e.user(t, "stranger@x.io")
	if st, body := e.do(t, "POST", "/v1/responses", stranger, `{"model":"`+id+`","input":"x"}`); st != http.StatusNotFound {
		t.Fatalf("stranger = %d %v", st, body)
	}
}
