package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// fakeOpenAI is a local server speaking OpenAI's streaming chat-completions
// protocol. Asked with tools and no tool result yet, it calls url_resolver
// on page (its arguments split over chunks); with a tool result, it
// answers with the start of it; without tools it says which model it is
// and what the last message was.
type fakeOpenAI struct {
	page string

	mu   sync.Mutex
	reqs []map[string]any
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" {
		w.WriteHeader(404)
		return
	}
	var req map[string]any
	json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	model, _ := req["model"].(string)
	switch model {
	case "gpt-4-turbo": // the upstream refuses
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		fmt.Fprint(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`)
		return
	case "mistral-nemo": // the stream is cut mid-way
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"mistral-nemo","choices":[{"index":0,"delta":{"role":"assistant","content":"Half an ans"},"finish_reason":null}]}`+"\n\n")
		return
	}
	msgs, _ := req["messages"].([]any)
	last, _ := msgs[len(msgs)-1].(map[string]any)
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta map[string]any, finish any, usage any) {
		c := map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}}}
		if usage != nil {
			c["choices"], c["usage"] = []any{}, usage
		}
		b, _ := json.Marshal(c)
		fmt.Fprintf(w, "data: %s\n\n", b)
		w.(http.Flusher).Flush()
	}
	usage := map[string]any{"prompt_tokens": 12, "completion_tokens": 8, "total_tokens": 20}
	switch {
	case req["tools"] != nil && last["role"] == "user":
		args, _ := json.Marshal(map[string]string{"url": f.page})
		chunk(map[string]any{"role": "assistant", "content": "Let me fetch that."}, nil, nil)
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_1", "type": "function",
			"function": map[string]any{"name": "url_resolver", "arguments": string(args[:10])}}}}, nil, nil)
		chunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "function": map[string]any{"arguments": string(args[10:])}}}}, nil, nil)
		chunk(map[string]any{}, "tool_calls", nil)
	case last["role"] == "tool":
		content, _ := last["content"].(string)
		for _, piece := range []string{"The page ", "says: ", firstLine(content, "Opening hours")} {
			chunk(map[string]any{"content": piece}, nil, nil)
		}
		chunk(map[string]any{}, "stop", nil)
	default:
		content, _ := last["content"].(string)
		chunk(map[string]any{"role": "assistant", "content": "[" + model + "] "}, nil, nil)
		chunk(map[string]any{"content": "re: " + content}, nil, nil)
		chunk(map[string]any{}, "stop", nil)
	}
	chunk(nil, nil, usage)
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func (f *fakeOpenAI) requests() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.reqs...)
}

// firstLine returns the line of s containing sub.
func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return "(not found)"
}

// TestUpstreamFailuresFailRunsCleanly: an upstream error and a stream cut
// mid-way each end the run with run.failed and a stored error, keeping the
// partial answer.
func TestUpstreamFailuresFailRunsCleanly(t *testing.T) {
	t.Parallel()
	llm := httptest.NewServer(&fakeOpenAI{})
	defer llm.Close()
	n := startNode(t, []string{
		"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + sqldbtest.URL(t), "ATRIUM_LOG_LEVEL=error",
		"OPENAI_BASE_URL=" + llm.URL + "/v1", "OPENAI_API_KEY=sk-test",
	})
	owner := register(t, n.url, "owner@example.com")
	_, body := call(t, "POST", n.url+"/workspace", owner, `{"name":"W"}`)
	ws := body["workspace"].(map[string]any)["workspace_id"].(string)
	watcher := dialLive(t, n.url, owner)
	for _, tc := range []struct{ model, content, msg string }{
		{"gpt-4-turbo", "", "status 429"},
		{"mistral-nemo", "Half an ans", "the stream ended before the model finished"},
	} {
		_, body := call(t, "POST", n.url+"/api/agents/", owner, `{"name":"A","model_id":"`+tc.model+`"}`)
		agent := body["id"].(string)
		_, body = call(t, "POST", n.url+"/chat?workspace_id="+ws, owner, "")
		chat := body["chat"].(map[string]any)["chat_id"].(string)
		if st, body := call(t, "POST", n.url+"/workspace/"+ws+"/agent", owner, `{"agent_id":"`+agent+`"}`); st != 200 {
			t.Fatalf("attach = %d %v", st, body)
		}
		watcher.send("join", map[string]any{"chat_id": chat})
		_, body = call(t, "GET", n.url+"/chat/authorize/message?chat_id="+chat, owner, "")
		watcher.send("message", map[string]any{"chat_id": chat, "message_string": body["message_string"], "content": "hello"})
		evs := watcher.until("run.failed")
		data := evs[len(evs)-1]["data"].(map[string]any)
		e := data["error"].(map[string]any)
		m := data["message"].(map[string]any)
		if e["code"] != "provider_error" || !strings.Contains(e["message"].(string), tc.msg) || m["content"] != tc.content || m["status"] != "failed" {
			t.Fatalf("%s: run.failed = %v", tc.model, data)
		}
		_, hist := call(t, "GET", n.url+"/chat/"+chat+"/messages", owner, "")
		msgs := hist["messages"].([]any)
		stored := msgs[len(msgs)-1].(map[string]any)
		if stored["status"] != "failed" || !strings.Contains(fmt.Sprint(stored["error"]), tc.msg) {
			t.Fatalf("%s: stored = %v", tc.model, stored)
		}
		call(t, "DELETE", n.url+"/workspace/"+ws+"/agent", owner, `{"agent_id":"`+agent+`"}`)
	}
}

// TestPublishedAgentAnswersThroughOpenAIWithATool is issue 4's "done": an
// agent created over REST, published, given an agent API key, answers
// through the OpenAI-compatible provider (a local server) with a tool call
// in the middle, streaming to every watcher of its chat; its script
// variant runs seed 003's examples.
func TestPublishedAgentAnswersThroughOpenAIWithATool(t *testing.T) {
	t.Parallel()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><head><title>Shop</title><script>var secret = 1;</script></head><body><h1>Welcome 🛒</h1><p>Opening hours: 9 to 5</p></body></html>`)
	}))
	defer page.Close()
	upstream := &fakeOpenAI{page: page.URL + "/hours"}
	llm := httptest.NewServer(upstream)
	defer llm.Close()

	n := startNode(t, []string{
		"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + sqldbtest.URL(t), "ATRIUM_LOG_LEVEL=warn",
		"OPENAI_BASE_URL=" + llm.URL + "/v1", "OPENAI_API_KEY=sk-test", "ATRIUM_TOOLS_ALLOW_HOSTS=127.0.0.1",
	})
	owner := register(t, n.url, "owner@example.com")
	member := register(t, n.url, "member@example.com")

	st, body := call(t, "POST", n.url+"/api/agents/", owner, `{"name":"Shop helper","model_id":"gpt-4o-mini","configuration":{"system_prompt":"You help shoppers.","enabled_tools":["url_resolver"]}}`)
	if st != 201 {
		t.Fatalf("create agent = %d %v", st, body)
	}
	agent := body["id"].(string)
	if st, body = call(t, "POST", n.url+"/api/agents/"+agent+"/publish/", owner, ""); st != 200 {
		t.Fatalf("publish = %d %v", st, body)
	}
	st, body = call(t, "POST", n.url+"/api/agents/"+agent+"/api-keys/", owner, `{"name":"shop"}`)
	key, _ := body["key"].(string)
	if st != 201 || key == "" {
		t.Fatalf("agent key = %d %v", st, body)
	}
	if st, body := callKey(t, "GET", n.url+"/api/agents/"+agent+"/status/", key); st != 200 || body["model_available"] != true {
		t.Fatalf("status with the key = %d %v", st, body)
	}

	// A workspace with the agent, its owner and a member watching a chat.
	_, body = call(t, "POST", n.url+"/workspace", owner, `{"name":"Shop"}`)
	ws := body["workspace"].(map[string]any)["workspace_id"].(string)
	call(t, "POST", n.url+"/workspace/"+ws+"/members", owner, `{"email":"member@example.com"}`)
	if st, body := call(t, "POST", n.url+"/workspace/"+ws+"/agent", owner, `{"agent_id":"`+agent+`"}`); st != 200 {
		t.Fatalf("attach = %d %v", st, body)
	}
	_, body = call(t, "POST", n.url+"/chat?workspace_id="+ws, owner, "")
	chat := body["chat"].(map[string]any)["chat_id"].(string)
	watchers := []*liveClient{dialLive(t, n.url, owner), dialLive(t, n.url, member)}
	for _, w := range watchers {
		w.send("join", map[string]any{"chat_id": chat})
	}
	_, body = call(t, "GET", n.url+"/chat/authorize/message?chat_id="+chat, member, "")
	watchers[1].send("message", map[string]any{"chat_id": chat, "message_string": body["message_string"], "content": "When are you open?"})

	var seen [][]string
	for _, w := range watchers {
		var types []string
		var answer string
		for _, ev := range w.until("run.completed") {
			if strings.HasPrefix(ev["type"].(string), "presence.") {
				continue
			}
			types = append(types, ev["type"].(string))
			data, _ := ev["data"].(map[string]any)
			switch ev["type"] {
			case "tool.call":
				if data["name"] != "url_resolver" {
					t.Fatalf("tool.call = %v", data)
				}
			case "tool.result":
				if res, _ := data["result"].(string); !strings.Contains(res, "Opening hours: 9 to 5") || strings.Contains(res, "secret") || data["error"] != nil {
					t.Fatalf("tool.result = %v", data)
				}
			case "run.completed":
				answer = data["message"].(map[string]any)["content"].(string)
			}
		}
		if answer != "Let me fetch that.\n\nThe page says: Opening hours: 9 to 5" {
			t.Fatalf("answer = %q", answer)
		}
		seen = append(seen, types)
	}
	if strings.Join(seen[0], ",") != strings.Join(seen[1], ",") || !strings.Contains(strings.Join(seen[0], ","), "run.delta,tool.call,tool.result,run.delta") {
		t.Fatalf("watchers saw %v and %v", seen[0], seen[1])
	}
	// The upstream got the system prompt, the tool's schema and, second
	// time round, the tool's result.
	reqs := upstream.requests()
	first, _ := json.Marshal(reqs[0])
	if len(reqs) != 2 || !strings.Contains(string(first), "You help shoppers.") || !strings.Contains(string(first), `"url_resolver"`) || reqs[0]["model"] != "gpt-4o-mini" {
		t.Fatalf("upstream requests = %s", first)
	}
	// The interaction is in the agent's history, with seed 003's timings.
	st, body = callKey(t, "GET", n.url+"/api/agents/"+agent+"/history/", key)
	logs, _ := body["results"].([]any)
	if st != 200 || len(logs) != 1 {
		t.Fatalf("history = %d %v", st, body)
	}
	l := logs[0].(map[string]any)
	if l["iterations"] != float64(2) || l["tool_calls"] != float64(1) || l["input_tokens"] != float64(24) || l["prompt"] != "When are you open?" || l["credits"] != 0.5 {
		t.Fatalf("log = %v", l)
	}

	// The script variant: seed 003's two examples, unchanged.
	for _, tc := range []struct {
		script, want string
		models       []string
	}{
		{"initial_response = query(\"gpt-4o\", conversation)\nfollow_up = add(\"user\", f\"Explain your reasoning for that\", conversation)\nfinal_response = query(\"gpt-4\", conversation)\n",
			"[gpt-4] re: Explain your reasoning for that", []string{"gpt-4o", "gpt-4"}},
		{"if len(conversation) > 10:\n    response = query(\"gemini-1.5-flash-latest\", conversation) # Use a faster, less expensive model for large conversations\nelse:\n    response = query(\"gpt-4\", conversation) # More powerful model\n",
			// The chat is long by now: the first branch.
			"[gemini-1.5-flash-latest] re: Why?", []string{"gemini-1.5-flash-latest"}},
	} {
		before := len(upstream.requests())
		st, body := call(t, "PATCH", n.url+"/api/agents/"+agent+"/", owner, `{"script":`+jsonString(tc.script)+`,"configuration":{"tools_enabled":false}}`)
		if st != 200 {
			t.Fatalf("set script = %d %v", st, body)
		}
		// The runner reuses a loaded agent for up to 2 s: ask until the
		// script answers.
		var answer string
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
			_, body = call(t, "GET", n.url+"/chat/authorize/message?chat_id="+chat, owner, "")
			watchers[0].send("message", map[string]any{"chat_id": chat, "message_string": body["message_string"], "content": "Why?"})
			evs := watchers[0].until("run.completed")
			answer = evs[len(evs)-1]["data"].(map[string]any)["message"].(map[string]any)["content"].(string)
			if answer == tc.want {
				break
			}
			before = len(upstream.requests())
		}
		if answer != tc.want {
			t.Fatalf("script answer = %q, want %q", answer, tc.want)
		}
		var models []string
		for _, r := range upstream.requests()[before:] {
			models = append(models, r["model"].(string))
		}
		if strings.Join(models, ",") != strings.Join(tc.models, ",") {
			t.Fatalf("the script asked %v, want %v", models, tc.models)
		}
	}
	// A new chat is short: the second branch.
	_, body = call(t, "POST", n.url+"/chat?workspace_id="+ws, owner, "")
	chat = body["chat"].(map[string]any)["chat_id"].(string)
	watchers[0].send("join", map[string]any{"chat_id": chat})
	_, body = call(t, "GET", n.url+"/chat/authorize/message?chat_id="+chat, owner, "")
	watchers[0].send("message", map[string]any{"chat_id": chat, "message_string": body["message_string"], "content": "Why?"})
	evs := watchers[0].until("run.completed")
	if answer := evs[len(evs)-1]["data"].(map[string]any)["message"].(map[string]any)["content"]; answer != "[gpt-4] re: Why?" {
		t.Fatalf("script answer in a new chat = %q", answer)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// register makes a user and returns their token.
func register(t *testing.T, base, email string) string {
	t.Helper()
	creds := `{"email":"` + email + `","password":"pw-123456"}`
	call(t, "POST", base+"/register", "", creds)
	_, body := call(t, "POST", base+"/auth/login", "", creds)
	token, _ := body["access_token"].(string)
	if token == "" {
		t.Fatalf("login %s: %v", email, body)
	}
	return token
}

// callKey is call with an agent API key.
func callKey(t *testing.T, method, url, key string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	req.Header.Set("Authorization", "ApiKey "+key)
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}
