package gateway_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// seed003 posts a seed 003 JSON body.
func (e *env) seed003(t *testing.T, method, path string, body map[string]any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, obj := e.raw(t, method, path, map[string]string{"Content-Type": "application/json"}, string(b))
	return resp.StatusCode, obj
}

func TestSeed003ToolAPI(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	bob, _ := e.user(t, "bob@x.io")
	_, k := e.do(t, "POST", "/api/keys/", alice, `{"name":"trust"}`)
	key := str(t, k, "key")

	schema := map[string]any{"type": "object", "properties": map[string]any{"param1": map[string]any{"type": "string"}, "param2": map[string]any{"type": "integer"}}, "required": []any{"param1"}}
	st, body := e.seed003(t, "POST", "/create_tool", map[string]any{"api_key": key, "name": "My New Tool", "description": "A tool for doing things", "type": "Custom", "tool_schema": schema})
	if st != 201 || body["message"] != "Tool created successfully" {
		t.Fatalf("create_tool = %d %v", st, body)
	}
	id, ok := body["tool_id"].(float64)
	if !ok || id <= 0 || id != float64(int64(id)) {
		t.Fatalf("tool_id = %v, want an integer", body["tool_id"])
	}
	st, body = e.seed003(t, "POST", "/create_tool", map[string]any{"session_id": alice, "name": "Terms", "description": "Search the terms", "type": "File Search"})
	if st != 201 {
		t.Fatalf("create File Search = %d %v", st, body)
	}

	st, body = e.seed003(t, "POST", "/get_tools", map[string]any{"api_key": key})
	tools, _ := body["tools"].([]any)
	if st != 200 || len(tools) != 2 {
		t.Fatalf("get_tools = %d %v", st, body)
	}
	first := tools[0].(map[string]any)
	if first["id"] != id || first["name"] != "My New Tool" || first["type"] != "Custom" || !reflect.DeepEqual(first["tool_schema"], schema) {
		t.Fatalf("get_tools[0] = %v", first)
	}
	if tools[1].(map[string]any)["indexed"] != false {
		t.Fatalf("a File Search tool is reported as not indexed: %v", tools[1])
	}
	// Bob sees none of Alice's tools.
	if _, body := e.seed003(t, "POST", "/get_tools", map[string]any{"session_id": bob}); len(body["tools"].([]any)) != 0 {
		t.Fatalf("Bob's tools = %v", body)
	}

	tid := fmt.Sprint(int64(id))
	st, body = e.seed003(t, "PUT", "/update_tool", map[string]any{"api_key": key, "toolId": int64(id), "toolName": "Updated Tool Name",
		"parameters": []any{map[string]any{"name": "param1", "type": "string", "description": "Parameter 1", "required": true}},
		"file":       "aGVsbG8="})
	if st != 200 || body["message"] != "Tool updated successfully" {
		t.Fatalf("update_tool = %d %v", st, body)
	}
	st, body = e.seed003(t, "POST", "/get_tool_details", map[string]any{"api_key": key, "toolId": tid})
	if st != 200 || body["name"] != "Updated Tool Name" || body["description"] != "A tool for doing things" || body["file"] != "aGVsbG8=" ||
		!reflect.DeepEqual(body["tool_schema"], schema) || len(body["parameters"].([]any)) != 1 {
		t.Fatalf("get_tool_details = %d %v", st, body)
	}

	for _, tc := range []struct {
		method, path string
		body         map[string]any
		status       int
		msg          string
	}{
		{"POST", "/create_tool", map[string]any{"api_key": key, "name": "n", "type": "Custom"}, 400, "Tool name, description, and type are required"},
		{"POST", "/create_tool", map[string]any{"api_key": key, "name": "n", "description": 5, "type": "Custom"}, 400, "Tool name, description, and type must be strings"},
		{"POST", "/create_tool", map[string]any{"api_key": key, "name": " ", "description": "d", "type": "Custom"}, 400, "Tool name, description, and type cannot be empty"},
		{"POST", "/create_tool", map[string]any{"api_key": key, "name": "n", "description": "d", "type": "Robot"}, 400, "Tool type must be 'File Search' or 'Custom'"},
		{"POST", "/create_tool", map[string]any{"api_key": key, "name": "n", "description": "d", "type": "Custom", "tool_schema": "x"}, 400, "Invalid value for 'tool_schema': expected a JSON schema object"},
		{"POST", "/create_tool", map[string]any{"api_key": "atk_nope", "name": "n", "description": "d", "type": "Custom"}, 401, "Not authenticated, invalid session id or api key"},
		{"POST", "/get_tools", map[string]any{}, 401, "Not authenticated, invalid session id or api key"},
		{"PUT", "/update_tool", map[string]any{"api_key": key, "toolName": "x"}, 400, "Tool ID is required"},
		{"PUT", "/update_tool", map[string]any{"session_id": bob, "toolId": tid, "toolName": "x"}, 404, "Tool not found or unauthorized"},
		{"POST", "/get_tool_details", map[string]any{"api_key": key}, 400, "Tool ID is required"},
		{"POST", "/get_tool_details", map[string]any{"session_id": bob, "toolId": tid}, 404, "Tool not found"},
		{"POST", "/get_tool_details", map[string]any{"api_key": key, "toolId": "abc"}, 404, "Tool not found"},
		{"DELETE", "/delete_tool/" + tid, map[string]any{"session_id": bob}, 404, "Tool not found or unauthorized"},
		{"DELETE", "/delete_tool/nope", map[string]any{"api_key": key}, 404, "Tool not found or unauthorized"},
	} {
		st, body := e.seed003(t, tc.method, tc.path, tc.body)
		if st != tc.status || body["error"] != tc.msg {
			t.Errorf("%s %s %v = %d %v, want %d %q", tc.method, tc.path, tc.body, st, body, tc.status, tc.msg)
		}
	}

	st, body = e.seed003(t, "DELETE", "/delete_tool/"+tid, map[string]any{"api_key": key})
	if st != 200 || body["message"] != "Tool deleted successfully" {
		t.Fatalf("delete_tool = %d %v", st, body)
	}
	if st, _ := e.seed003(t, "POST", "/get_tool_details", map[string]any{"api_key": key, "toolId": tid}); st != 404 {
		t.Fatalf("deleted tool's details = %d", st)
	}
}

// TestSeed003ToolCallsAskAndHandOver follows seed 003's tool example: the
// agent names a tool and its parameters for the caller to run, or asks the
// user for a missing one.
func TestSeed003ToolCallsAskAndHandOver(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	schema := map[string]any{"type": "object", "properties": map[string]any{"order_number": map[string]any{"type": "string"}}, "required": []any{"order_number"}}
	if st, body := e.seed003(t, "POST", "/create_tool", map[string]any{"session_id": owner, "name": "Get delivery date", "description": "When an order arrives", "type": "Custom", "tool_schema": schema}); st != 201 {
		t.Fatalf("create_tool = %d %v", st, body)
	}
	if st, body := e.seed003(t, "PUT", "/update_agent", map[string]any{"session_id": owner, "modelId": id, "tools": []string{"Get delivery date"}}); st != 200 {
		t.Fatalf("update_agent = %d %v", st, body)
	}
	// The agent now has exactly that tool.
	if st, body := e.do(t, "GET", "/api/agents/"+id+"/tools/", owner, ""); st != 200 || body["count"] != float64(1) {
		t.Fatalf("agent tools = %d %v", st, body)
	}
	ask := func(session, content string) map[string]any {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"message": map[string]any{"role": "user", "content": content}})
		resp, obj := e.raw(t, "POST", "/v2/"+id, map[string]string{"Authorization": key, "session": session, "Content-Type": "application/json"}, string(b))
		if resp.StatusCode != 200 {
			t.Fatalf("v2 = %d %v", resp.StatusCode, obj)
		}
		return obj
	}
	// The echo model calls the tool without the order number: the agent asks.
	body := ask("s1", `/tool Get_delivery_date {}`)
	want := []any{map[string]any{"name": "Get delivery date", "question": "Could you please tell me your order number?"}}
	if body["status"] != "success" || body["message"] != "Tool call(s) initiated" || !reflect.DeepEqual(body["tool_calls"], want) {
		t.Fatalf("question = %v", body)
	}
	// The thread shows the question as the agent's answer.
	_, conv := e.withKey(t, "POST", "/api/find_conversation", key, `{"conversation_id":"`+str(t, body, "conversation_id")+`"}`)
	if msgs := fmt.Sprint(conv["messages"]); !strings.Contains(msgs, "Could you please tell me your order number?") {
		t.Fatalf("conversation = %v", conv)
	}
	// With the parameter the call is the caller's to make.
	body = ask("s1", `/tool Get_delivery_date {"order_number":"ORD-789"}`)
	want = []any{map[string]any{"name": "Get delivery date", "parameters": map[string]any{"order_number": "ORD-789"}}}
	if body["message"] != "Tool call(s) initiated" || !reflect.DeepEqual(body["tool_calls"], want) {
		t.Fatalf("hand over = %v", body)
	}
	// A plain question is answered as before.
	if body := ask("s1", "thanks"); body["data"] == nil || body["tool_calls"] != nil {
		t.Fatalf("plain answer = %v", body)
	}
}

// TestSeed003UpdateAgentToolsIsAllOrNothing: a tool made twice under one
// name is attached once (the newest), and an update refused for its tools
// saves none of its other fields.
func TestSeed003UpdateAgentToolsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, _ := e.publishedAgent(t, owner, `{}`)
	var newest any
	for range 2 {
		st, body := e.seed003(t, "POST", "/create_tool", map[string]any{"session_id": owner, "name": "Get delivery date", "description": "When an order arrives", "type": "Custom"})
		if st != 201 {
			t.Fatalf("create_tool = %d %v", st, body)
		}
		newest = body["tool_id"]
	}
	if st, body := e.seed003(t, "PUT", "/update_agent", map[string]any{"session_id": owner, "modelId": id, "tools": []string{"Get delivery date"}}); st != 200 {
		t.Fatalf("update_agent with a tool made twice = %d %v", st, body)
	}
	st, body := e.do(t, "GET", "/api/agents/"+id+"/tools/", owner, "")
	if st != 200 || body["count"] != float64(1) || !strings.Contains(fmt.Sprint(body["results"]), fmt.Sprint(newest)) {
		t.Fatalf("agent tools = %d %v, want the newest tool %v alone", st, body, newest)
	}

	// More tools than an agent may have: refused, and the name is not saved.
	var names []string
	for i := range 11 {
		name := fmt.Sprintf("tool %d", i)
		if st, body := e.seed003(t, "POST", "/create_tool", map[string]any{"session_id": owner, "name": name, "description": "d", "type": "Custom"}); st != 201 {
			t.Fatalf("create_tool = %d %v", st, body)
		}
		names = append(names, name)
	}
	st, body = e.seed003(t, "PUT", "/update_agent", map[string]any{"session_id": owner, "modelId": id, "modelName": "Renamed", "tools": names})
	if st != 400 || !strings.Contains(fmt.Sprint(body["error"]), "at most 10") {
		t.Fatalf("update_agent with 11 tools = %d %v", st, body)
	}
	st, body = e.seed003(t, "POST", "/get_agent_details", map[string]any{"session_id": owner, "modelId": id})
	if st != 200 || body["modelName"] == "Renamed" || !strings.Contains(fmt.Sprint(body["tools"]), "Get delivery date") {
		t.Fatalf("after a refused update the agent is %d %v", st, body)
	}
}
