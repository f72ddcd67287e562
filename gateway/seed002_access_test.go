package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSeed002CrossUserIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, uidA := e.user(t, "alice@example.com")
	tokB, uidB := e.user(t, "bob@example.com")

	wsA := e.workspace(t, tokA, "Alice's")
	chatA := e.chat(t, tokA, wsA)
	agentA := e.agent(t, uidA)
	st, body := e.do(t, "POST", "/workspace/"+wsA+"/agent", tokA, jsonBody(map[string]string{"agent_id": agentA}))
	want(t, "attach", st, body, 200, "Agent added to Workspace.")
	wsB := e.workspace(t, tokB, "Bob's")
	agentB := e.agent(t, uidB)

	const noAccess, notOwner, notChatOwner = "User does not have access to the workspace", "User is not the owner of the workspace", "User is not the owner of the chat"
	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/workspace/" + wsA, "", 403, noAccess},
		{"DELETE", "/workspace/" + wsA, "", 403, noAccess},
		{"GET", "/workspace/" + wsA + "/chats", "", 403, noAccess},
		{"PUT", "/workspace/" + wsA + "/rename", `{"name": "pwned"}`, 403, notOwner},
		{"POST", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentB}), 403, notOwner},
		{"POST", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentA}), 403, notOwner},
		{"DELETE", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentA}), 403, notOwner},
		{"POST", "/workspace/" + wsA + "/members", `{"email": "bob@example.com"}`, 403, notOwner},
		{"POST", "/workspace/" + wsA + "/members", `{"email": "bob@example.com", "role": "viewer"}`, 403, notOwner},
		{"GET", "/workspace/" + wsA + "/members", "", 403, notOwner},
		{"DELETE", "/workspace/" + wsA + "/members/" + uidA, "", 403, noAccess},
		{"DELETE", "/workspace/" + wsA + "/members/" + uidB, "", 403, noAccess},
		{"POST", "/chat?workspace_id=" + wsA, "", 401, notOwner},
		{"GET", "/chat?chat_id=" + chatA, "", 401, notChatOwner},
		{"DELETE", "/chat?chat_id=" + chatA, "", 401, notChatOwner},
		{"GET", "/chat/authorize?chat_id=" + chatA, "", 401, notChatOwner},
		{"GET", "/chat/authorize/message?chat_id=" + chatA, "", 401, notChatOwner},
	} {
		st, body := e.do(t, c.method, c.path, tokB, c.body)
		want(t, "stranger "+c.method+" "+c.path+" "+c.body, st, body, c.status, c.msg)
		if _, leaked := body["workspace"]; leaked {
			t.Fatalf("stranger %s %s: response leaks the workspace: %v", c.method, c.path, body)
		}
		if _, leaked := body["chats"]; leaked {
			t.Fatalf("stranger %s %s: response leaks chats: %v", c.method, c.path, body)
		}
	}

	// Alice may not use Bob's draft agent either.
	st, body = e.do(t, "POST", "/workspace/"+wsA+"/agent", tokA, jsonBody(map[string]string{"agent_id": agentB}))
	want(t, "attach someone else's draft agent", st, body, 404, "Agent not found")

	// Bob sees only his own workspace.
	st, body = e.do(t, "GET", "/workspace", tokB, "")
	want(t, "list B", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{wsB}) {
		t.Fatalf("B's workspaces = %v, want [%s]", got, wsB)
	}

	// Alice's data is unchanged.
	st, body = e.do(t, "GET", "/workspace/"+wsA, tokA, "")
	want(t, "A get", st, body, 200, "")
	w := obj(t, body, "workspace")
	if w["name"] != "Alice's" || w["owner"] != uidA {
		t.Fatalf("A's workspace after B's attempts = %v", w)
	}
	if a, _ := w["agents"].([]any); len(a) != 1 || a[0] != agentA {
		t.Fatalf("A's agents after B's attempts = %v", w["agents"])
	}
	st, body = e.do(t, "GET", "/chat?chat_id="+chatA, tokA, "")
	want(t, "A get chat", st, body, 200, "")
	st, body = e.do(t, "GET", "/workspace/"+wsA+"/chats", tokA, "")
	want(t, "A chats", st, body, 200, "")
	if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chatA}) {
		t.Fatalf("A's chats = %v", got)
	}
	st, body = e.do(t, "GET", "/workspace/"+wsA+"/members", tokA, "")
	want(t, "A members", st, body, 200, "")
	if got := ids(list(t, body, "members"), "user_id"); !slices.Equal(got, []string{uidA}) {
		t.Fatalf("A's members = %v, want only A", got)
	}
	st, body = e.do(t, "GET", "/workspace", tokA, "")
	want(t, "list A", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{wsA}) {
		t.Fatalf("A's workspaces = %v, want [%s]", got, wsA)
	}

	// And the other way round: Alice cannot touch Bob's.
	st, body = e.do(t, "DELETE", "/workspace/"+wsB, tokA, "")
	want(t, "A deletes B's workspace", st, body, 403, noAccess)
	st, body = e.do(t, "GET", "/workspace/"+wsB, tokB, "")
	want(t, "B get", st, body, 200, "")
}

func TestSeed002Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokO, uidO := e.user(t, "owner@example.com")
	tokM, uidM := e.user(t, "member@example.com")
	tokV, uidV := e.user(t, "viewer@example.com")
	_, uidD := e.user(t, "default@example.com")

	ws := e.workspace(t, tokO, "Shared")
	chat := e.chat(t, tokO, ws)
	agent := e.agent(t, uidO)
	mpath := "/workspace/" + ws + "/members"

	st, body := e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "member"}`)
	want(t, "add member", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidM || m["email"] != "member@example.com" || m["role"] != "member" || m["added_by"] != uidO {
		t.Fatalf("added member = %v", m)
	}
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "viewer@example.com", "role": "viewer"}`)
	want(t, "add viewer", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidV || m["role"] != "viewer" {
		t.Fatalf("added viewer = %v", m)
	}
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "Default@Example.com"}`)
	want(t, "add with default role", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidD || m["role"] != "member" {
		t.Fatalf("added with default role = %v", m)
	}

	// Bad member requests.
	st, body = e.do(t, "POST", mpath, tokO, "")
	want(t, "add no body", st, body, 400, "Missing JSON in request")
	st, body = e.do(t, "POST", mpath, tokO, `{"role": "member"}`)
	want(t, "add without email", st, body, 400, "Missing email parameter")
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "nobody@example.com"}`)
	want(t, "add unknown user", st, body, 404, "User not found")
	for _, b := range []string{
		`{"email": "member@example.com", "role": "owner"}`,
		`{"email": "member@example.com", "role": "admin"}`,
		`{"email": "member@example.com", "role": 1}`,
		`{"email": 5}`,
		`{"email": "owner@example.com"}`,
		`{"email": "OWNER@example.com", "role": "viewer"}`,
	} {
		st, body := e.do(t, "POST", mpath, tokO, b)
		wantErr(t, "add "+b, st, body, 400)
	}

	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list members", st, body, 200, "")
	members := list(t, body, "members")
	roles := map[string]string{}
	for _, m := range members {
		roles[m["user_id"].(string)] = m["role"].(string)
	}
	if len(members) != 4 || members[0]["user_id"] != uidO || roles[uidO] != "owner" || roles[uidM] != "member" || roles[uidV] != "viewer" || roles[uidD] != "member" {
		t.Fatalf("members = %v", members)
	}

	// Member and viewer can read the workspace and its chats and watch.
	for _, p := range []struct{ who, token, uid, role string }{{"member", tokM, uidM, "member"}, {"viewer", tokV, uidV, "viewer"}} {
		st, body := e.do(t, "GET", "/workspace/"+ws, p.token, "")
		want(t, p.who+" get workspace", st, body, 200, "")
		if w := obj(t, body, "workspace"); w["workspace_id"] != ws || w["name"] != "Shared" || w["owner"] != uidO || w["role"] != p.role {
			t.Fatalf("%s sees workspace %v", p.who, w)
		}
		st, body = e.do(t, "GET", "/workspace", p.token, "")
		want(t, p.who+" list", st, body, 200, "")
		if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{ws}) {
			t.Fatalf("%s's workspaces = %v", p.who, got)
		}
		st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", p.token, "")
		want(t, p.who+" chats", st, body, 200, "")
		if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chat}) {
			t.Fatalf("%s's chats = %v", p.who, got)
		}
		st, body = e.do(t, "GET", "/chat?chat_id="+chat, p.token, "")
		want(t, p.who+" get chat", st, body, 200, "")
		if body["chat_id"] != chat || body["workspace_id"] != ws {
			t.Fatalf("%s's chat = %v", p.who, body)
		}
		st, body = e.do(t, "GET", "/chat/authorize?chat_id="+chat, p.token, "")
		want(t, p.who+" authorize", st, body, 200, "")
		str(t, body, "connection_string")
		if body["created_by"] != p.uid {
			t.Fatalf("%s's connection string created_by = %v", p.who, body["created_by"])
		}
		ts(t, body, "created_at")
		ts(t, body, "expires_at")

		// Neither may manage the workspace.
		for _, c := range []struct {
			method, path, body string
			status             int
			msg                string
		}{
			{"PUT", "/workspace/" + ws + "/rename", `{"name": "mine"}`, 403, "User is not the owner of the workspace"},
			{"DELETE", "/workspace/" + ws, "", 403, "User does not have access to the workspace"},
			{"POST", "/workspace/" + ws + "/agent", jsonBody(map[string]string{"agent_id": agent}), 403, "User is not the owner of the workspace"},
			{"DELETE", "/workspace/" + ws + "/agent", jsonBody(map[string]string{"agent_id": agent}), 403, "User is not the owner of the workspace"},
			{"POST", mpath, `{"email": "default@example.com", "role": "viewer"}`, 403, "User is not the owner of the workspace"},
			{"GET", mpath, "", 403, "User is not the owner of the workspace"},
			{"DELETE", mpath + "/" + uidO, "", 403, "User is not the owner of the workspace"},
			{"DELETE", mpath + "/" + uidD, "", 403, "User is not the owner of the workspace"},
			{"POST", "/chat?workspace_id=" + ws, "", 401, "User is not the owner of the workspace"},
			{"DELETE", "/chat?chat_id=" + chat, "", 401, "User is not the owner of the chat"},
		} {
			st, body := e.do(t, c.method, c.path, p.token, c.body)
			want(t, p.who+" "+c.method+" "+c.path, st, body, c.status, c.msg)
		}
	}

	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokM, "")
	want(t, "member message string", st, body, 200, "")
	str(t, body, "message_string")
	if body["created_by"] != uidM {
		t.Fatalf("member's message string created_by = %v", body["created_by"])
	}
	ts(t, body, "created_at")
	ts(t, body, "expires_at")
	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokV, "")
	wantErr(t, "viewer message string", st, body, 401)
	if _, leaked := body["message_string"]; leaked {
		t.Fatalf("viewer got a message string: %v", body)
	}

	// The owner's state is unchanged by the member's and viewer's attempts.
	st, body = e.do(t, "GET", "/workspace/"+ws, tokO, "")
	want(t, "owner get", st, body, 200, "")
	if w := obj(t, body, "workspace"); w["name"] != "Shared" || w["role"] != "owner" {
		t.Fatalf("workspace after attempts = %v", w)
	}
	st, body = e.do(t, "GET", "/chat?chat_id="+chat, tokO, "")
	want(t, "owner get chat", st, body, 200, "")

	// Demoting the member to viewer takes away their message strings.
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "viewer"}`)
	want(t, "demote", st, body, 200, "Member added")
	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokM, "")
	wantErr(t, "demoted member message string", st, body, 401)
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "member"}`)
	want(t, "promote", st, body, 200, "Member added")
	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list after role changes", st, body, 200, "")
	if n := len(list(t, body, "members")); n != 4 {
		t.Fatalf("members after role changes = %d, want 4", n)
	}

	// Members leave; the owner removes; nobody removes the owner.
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokM, "")
	want(t, "member leaves", st, body, 200, "Member removed")
	st, body = e.do(t, "GET", "/workspace/"+ws, tokM, "")
	want(t, "left member get", st, body, 403, "User does not have access to the workspace")
	st, body = e.do(t, "GET", "/chat?chat_id="+chat, tokM, "")
	want(t, "left member get chat", st, body, 401, "User is not the owner of the chat")
	st, body = e.do(t, "GET", "/chat/authorize?chat_id="+chat, tokM, "")
	want(t, "left member authorize", st, body, 401, "User is not the owner of the chat")
	st, body = e.do(t, "GET", "/workspace", tokM, "")
	want(t, "left member list", st, body, 200, "")
	if n := len(list(t, body, "workspaces")); n != 0 {
		t.Fatalf("left member still lists %d workspaces", n)
	}
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokM, "")
	want(t, "left member leaves again", st, body, 403, "User does not have access to the workspace")

	st, body = e.do(t, "DELETE", mpath+"/"+uidO, tokO, "")
	wantErr(t, "owner removes themselves", st, body, 400)
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokO, "")
	want(t, "remove already gone member", st, body, 404, "Member not found")
	st, body = e.do(t, "DELETE", mpath+"/"+uidV, tokO, "")
	want(t, "owner removes viewer", st, body, 200, "Member removed")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", tokV, "")
	want(t, "removed viewer chats", st, body, 403, "User does not have access to the workspace")

	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list after removals", st, body, 200, "")
	if got := ids(list(t, body, "members"), "user_id"); !slices.Equal(got, []string{uidO, uidD}) {
		t.Fatalf("members after removals = %v, want [%s %s]", got, uidO, uidD)
	}

	// Deleting the workspace takes its chats with it, for everyone.
	st, body = e.do(t, "DELETE", "/workspace/"+ws, tokO, "")
	want(t, "delete", st, body, 200, "Workspace deleted")
	tokD := func() string {
		st, body := e.do(t, "POST", "/auth/login", "", `{"email": "default@example.com", "password": "pw-default@example.com"}`)
		want(t, "login default", st, body, 200, "")
		return str(t, body, "access_token")
	}()
	for _, tok := range []string{tokO, tokD} {
		for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
			st, body := e.do(t, "GET", p+"?chat_id="+chat, tok, "")
			want(t, "GET "+p+" after workspace delete", st, body, 404, "Chat not found")
		}
		st, body := e.do(t, "GET", "/workspace/"+ws, tok, "")
		want(t, "GET workspace after delete", st, body, 404, "Workspace not found")
		st, body = e.do(t, "GET", "/workspace", tok, "")
		want(t, "list after delete", st, body, 200, "")
		if n := len(list(t, body, "workspaces")); n != 0 {
			t.Fatalf("deleted workspace still listed: %v", body)
		}
	}
}

func TestSeed002NoRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/nope", "/workspace/a/b/c", "/chat/authorize/other", "/users", "/workspace/a/members/b/c"} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			resp, body := e.raw(t, m, p, nil, "")
			want(t, m+" "+p, resp.StatusCode, body, 404, "Not found")
		}
	}
	for _, c := range []struct {
		method, path string
		allow        []string
	}{
		{"POST", "/ping", []string{"GET"}},
		{"DELETE", "/register", []string{"POST"}},
		{"GET", "/auth/login", []string{"POST"}},
		{"PATCH", "/user", []string{"GET", "PUT"}},
		{"DELETE", "/user", []string{"GET", "PUT"}},
		{"PUT", "/workspace", []string{"GET", "POST"}},
		{"POST", "/workspace/abc", []string{"GET", "DELETE"}},
		{"POST", "/workspace/abc/chats", []string{"GET"}},
		{"GET", "/workspace/abc/agent", []string{"POST", "DELETE"}},
		{"GET", "/workspace/abc/rename", []string{"PUT"}},
		{"PUT", "/workspace/abc/members", []string{"GET", "POST"}},
		{"GET", "/workspace/abc/members/def", []string{"DELETE"}},
		{"PUT", "/chat", []string{"GET", "POST", "DELETE"}},
		{"POST", "/chat/authorize", []string{"GET"}},
		{"DELETE", "/chat/authorize/message", []string{"GET"}},
	} {
		what := fmt.Sprintf("%s %s", c.method, c.path)
		resp, body := e.raw(t, c.method, c.path, nil, "")
		want(t, what, resp.StatusCode, body, 405, "Method not allowed")
		allow := resp.Header.Values("Allow")
		slices.Sort(allow)
		wantAllow := slices.Clone(c.allow)
		slices.Sort(wantAllow)
		if !slices.Equal(allow, wantAllow) {
			t.Fatalf("%s: Allow = %v, want %v", what, allow, wantAllow)
		}
	}
}

// TestSeed002ResponsesAreJSON checks that error paths never fall back to
// plain-text bodies, whatever the request looks like.
func TestSeed002ResponsesAreJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, _ := e.user(t, "json@example.com")
	ws := e.workspace(t, token, "W")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/workspace", `{"name": "\ud800"}`},
		{"PUT", "/workspace/" + ws + "/rename", `{"name": "` + strings.Repeat("é", 200) + `"}`},
		{"POST", "/workspace/" + ws + "/agent", `{"agent_id": "` + strings.Repeat("a", 5000) + `"}`},
		{"GET", "/chat?chat_id=%27%3B%20DROP%20TABLE%20chats%3B--", ""},
		{"GET", "/workspace/%27%20OR%201%3D1--", ""},
		{"POST", "/chat?workspace_id=%27%20OR%20%271%27%3D%271", ""},
	} {
		st, body := e.do(t, c.method, c.path, token, c.body)
		if st >= 500 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, st, body)
		}
	}
	// The workspace survived the injection attempts.
	st, body := e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get", st, body, 200, "")
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(body)
	if !strings.Contains(buf.String(), ws) {
		t.Fatalf("workspace body %s lacks its id", buf.String())
	}
}

// TestNoRouteSpeaksEachAPIsErrors checks a path no route takes is answered
// in the error format of the API its prefix belongs to, and that OpenAI
// endpoints Atrium does not serve are not taken for seed 003's agent ids.
func TestNoRouteSpeaksEachAPIsErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/v1/api/nope", "/v1/audio/speech", "/v1/embeddings", "/v1/api/chat/completions/x"} {
		resp, body := e.raw(t, "POST", p, map[string]string{"Content-Type": "application/json"}, `{}`)
		if resp.StatusCode != 404 || obj(t, body, "error")["type"] != "invalid_request" || obj(t, body, "error")["message"] == nil {
			t.Errorf("POST %s = %d %v, want a 404 in seed 001's format", p, resp.StatusCode, body)
		}
	}
	resp, body := e.raw(t, "POST", "/api/nope", nil, "")
	if resp.StatusCode != 404 || body["error"] == nil || body["detail"] != "not_found" {
		t.Errorf("POST /api/nope = %d %v, want seed 000's {error, detail}", resp.StatusCode, body)
	}
}
