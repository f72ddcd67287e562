package mcp_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/workspaces"
)

func TestStoreCRUDAndScoping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, mcp.Config{})
	alice, bob := e.user(t, "alice@x.io"), e.user(t, "bob@x.io")
	helper := e.agent(t, alice, "helper")
	bobs := e.agent(t, bob, "bobs")

	fs := e.server(t, alice, mcp.NewServer{
		Agent: helper.ID, Name: "filesystem", Description: "Local filesystem access", Transport: "stdio",
		Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem", "."},
		Env: map[string]string{"API_TOKEN": "secret-token-123456"}, URL: "https://ignored.example",
	})
	if fs.ID == "" || fs.Owner != alice || fs.Agent != helper.ID || !fs.AutoConnect || !fs.Active || fs.URL != "" {
		t.Fatalf("created %+v", fs)
	}
	web := e.server(t, alice, mcp.NewServer{
		Name: "web", Transport: "streamable-http", URL: "https://mcp.example.com/mcp",
		Headers: map[string]string{"Authorization": "Bearer sk-live-abcdefghijkl"}, AutoConnect: ptr(false),
	})
	if web.Transport != mcp.TransportHTTP || web.AutoConnect || web.Agent != "" {
		t.Fatalf("created %+v", web)
	}

	got, err := e.store.Get(ctx, alice, fs.ID)
	if err != nil || got.Name != "filesystem" || got.Env["API_TOKEN"] != "secret-token-123456" || len(got.Args) != 3 || got.Args[2] != "." {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	list, err := e.store.List(ctx, alice)
	if err != nil || len(list) != 2 || list[0].ID != fs.ID || list[1].ID != web.ID {
		t.Fatalf("List = %+v, %v", list, err)
	}
	for _, agent := range []agents.ID{helper.ID, ""} {
		forAgent, err := e.store.ForAgent(ctx, alice, agent, true)
		want := map[agents.ID]int{helper.ID: 2, "": 1}[agent]
		if err != nil || len(forAgent) != want {
			t.Fatalf("ForAgent(%q) = %d servers, %v; want %d", agent, len(forAgent), err, want)
		}
	}

	// Bob sees none of it, and may not use Alice's names or agents.
	if _, err := e.store.Get(ctx, bob, fs.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Get by another user = %v", err)
	}
	if _, err := e.store.Update(ctx, bob, fs.ID, mcp.ServerUpdate{Name: ptr("x")}); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Update by another user = %v", err)
	}
	if err := e.store.Delete(ctx, bob, fs.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Delete by another user = %v", err)
	}
	if l, _ := e.store.List(ctx, bob); len(l) != 0 {
		t.Fatalf("bob lists %d servers", len(l))
	}
	if _, err := e.store.Create(ctx, alice, mcp.NewServer{Agent: bobs.ID, Name: "x", Transport: "http", URL: "https://a.b"}); workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(err.Error(), "agent") {
		t.Fatalf("Create for another user's agent = %v", err)
	}
	e.server(t, bob, mcp.NewServer{Name: "web", Transport: "http", URL: "https://a.b"})

	// Names are unique per owner and agent.
	if _, err := e.store.Create(ctx, alice, mcp.NewServer{Name: "web", Transport: "http", URL: "https://a.b"}); workspaces.ErrorKind(err) != workspaces.KindConflict {
		t.Fatalf("Create with a taken name = %v", err)
	}
	e.server(t, alice, mcp.NewServer{Agent: helper.ID, Name: "web", Transport: "http", URL: "https://a.b"})

	// Masked hides secrets; sending the masked value back keeps the secret.
	masked := got.Masked()
	if masked.Env["API_TOKEN"] != "sec…(redacted)" || got.Env["API_TOKEN"] != "secret-token-123456" {
		t.Fatalf("masked env %v (original %v)", masked.Env, got.Env)
	}
	if m := web.Masked().Headers["Authorization"]; m != "Bea…(redacted)" {
		t.Fatalf("masked header %q", m)
	}
	if m := (mcp.Server{Env: map[string]string{"K": "short"}}).Masked().Env["K"]; m != "(redacted)" {
		t.Fatalf("masked short value %q", m)
	}
	upd, err := e.store.Update(ctx, alice, fs.ID, mcp.ServerUpdate{
		Description: ptr("changed"),
		Env:         &map[string]string{"API_TOKEN": masked.Env["API_TOKEN"], "OTHER": "new"},
	})
	if err != nil || upd.Description != "changed" || upd.Name != "filesystem" || upd.Env["API_TOKEN"] != "secret-token-123456" || upd.Env["OTHER"] != "new" || !upd.UpdatedAt.After(fs.UpdatedAt) && !upd.UpdatedAt.Equal(fs.UpdatedAt) {
		t.Fatalf("Update = %+v, %v", upd, err)
	}

	// A partial update can switch transports; the other transport's fields go.
	upd, err = e.store.Update(ctx, alice, fs.ID, mcp.ServerUpdate{Transport: ptr("http"), URL: ptr("http://mcp.example.com/"), Agent: ptr(agents.ID("")), Active: ptr(false)})
	if err != nil || upd.Transport != "http" || upd.Command != "" || upd.Args != nil || upd.Env != nil || upd.Agent != "" || upd.Active {
		t.Fatalf("Update to http = %+v, %v", upd, err)
	}
	if got, _ := e.store.Get(ctx, alice, fs.ID); got.Transport != "http" || got.URL != "http://mcp.example.com/" || got.Active || got.Agent != "" {
		t.Fatalf("after update Get = %+v", got)
	}
	if _, err := e.store.Update(ctx, alice, fs.ID, mcp.ServerUpdate{URL: ptr("ftp://x")}); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("Update with a bad url = %v", err)
	}

	if err := e.store.Delete(ctx, alice, fs.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Get(ctx, alice, fs.ID); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Get after Delete = %v", err)
	}
	if err := e.store.Delete(ctx, alice, "nope"); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("Delete of an unknown id = %v", err)
	}
}

func TestStoreValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, mcp.Config{StdioCommands: mcp.ParseStdioCommands("node, npx")})
	alice := e.user(t, "alice@x.io")
	long := strings.Repeat("a", 41)
	manyArgs := make([]string, 65)
	for _, tc := range []struct {
		n    mcp.NewServer
		want string // in the message
	}{
		{mcp.NewServer{Transport: "stdio", Command: "node"}, "name is required"},
		{mcp.NewServer{Name: "has space", Transport: "stdio", Command: "node"}, "name may contain only"},
		{mcp.NewServer{Name: "dots.no", Transport: "stdio", Command: "node"}, "name may contain only"},
		{mcp.NewServer{Name: long, Transport: "stdio", Command: "node"}, "name is longer than 40"},
		{mcp.NewServer{Name: "a"}, "transport_type is required"},
		{mcp.NewServer{Name: "a", Transport: "sse", URL: "https://a.b/sse"}, "only Streamable HTTP"},
		{mcp.NewServer{Name: "a", Transport: "websocket"}, "Unknown transport_type"},
		{mcp.NewServer{Name: "a", Transport: "stdio"}, "command is required"},
		{mcp.NewServer{Name: "a", Transport: "stdio", Command: "bash"}, `command "bash" is not allowed`},
		{mcp.NewServer{Name: "a", Transport: "stdio", Command: "/tmp/x/node"}, "is not allowed"},
		{mcp.NewServer{Name: "a", Transport: "stdio", Command: "node", Args: manyArgs}, "args has 65 items"},
		{mcp.NewServer{Name: "a", Transport: "stdio", Command: "node", Args: []string{"ok", "nul\x00"}}, "args[1]"},
		{mcp.NewServer{Name: "a", Transport: "stdio", Command: "node", Env: map[string]string{"1BAD": "x"}}, "env:"},
		{mcp.NewServer{Name: "a", Transport: "http"}, "url is required"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "file:///etc/passwd"}, "url must be an http"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://u:p@a.b/"}, "user name or password"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://a.b", Headers: map[string]string{"Bad Name": "x"}}, "headers:"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://a.b", Headers: map[string]string{"X-A": "a\r\nb"}}, "one line"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://a.b", Headers: map[string]string{"Mcp-Session-Id": "x"}}, "set by the MCP transport"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://a.b", Agent: "no-such-agent"}, "Unknown agent"},
		{mcp.NewServer{Name: "a", Transport: "http", URL: "https://a.b", Description: strings.Repeat("d", 1001)}, "description"},
	} {
		_, err := e.store.Create(ctx, alice, tc.n)
		if workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(workspaces.ErrorMessage(err), tc.want) {
			t.Errorf("Create(%+v) = %v; want invalid with %q", tc.n, err, tc.want)
		}
	}

	// Accepted spellings, and the operator's list.
	for i, tr := range []string{"stdio", "HTTP", "streamable_http", "streamable-http"} {
		n := mcp.NewServer{Name: "ok" + string(rune('a'+i)), Transport: tr, Command: "npx", URL: "http://a.b"}
		if _, err := e.store.Create(ctx, alice, n); err != nil {
			t.Errorf("Create with transport %q: %v", tr, err)
		}
	}
	off := mcp.NewStore(e.db, mcp.StoreConfig{StdioCommands: mcp.ParseStdioCommands("")})
	if _, err := off.Create(ctx, alice, mcp.NewServer{Name: "z", Transport: "stdio", Command: "node"}); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("stdio with stdio disabled = %v", err)
	}
	anyCmd := mcp.NewStore(e.db, mcp.StoreConfig{StdioCommands: mcp.ParseStdioCommands("*")})
	if _, err := anyCmd.Create(ctx, alice, mcp.NewServer{Name: "z", Transport: "stdio", Command: "/usr/bin/env"}); err != nil {
		t.Errorf("any command allowed: %v", err)
	}
	def := mcp.NewStore(e.db, mcp.StoreConfig{})
	if _, err := def.Create(ctx, alice, mcp.NewServer{Name: "y", Transport: "stdio", Command: "uvx"}); err != nil {
		t.Errorf("default commands: %v", err)
	}
}

func TestParseStdioCommands(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", " , ": "", "npx,node": "npx|node", " uvx , uvx,*": "uvx|*"} {
		got := mcp.ParseStdioCommands(in)
		if got == nil || strings.Join(got, "|") != want {
			t.Errorf("ParseStdioCommands(%q) = %#v, want %q", in, got, want)
		}
	}
}
