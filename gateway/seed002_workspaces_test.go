package gateway_test

import (
	"slices"
	"strings"
	"testing"
)

func TestSeed002WorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "owner@example.com")

	// Create: no body, empty object and blank name get the default name.
	for _, b := range []string{"", `{}`, `{"name": ""}`, `{"name": "   "}`, `{"name": null}`} {
		st, body := e.do(t, "POST", "/workspace", token, b)
		want(t, "create "+b, st, body, 200, "Workspace created")
		w := obj(t, body, "workspace")
		if w["name"] != "Untitled Workspace" || w["owner"] != uid {
			t.Fatalf("create %q: workspace = %v", b, w)
		}
		str(t, w, "workspace_id")
	}
	for _, b := range []string{`{"name": 5}`, `{"name": ["x"]}`, `[]`, `{"name":`, `{"name": "` + strings.Repeat("n", 201) + `"}`} {
		st, body := e.do(t, "POST", "/workspace", token, b)
		wantErr(t, "create "+b, st, body, 400)
	}

	st, body := e.do(t, "POST", "/workspace", token, `{"name": "My New Workspace"}`)
	want(t, "create named", st, body, 200, "Workspace created")
	created := obj(t, body, "workspace")
	ws := str(t, created, "workspace_id")
	if created["name"] != "My New Workspace" || created["owner"] != uid {
		t.Fatalf("created workspace = %v", created)
	}

	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list", st, body, 200, "")
	all := list(t, body, "workspaces")
	if len(all) != 6 || !slices.Contains(ids(all, "workspace_id"), ws) {
		t.Fatalf("list = %v, want 6 workspaces including %s", all, ws)
	}
	for _, w := range all {
		if w["owner"] != uid {
			t.Fatalf("listed workspace %v not owned by %s", w, uid)
		}
	}

	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get", st, body, 200, "")
	got := obj(t, body, "workspace")
	if got["workspace_id"] != ws || got["name"] != "My New Workspace" || got["owner"] != uid {
		t.Fatalf("GET workspace = %v", got)
	}
	if got["created_at"] != created["created_at"] {
		t.Fatalf("created_at on GET %v != on create %v", got["created_at"], created["created_at"])
	}
	ts(t, got, "created_at")

	// Rename.
	path := "/workspace/" + ws + "/rename"
	st, body = e.do(t, "PUT", path, token, "")
	want(t, "rename no body", st, body, 400, "Missing JSON in request")
	resp, body := e.raw(t, "PUT", path, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "New Name")
	want(t, "rename text body", resp.StatusCode, body, 400, "Missing JSON in request")
	for _, b := range []string{`{}`, `{"name": ""}`, `{"name": "  "}`, `{"name": null}`, `{"other": "x"}`} {
		st, body := e.do(t, "PUT", path, token, b)
		want(t, "rename "+b, st, body, 400, "Missing name parameter")
	}
	for _, b := range []string{`{"name": 5}`, `{"name": true}`, `[]`, `{"name": "` + strings.Repeat("n", 201) + `"}`} {
		st, body := e.do(t, "PUT", path, token, b)
		wantErr(t, "rename "+b, st, body, 400)
	}
	st, body = e.do(t, "PUT", path, token, `{"name": "New Workspace Name"}`)
	want(t, "rename", st, body, 200, "Workspace renamed")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get renamed", st, body, 200, "")
	if n := obj(t, body, "workspace")["name"]; n != "New Workspace Name" {
		t.Fatalf("name after rename = %v", n)
	}

	// Agents.
	agent := e.agent(t, uid)
	apath := "/workspace/" + ws + "/agent"
	for _, m := range []string{"POST", "DELETE"} {
		st, body = e.do(t, m, apath, token, "")
		want(t, m+" agent no body", st, body, 400, "Missing JSON in request")
		resp, body = e.raw(t, m, apath, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "agent_id="+agent)
		want(t, m+" agent text body", resp.StatusCode, body, 400, "Missing JSON in request")
		for _, b := range []string{`{}`, `{"agent_id": ""}`, `{"agent_id": null}`} {
			st, body := e.do(t, m, apath, token, b)
			want(t, m+" agent "+b, st, body, 400, "Missing agent_id parameter")
		}
		for _, b := range []string{`{"agent_id": 12345}`, `{"agent_id": ["x"]}`, `[]`} {
			st, body := e.do(t, m, apath, token, b)
			wantErr(t, m+" agent "+b, st, body, 400)
		}
	}
	st, body = e.do(t, "POST", apath, token, `{"agent_id": "no-such-agent"}`)
	want(t, "attach unknown agent", st, body, 404, "Agent not found")
	st, body = e.do(t, "POST", "/workspace/no-such-ws/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach to unknown workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "DELETE", "/workspace/no-such-ws/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "detach from unknown workspace", st, body, 404, "Workspace not found")
	for range 2 { // attaching twice is fine
		st, body = e.do(t, "POST", apath, token, jsonBody(map[string]string{"agent_id": agent}))
		want(t, "attach", st, body, 200, "Agent added to Workspace.")
	}
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get with agent", st, body, 200, "")
	if a, _ := obj(t, body, "workspace")["agents"].([]any); len(a) != 1 || a[0] != agent {
		t.Fatalf("agents = %v, want [%s]", obj(t, body, "workspace")["agents"], agent)
	}
	st, body = e.do(t, "DELETE", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "detach", st, body, 200, "Agent removed")
	st, body = e.do(t, "DELETE", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	wantErr(t, "detach again", st, body, 404)
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get without agent", st, body, 200, "")
	if a, ok := obj(t, body, "workspace")["agents"].([]any); !ok || len(a) != 0 {
		t.Fatalf("agents after detach = %v, want []", obj(t, body, "workspace")["agents"])
	}

	// Chats.
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "no chats", st, body, 200, "")
	if c := list(t, body, "chats"); len(c) != 0 {
		t.Fatalf("chats = %v, want []", c)
	}
	st, body = e.do(t, "POST", "/chat?workspace_id="+ws, token, "")
	want(t, "create chat", st, body, 200, "Chat created successfully")
	chat := obj(t, body, "chat")
	chatID := str(t, chat, "chat_id")
	if chat["workspace_id"] != ws || chat["created_by"] != uid {
		t.Fatalf("chat = %v", chat)
	}
	if cw := obj(t, body, "workspace"); cw["workspace_id"] != ws || cw["owner"] != uid || cw["name"] != "New Workspace Name" {
		t.Fatalf("chat's workspace = %v", cw)
	}
	chat2 := e.chat(t, token, ws)

	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats", st, body, 200, "")
	chats := list(t, body, "chats")
	if !slices.Equal(ids(chats, "chat_id"), []string{chatID, chat2}) {
		t.Fatalf("chats = %v, want %s then %s", chats, chatID, chat2)
	}
	for _, c := range chats {
		if c["workspace_id"] != ws {
			t.Fatalf("listed chat %v not in %s", c, ws)
		}
	}

	st, body = e.do(t, "GET", "/chat?chat_id="+chatID, token, "")
	want(t, "get chat", st, body, 200, "")
	if body["chat_id"] != chatID || body["owner"] != uid || body["workspace_id"] != ws {
		t.Fatalf("GET /chat = %v", body)
	}
	if body["created_at"] != chat["created_at"] {
		t.Fatalf("chat created_at on GET %v != on create %v", body["created_at"], chat["created_at"])
	}

	// Strings: each call a new one, created by the caller, expiring later.
	seen := map[string]bool{}
	for _, c := range []struct{ path, field string }{
		{"/chat/authorize", "connection_string"},
		{"/chat/authorize", "connection_string"},
		{"/chat/authorize/message", "message_string"},
		{"/chat/authorize/message", "message_string"},
	} {
		st, body := e.do(t, "GET", c.path+"?chat_id="+chatID, token, "")
		want(t, c.path, st, body, 200, "")
		s := str(t, body, c.field)
		if seen[s] {
			t.Fatalf("%s returned %s twice", c.path, c.field)
		}
		seen[s] = true
		if body["created_by"] != uid {
			t.Fatalf("%s created_by = %v, want %s", c.path, body["created_by"], uid)
		}
		if created, expires := ts(t, body, "created_at"), ts(t, body, "expires_at"); !expires.After(created) {
			t.Fatalf("%s expires_at %v not after created_at %v", c.path, expires, created)
		}
	}

	// Unknown ids.
	st, body = e.do(t, "POST", "/chat", token, "")
	want(t, "create chat without workspace id", st, body, 400, "Missing workspace id")
	st, body = e.do(t, "POST", "/chat?workspace_id=", token, "")
	want(t, "create chat with empty workspace id", st, body, 400, "Missing workspace id")
	st, body = e.do(t, "POST", "/chat?workspace_id=no-such-ws", token, "")
	want(t, "create chat in unknown workspace", st, body, 404, "Workspace not found")
	for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
		st, body := e.do(t, "GET", p+"?chat_id=no-such-chat", token, "")
		want(t, "GET "+p+" unknown", st, body, 404, "Chat not found")
		st, body = e.do(t, "GET", p, token, "")
		wantErr(t, "GET "+p+" without chat_id", st, body, 400)
	}
	st, body = e.do(t, "DELETE", "/chat?chat_id=no-such-chat", token, "")
	want(t, "DELETE /chat unknown", st, body, 404, "Chat not found")
	st, body = e.do(t, "DELETE", "/chat", token, "")
	wantErr(t, "DELETE /chat without chat_id", st, body, 400)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/workspace/no-such-ws", ""},
		{"DELETE", "/workspace/no-such-ws", ""},
		{"GET", "/workspace/no-such-ws/chats", ""},
		{"PUT", "/workspace/no-such-ws/rename", `{"name": "x"}`},
		{"POST", "/workspace/no-such-ws/members", `{"email": "owner@example.com"}`},
		{"GET", "/workspace/no-such-ws/members", ""},
		{"DELETE", "/workspace/no-such-ws/members/" + uid, ""},
	} {
		st, body := e.do(t, c.method, c.path, token, c.body)
		want(t, c.method+" "+c.path, st, body, 404, "Workspace not found")
	}

	// Delete a chat, then the workspace.
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chatID, token, "")
	want(t, "delete chat", st, body, 200, "Chat deleted successfully")
	st, body = e.do(t, "GET", "/chat?chat_id="+chatID, token, "")
	want(t, "get deleted chat", st, body, 404, "Chat not found")
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chatID, token, "")
	want(t, "delete deleted chat", st, body, 404, "Chat not found")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats after delete", st, body, 200, "")
	if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chat2}) {
		t.Fatalf("chats after delete = %v, want [%s]", got, chat2)
	}

	st, body = e.do(t, "POST", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach before delete", st, body, 200, "Agent added to Workspace.")
	st, body = e.do(t, "DELETE", "/workspace/"+ws, token, "")
	want(t, "delete workspace", st, body, 200, "Workspace deleted")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get deleted workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "DELETE", "/workspace/"+ws, token, "")
	want(t, "delete deleted workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats of deleted workspace", st, body, 404, "Workspace not found")
	for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
		st, body := e.do(t, "GET", p+"?chat_id="+chat2, token, "")
		want(t, "GET "+p+" of deleted workspace", st, body, 404, "Chat not found")
	}
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chat2, token, "")
	want(t, "DELETE /chat of deleted workspace", st, body, 404, "Chat not found")
	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list after delete", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); len(got) != 5 || slices.Contains(got, ws) {
		t.Fatalf("list after delete = %v", got)
	}
	// The agent itself survives its workspace and can be attached elsewhere.
	other := e.workspace(t, token, "Other")
	st, body = e.do(t, "POST", "/workspace/"+other+"/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach to other workspace", st, body, 200, "Agent added to Workspace.")
}
