package gateway_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/workspaces"
)

// wantAPIError checks seed 000's error shape: {"error": message, "detail"}.
func wantAPIError(t *testing.T, what string, st int, body map[string]any, status int, contains string) {
	t.Helper()
	msg, _ := body["error"].(string)
	if st != status || msg == "" || !strings.Contains(msg, contains) || body["detail"] == nil {
		t.Fatalf("%s = %d %v, want %d with an error containing %q", what, st, body, status, contains)
	}
}

func TestCreateAndListAgents(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, aliceID := e.user(t, "alice@x.io")
	bob, _ := e.user(t, "bob@x.io")

	st, body := e.do(t, "POST", "/api/agents/", alice, `{"name":"Customer Support Bot","description":"Helps","model_id":"echo","agent_type":"quick_bot","configuration":{"system_prompt":"Be kind.","use_rag":true}}`)
	if st != 201 || body["name"] != "Customer Support Bot" || body["model_id"] != "echo" || body["status"] != "draft" || body["owner"] != aliceID || body["agent_type"] != "quick_bot" {
		t.Fatalf("create = %d %v", st, body)
	}
	if cfg := obj(t, body, "configuration"); cfg["system_prompt"] != "Be kind." {
		t.Fatalf("configuration = %v", cfg)
	}
	id := str(t, body, "id")

	for _, tc := range []struct{ body, contains string }{
		{`{"model_id":"echo"}`, "name"},
		{`{"name":"x"}`, "model_id"},
		{`{"name":"x","model_id":"gpt-nope"}`, "Unknown model_id"},
		{`{"name":"x","model_id":999}`, "Unknown model_id '999'"},
		{`{"name":"x","model_id":"echo","configuration":[1]}`, "configuration"},
		{`{"name":7,"model_id":"echo"}`, "name"},
		{`[]`, "JSON"},
	} {
		st, body := e.do(t, "POST", "/api/agents/", alice, tc.body)
		wantAPIError(t, "create "+tc.body, st, body, 400, tc.contains)
	}
	st, body = e.do(t, "POST", "/api/agents/", "", `{"name":"x","model_id":"echo"}`)
	wantAPIError(t, "create without a token", st, body, 401, "Authorization")

	// Each user lists only their own agents.
	st, body = e.do(t, "GET", "/api/agents/", alice, "")
	if results, _ := body["results"].([]any); st != 200 || len(results) != 1 || results[0].(map[string]any)["id"] != id || body["count"] != float64(1) {
		t.Fatalf("alice's list = %d %v", st, body)
	}
	st, body = e.do(t, "GET", "/api/agents/", bob, "")
	if results, _ := body["results"].([]any); st != 200 || len(results) != 0 {
		t.Fatalf("bob's list = %d %v", st, body)
	}
	// The agent can be attached to a workspace as seed 002 says.
	ws := e.workspace(t, alice, "W")
	st, body = e.do(t, "POST", "/workspace/"+ws+"/agent", alice, fmt.Sprintf(`{"agent_id":%q}`, id))
	if st != 200 {
		t.Fatalf("attach = %d %v", st, body)
	}
}

func TestChatHistoryPagesAndIsScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, ownerID := e.user(t, "owner@x.io")
	stranger, _ := e.user(t, "stranger@x.io")
	ws := e.workspace(t, owner, "W")
	chat := e.chat(t, owner, ws)
	for i := range 5 {
		if _, err := e.conv.Send(context.Background(), workspaces.WorkspaceID(ws), workspaces.ChatID(chat), workspaces.UserID(ownerID), fmt.Sprintf("m%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	st, body := e.do(t, "GET", "/chat/"+chat+"/messages?limit=2", owner, "")
	msgs, _ := body["messages"].([]any)
	if st != 200 || len(msgs) != 2 || body["has_more"] != true {
		t.Fatalf("first page = %d %v", st, body)
	}
	if m := msgs[1].(map[string]any); m["content"] != "m4" || obj(t, m, "author")["email"] != "owner@x.io" {
		t.Fatalf("newest message = %v", m)
	}
	var all []string
	before := str(t, body, "next_before")
	for _, m := range msgs {
		all = append(all, m.(map[string]any)["content"].(string))
	}
	for before != "" {
		st, body = e.do(t, "GET", "/chat/"+chat+"/messages?limit=2&before="+before, owner, "")
		if st != 200 {
			t.Fatalf("page = %d %v", st, body)
		}
		page, _ := body["messages"].([]any)
		var contents []string
		for _, m := range page {
			contents = append(contents, m.(map[string]any)["content"].(string))
		}
		all = append(contents, all...)
		before, _ = body["next_before"].(string)
	}
	if strings.Join(all, ",") != "m0,m1,m2,m3,m4" {
		t.Fatalf("paged history = %v", all)
	}
	st, body = e.do(t, "GET", "/chat/"+chat+"/messages", stranger, "")
	want(t, "stranger reads history", st, body, 401, "User is not the owner of the chat")
	st, body = e.do(t, "GET", "/chat/0123456789abcdef0123456789abcdef/messages", owner, "")
	want(t, "unknown chat", st, body, 404, "Chat not found")
	st, body = e.do(t, "GET", "/chat/"+chat+"/messages?limit=0", owner, "")
	want(t, "bad limit", st, body, 400, "limit must be a number from 1 to 200")
	st, body = e.do(t, "GET", "/chat/"+chat+"/messages?before=nope", owner, "")
	want(t, "bad cursor", st, body, 400, "before must be a message id of this chat")

	// Deleting the chat drops its history.
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chat, owner, "")
	want(t, "delete chat", st, body, 200, "Chat deleted successfully")
	st, body = e.do(t, "GET", "/chat/"+chat+"/messages", owner, "")
	want(t, "history of a deleted chat", st, body, 404, "Chat not found")
}
