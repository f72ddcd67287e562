//go:build unix

package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/workspaces"
)

// gone reports whether no process (not even a zombie) has id pid.
func gone(pid int) bool {
	if pid <= 0 {
		return true // no process (kill would address a whole group)
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// The environment variable a stdio child must not see: Atrium's own.
const secretEnv = "ATRIUM_MCP_TEST_SECRET"

func TestStdioEverything(t *testing.T) {
	// Not parallel: it sets an environment variable of the test process.
	t.Setenv(secretEnv, "do-not-leak")
	e := newEnv(t, testConfig(t))
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	n := everything(t, "everything", false)
	n.Env = map[string]string{"MY_SETTING": "from-the-server-config"}
	srv := e.server(t, alice, n)

	ts := tools(t, e.m, a)
	for _, want := range []string{"mcp_everything_echo", "mcp_everything_get-sum", "mcp_everything_get-env", "mcp_everything_get-tiny-image"} {
		if ts[want] == nil {
			t.Fatalf("no %s among %v", want, names(ts))
		}
	}
	spec := ts["mcp_everything_echo"].Spec()
	var schema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(spec.Parameters, &schema); err != nil || schema.Type != "object" || schema.Properties["message"] == nil || spec.Description == "" {
		t.Fatalf("echo spec %+v (%v)", spec, err)
	}

	if out, err := call(t, ts, a, "mcp_everything_echo", map[string]any{"message": "hello there"}); err != nil || !strings.Contains(out, "hello there") {
		t.Fatalf("echo = %q, %v", out, err)
	}
	if out, err := call(t, ts, a, "mcp_everything_get-sum", map[string]any{"a": 2, "b": 40}); err != nil || !strings.Contains(out, "42") {
		t.Fatalf("get-sum = %q, %v", out, err)
	}
	// Invalid arguments come back as the tool's error.
	if out, err := call(t, ts, a, "mcp_everything_get-sum", map[string]any{"a": "two"}); err == nil {
		t.Fatalf("get-sum with bad arguments = %q, want an error", out)
	}
	out, err := call(t, ts, a, "mcp_everything_get-env", map[string]any{})
	if err != nil || !strings.Contains(out, "from-the-server-config") || !strings.Contains(out, `"PATH"`) || strings.Contains(out, secretEnv) || strings.Contains(out, "do-not-leak") {
		t.Fatalf("get-env = %q, %v; want the server's env and PATH, not Atrium's secret", out, err)
	}
	if out, err := call(t, ts, a, "mcp_everything_get-tiny-image", map[string]any{}); err != nil || !strings.Contains(out, "[image: image/png") {
		t.Fatalf("get-tiny-image = %q, %v", out, err)
	}

	// One process serves every call, and the list is cached.
	pid := mcp.PID(e.m, srv.ID)
	if pid == 0 {
		t.Fatal("no process")
	}
	tools(t, e.m, a)
	if p := mcp.PID(e.m, srv.ID); p != pid {
		t.Fatalf("pid %d became %d", pid, p)
	}

	// Another agent of the owner sees the server (it serves all agents),
	// another user's agent does not.
	if ts := tools(t, e.m, e.agent(t, alice, "other")); ts["mcp_everything_echo"] == nil {
		t.Fatal("another agent of the owner lacks the tools")
	}
	if ts := tools(t, e.m, e.agent(t, e.user(t, "bob@x.io"), "bobs")); len(ts) != 0 {
		t.Fatalf("another user's agent got %v", names(ts))
	}

	// Forget stops the process; the next use starts a new one.
	e.m.Forget(srv.ID)
	waitFor(t, "the forgotten server's process to end", func() bool { return gone(pid) })
	if _, err := call(t, ts, a, "mcp_everything_echo", map[string]any{"message": "x"}); err == nil || !strings.Contains(err.Error(), "changed or removed") {
		t.Fatalf("calling a forgotten server's tool = %v", err)
	}
	ts = tools(t, e.m, a)
	if out, err := call(t, ts, a, "mcp_everything_echo", map[string]any{"message": "again"}); err != nil || !strings.Contains(out, "again") {
		t.Fatalf("echo after Forget = %q, %v", out, err)
	}
}

func TestStdioFilesystem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(t))
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(path, []byte("the answer is 42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.server(t, alice, mcp.NewServer{
		Agent: a.ID, Name: "filesystem", Transport: "stdio", Command: "node",
		Args: []string{serverJS(t, "server-filesystem"), dir},
	})
	ts := tools(t, e.m, a)
	name := "mcp_filesystem_read_text_file"
	if ts[name] == nil {
		name = "mcp_filesystem_read_file"
	}
	out, err := call(t, ts, a, name, map[string]any{"path": path})
	if err != nil || !strings.Contains(out, "the answer is 42") {
		t.Fatalf("%s = %q, %v", name, out, err)
	}
	// Outside the allowed directory the server refuses, as a tool error.
	if out, err := call(t, ts, a, name, map[string]any{"path": "/etc/hostname"}); err == nil {
		t.Fatalf("reading outside the directory = %q, want an error", out)
	}
}

func TestStdioCrashRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(t))
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	auto := e.server(t, alice, everything(t, "auto", true))
	lazy := e.server(t, alice, everything(t, "lazy", false))
	if err := e.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The auto_connect server starts by itself; the other waits for use.
	waitFor(t, "the auto_connect server to start", func() bool { return mcp.PID(e.m, auto.ID) != 0 })
	if p := mcp.PID(e.m, lazy.ID); p != 0 {
		t.Fatalf("the lazy server runs (pid %d) before use", p)
	}
	ts := tools(t, e.m, a)
	lazyPID := mcp.PID(e.m, lazy.ID)
	autoPID := mcp.PID(e.m, auto.ID)
	if lazyPID == 0 || autoPID == 0 {
		t.Fatalf("pids %d %d", autoPID, lazyPID)
	}

	// A killed auto_connect process is restarted without being used.
	if err := syscall.Kill(autoPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the auto_connect server to restart", func() bool {
		p := mcp.PID(e.m, auto.ID)
		return p != 0 && p != autoPID
	})
	waitFor(t, "the killed process to be reaped", func() bool { return gone(autoPID) })
	if out, err := call(t, ts, a, "mcp_auto_echo", map[string]any{"message": "back"}); err != nil || !strings.Contains(out, "back") {
		t.Fatalf("echo after restart = %q, %v", out, err)
	}

	// A killed lazy process comes back on the next call.
	if err := syscall.Kill(lazyPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the lazy server's session to end", func() bool { return mcp.PID(e.m, lazy.ID) == 0 })
	list, err := e.m.ListTools(context.Background(), alice, a.ID)
	if err != nil || len(list) != 2 || list[1].Status != mcp.StatusConnected {
		t.Fatalf("ListTools after the crash = %+v, %v", list, err)
	}
	if out, err := call(t, ts, a, "mcp_lazy_echo", map[string]any{"message": "lazy"}); err != nil || !strings.Contains(out, "lazy") {
		t.Fatalf("echo after the lazy crash = %q, %v", out, err)
	}
	if p := mcp.PID(e.m, lazy.ID); p == 0 || p == lazyPID {
		t.Fatalf("lazy pid %d after restart (was %d)", p, lazyPID)
	}
}

func TestRefusedCommand(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.StdioCommands = []string{"node"}
	e := newEnv(t, cfg)
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	if _, err := e.store.Create(context.Background(), alice, mcp.NewServer{Name: "sh", Transport: "stdio", Command: "sh", Args: []string{"-c", "id"}}); workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(err.Error(), `"sh" is not allowed`) {
		t.Fatalf("Create with sh = %v", err)
	}
	// A server saved under a wider list is refused when the list narrows.
	wide := mcp.NewStore(e.db, mcp.StoreConfig{StdioCommands: []string{"*"}})
	sh, err := wide.Create(context.Background(), alice, mcp.NewServer{Name: "sh", Transport: "stdio", Command: "sh", Args: []string{"-c", "touch pwned"}})
	if err != nil {
		t.Fatal(err)
	}
	good := e.server(t, alice, everything(t, "good", false))
	ts := tools(t, e.m, a)
	if ts["mcp_good_echo"] == nil || len(ts) == 0 {
		t.Fatalf("tools %v", names(ts))
	}
	for n := range ts {
		if strings.HasPrefix(n, "mcp_sh_") {
			t.Fatalf("refused server's tool %s offered", n)
		}
	}
	if _, err := e.m.Test(context.Background(), sh); workspaces.ErrorKind(err) != workspaces.KindInvalid || !strings.Contains(err.Error(), "not allowed") {
		t.Fatalf("Test of a refused command = %v", err)
	}
	list, err := e.m.ListTools(context.Background(), alice, "")
	if err != nil || len(list) != 2 || list[0].Status != mcp.StatusError || !strings.Contains(list[0].Error, "not allowed") || list[1].Server.ID != good.ID || list[1].Status != mcp.StatusConnected {
		t.Fatalf("ListTools = %+v, %v", list, err)
	}
}

func TestTestAndListTools(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(t))
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	other := e.agent(t, alice, "other")
	srv := e.server(t, alice, everything(t, "everything", false))
	mine := e.server(t, alice, mcp.NewServer{Agent: other.ID, Name: "mine", Transport: "stdio", Command: "node", Args: []string{serverJS(t, "server-everything")}})
	broken := e.server(t, alice, mcp.NewServer{Name: "broken", Transport: "stdio", Command: "node", Args: []string{"-e", "console.error('cannot start: missing API key'); process.exit(3)"}})
	off := e.server(t, alice, mcp.NewServer{Name: "off", Transport: "stdio", Command: "node", Args: []string{"-e", "0"}, Active: ptr(false)})

	infos, err := e.m.Test(context.Background(), srv)
	if err != nil {
		t.Fatal(err)
	}
	var echo *mcp.ToolInfo
	for i := range infos {
		if infos[i].OriginalName == "echo" {
			echo = &infos[i]
		}
	}
	if echo == nil || echo.Name != "mcp_everything_echo" || echo.Description == "" || !strings.Contains(string(echo.InputSchema), "message") {
		t.Fatalf("Test = %+v", infos)
	}
	// Test does not keep a connection.
	if p := mcp.PID(e.m, srv.ID); p != 0 {
		t.Fatalf("Test left pid %d", p)
	}
	_, err = e.m.Test(context.Background(), broken)
	if workspaces.ErrorKind(err) != workspaces.KindUnavailable || !strings.Contains(workspaces.ErrorMessage(err), "cannot start: missing API key") {
		t.Fatalf("Test of a failing server = %v; want unavailable with its stderr", err)
	}

	list, err := e.m.ListTools(context.Background(), alice, a.ID)
	if err != nil || len(list) != 3 {
		t.Fatalf("ListTools(helper) = %+v, %v", list, err)
	}
	byName := map[string]mcp.ServerTools{}
	for _, st := range list {
		byName[st.Server.Name] = st
	}
	if st := byName["everything"]; st.Status != mcp.StatusConnected || len(st.Tools) < 5 || st.Error != "" {
		t.Fatalf("everything: %+v", st)
	}
	if st := byName["broken"]; st.Status != mcp.StatusError || !strings.Contains(st.Error, "missing API key") || len(st.Tools) != 0 {
		t.Fatalf("broken: %+v", st)
	}
	if st := byName["off"]; st.Status != mcp.StatusInactive || st.Server.ID != off.ID {
		t.Fatalf("off: %+v", st)
	}
	if _, ok := byName["mine"]; ok {
		t.Fatal("another agent's server listed")
	}
	all, err := e.m.ListTools(context.Background(), alice, "")
	if err != nil || len(all) != 4 || all[1].Server.ID != mine.ID {
		t.Fatalf("ListTools(all) = %d servers, %v", len(all), err)
	}
	if _, err := e.m.ListTools(context.Background(), alice, "nope"); workspaces.ErrorKind(err) != workspaces.KindInvalid {
		t.Fatalf("ListTools of an unknown agent = %v", err)
	}
	// The broken server's tools are skipped: the run still gets the others.
	ts := tools(t, e.m, a)
	if ts["mcp_everything_echo"] == nil {
		t.Fatalf("tools %v", names(ts))
	}
}

// TestCloseStopsEverything is not parallel, so that the goroutines it
// counts are its own.
func TestCloseStopsEverything(t *testing.T) {
	e := newEnv(t, testConfig(t))
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	auto := e.server(t, alice, everything(t, "auto", true))
	lazy := e.server(t, alice, everything(t, "lazy", false))
	if err := e.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := tools(t, e.m, a)
	pids := []int{mcp.PID(e.m, auto.ID), mcp.PID(e.m, lazy.ID)}
	if pids[0] == 0 || pids[1] == 0 {
		t.Fatalf("pids %v", pids)
	}
	done := make(chan struct{})
	go func() { e.m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return")
	}
	for _, pid := range pids {
		if !gone(pid) {
			t.Errorf("process %d survives Close", pid)
		}
	}
	waitFor(t, "the manager's and the SDK's goroutines to end", func() bool { return leaked() == "" })
	if _, err := call(t, ts, a, "mcp_auto_echo", map[string]any{"message": "x"}); err == nil {
		t.Fatal("a call after Close worked")
	}
	if ts, err := e.m.Tools(context.Background(), a); err != nil || len(ts) != 0 {
		t.Fatalf("Tools after Close = %d, %v", len(ts), err)
	}
}

// leaked returns the stacks of goroutines running code of this package
// or of the MCP SDK, other than the test's own.
func leaked() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if (strings.Contains(g, "atrium/agents/mcp.") || strings.Contains(g, "modelcontextprotocol/go-sdk")) && !strings.Contains(g, "agents/mcp_test.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

func TestIdleSessionsClose(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.IdleTimeout = 200 * time.Millisecond
	e := newEnv(t, cfg)
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	lazy := e.server(t, alice, everything(t, "lazy", false))
	auto := e.server(t, alice, everything(t, "auto", true))
	if err := e.m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := tools(t, e.m, a)
	// On a loaded machine the sweep may close the session before PID is
	// read: pid is 0 then.
	pid := mcp.PID(e.m, lazy.ID)
	waitFor(t, "the idle lazy server to stop", func() bool { return mcp.PID(e.m, lazy.ID) == 0 && gone(pid) })
	if mcp.PID(e.m, auto.ID) == 0 {
		t.Fatal("the auto_connect server was closed as idle")
	}
	if out, err := call(t, ts, a, "mcp_lazy_echo", map[string]any{"message": "awake"}); err != nil || !strings.Contains(out, "awake") {
		t.Fatalf("echo after idling = %q, %v", out, err)
	}
}
