package mcp_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// npmDir is where the real MCP servers the tests drive are installed
// (npm ci --prefix agents/mcp/testdata/npm).
const npmDir = "testdata/npm"

// serverJS returns the absolute path of the bin script of the npm package
// pkg (such as "server-everything"), and node's path. Without them the
// test is skipped, or fails when ATRIUM_TEST_REQUIRE_PROGRAMS=1.
func serverJS(t *testing.T, pkg string) string {
	t.Helper()
	js, err := filepath.Abs(filepath.Join(npmDir, "node_modules", "@modelcontextprotocol", pkg, "dist", "index.js"))
	if err == nil {
		_, err = os.Stat(js)
	}
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("ATRIUM_TEST_REQUIRE_PROGRAMS") == "1" {
			t.Fatalf("node or @modelcontextprotocol/%s is missing (run npm ci --prefix agents/mcp/testdata/npm): %v", pkg, err)
		}
		t.Skipf("node or @modelcontextprotocol/%s is missing (run npm ci --prefix agents/mcp/testdata/npm): %v", pkg, err)
	}
	return js
}

// env is a store and a manager over a fresh database.
type env struct {
	db    *sqldb.DB
	ws    *workspaces.Service
	ag    *agents.Service
	store *mcp.Store
	m     *mcp.Manager
}

// testConfig is a manager configuration for tests: tiny backoff, quick
// termination, a private working directory, logs in the test's output.
func testConfig(t *testing.T) mcp.Config {
	return mcp.Config{
		ConnectTimeout:   30 * time.Second,
		TerminateTimeout: 2 * time.Second,
		BackoffMin:       10 * time.Millisecond,
		BackoffMax:       50 * time.Millisecond,
		WorkDir:          t.TempDir(),
		Logger:           slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func newEnv(t *testing.T, cfg mcp.Config) *env {
	t.Helper()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	e := &env{db: db, ws: ws, ag: agents.New(db, ws)}
	e.store = mcp.NewStore(db, mcp.StoreConfig{StdioCommands: cfg.StdioCommands})
	e.m = mcp.NewManager(e.store, cfg)
	t.Cleanup(func() { e.m.Close() })
	return e
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *env) user(t *testing.T, email string) workspaces.UserID {
	t.Helper()
	u, err := e.ws.Register(context.Background(), email, "password-"+email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func (e *env) agent(t *testing.T, owner workspaces.UserID, name string) agents.Agent {
	t.Helper()
	a, err := e.ag.Create(context.Background(), owner, agents.NewAgent{Name: name, ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *env) server(t *testing.T, owner workspaces.UserID, n mcp.NewServer) mcp.Server {
	t.Helper()
	s, err := e.store.Create(context.Background(), owner, n)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// everything is a stdio server-everything configuration named name.
func everything(t *testing.T, name string, autoConnect bool) mcp.NewServer {
	return mcp.NewServer{
		Name: name, Transport: "stdio", Command: "node", Args: []string{serverJS(t, "server-everything"), "stdio"},
		AutoConnect: &autoConnect,
	}
}

// tools returns the agent's tools by name.
func tools(t *testing.T, m *mcp.Manager, a agents.Agent) map[string]agents.Tool {
	t.Helper()
	list, err := m.Tools(context.Background(), a)
	if err != nil {
		t.Fatalf("Tools: %v", err)
	}
	out := map[string]agents.Tool{}
	for _, tl := range list {
		out[tl.Spec().Name] = tl
	}
	return out
}

func names(m map[string]agents.Tool) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	return out
}

// call calls the tool named name with args as JSON.
func call(t *testing.T, ts map[string]agents.Tool, a agents.Agent, name string, args any) (string, error) {
	t.Helper()
	tl, ok := ts[name]
	if !ok {
		t.Fatalf("no tool %s among %v", name, names(ts))
	}
	b, _ := json.Marshal(args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := tl.Call(ctx, agents.ToolInput{Agent: a, Arguments: b})
	return out.Content, err
}

// waitFor polls cond until it holds, failing the test after 20 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func ptr[T any](v T) *T { return &v }
