package gateway_test

import "testing"

// TestSeed002HostileInput sends NUL bytes, bad UTF-8 and malformed ids
// everywhere a string reaches the database: each is a 400 or 404 in seed
// 002's format, never a 500.
func TestSeed002HostileInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok, _ := e.user(t, "nul@example.com")
	ws := e.workspace(t, tok, "W")
	e.chat(t, tok, ws)

	cases := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/register", `{"email":"a\u0000@b.co","password":"x"}`, 400},
		{"POST", "/auth/login", `{"email":"a\u0000@b.co","password":"x"}`, 400},
		{"PUT", "/user", `{"email":"n\u0000@b.co"}`, 400},
		{"POST", "/workspace", `{"name":"a\u0000b"}`, 400},
		{"PUT", "/workspace/" + ws + "/rename", `{"name":"a\u0000b"}`, 400},
		{"POST", "/workspace/" + ws + "/members", `{"email":"x\u0000@b.co"}`, 400},
		{"POST", "/workspace/" + ws + "/agent", `{"agent_id":"a\u0000b"}`, 400},
		{"POST", "/workspace/" + ws + "/agent", `{"agent_id":"../../etc"}`, 404},
		{"DELETE", "/workspace/" + ws + "/agent", `{"agent_id":"a b"}`, 404},
		{"DELETE", "/workspace/" + ws + "/members/a%00b", "", 404},
		{"GET", "/workspace/a%00b", "", 404},
		{"GET", "/workspace/" + ws + "%ff", "", 404},
		{"GET", "/chat?chat_id=a%00b", "", 404},
		{"DELETE", "/chat?chat_id=%27%3B--", "", 404},
		{"GET", "/chat/authorize?chat_id=a%00b", "", 404},
		{"POST", "/chat?workspace_id=a%00b", "", 404},
	}
	for _, c := range cases {
		st, body := e.do(t, c.method, c.path, tok, c.body)
		wantErr(t, c.method+" "+c.path+" "+c.body, st, body, c.status)
	}
	// The workspace is untouched.
	st, body := e.do(t, "GET", "/workspace/"+ws, tok, "")
	want(t, "get workspace", st, body, 200, "")
	if name := str(t, obj(t, body, "workspace"), "name"); name != "W" {
		t.Fatalf("workspace renamed to %q", name)
	}
}
