package mcp_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/agents/mcp"
	"github.com/atrium-hq/atrium/agents/tool/safehttp"
	"github.com/atrium-hq/atrium/workspaces"
)

// localClient is safehttp's client allowed to reach the test servers on
// 127.0.0.1, as the operator's ATRIUM_TOOLS_ALLOW_HOSTS would.
func localClient() *http.Client {
	return safehttp.New(safehttp.Config{Allow: []string{"127.0.0.1"}, MaxBodyBytes: -1}).HTTPClient()
}

// startEverythingHTTP runs server-everything's Streamable HTTP transport
// on a free port and returns its endpoint. The server takes its port by
// number (PORT), so another test may take the port found free before it
// binds it: then it says so and exits, and another port is tried.
func startEverythingHTTP(t *testing.T) string {
	t.Helper()
	js := serverJS(t, "server-everything")
	for attempt := 1; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		cmd := exec.Command("node", js, "streamableHttp")
		cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
		var out strings.Builder
		var mu sync.Mutex
		w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
		cmd.Stdout, cmd.Stderr = w, w
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-exited
		})
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		var died string
		waitFor(t, "server-everything to listen on "+addr, func() bool {
			select {
			case <-exited:
				mu.Lock()
				defer mu.Unlock()
				died = out.String()
				return true
			default:
			}
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		switch {
		case died == "":
			return "http://" + addr + "/mcp"
		case strings.Contains(died, "already in use") && attempt < 5:
			continue
		default:
			t.Fatalf("server-everything exited: %s", died)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestHTTPEverything(t *testing.T) {
	t.Parallel()
	endpoint := startEverythingHTTP(t)
	cfg := testConfig(t)
	cfg.HTTPClient = localClient()
	e := newEnv(t, cfg)
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	srv := e.server(t, alice, mcp.NewServer{
		Name: "remote", Transport: "streamable_http", URL: endpoint,
		Headers: map[string]string{"X-Api-Key": "k-123"}, AutoConnect: ptr(false),
	})
	ts := tools(t, e.m, a)
	if out, err := call(t, ts, a, "mcp_remote_echo", map[string]any{"message": "over http"}); err != nil || !strings.Contains(out, "over http") {
		t.Fatalf("echo = %q, %v (tools %v)", out, err, names(ts))
	}
	if out, err := call(t, ts, a, "mcp_remote_get-sum", map[string]any{"a": 1, "b": 2}); err != nil || !strings.Contains(out, "3") {
		t.Fatalf("get-sum = %q, %v", out, err)
	}
	infos, err := e.m.Test(context.Background(), srv)
	if err != nil || len(infos) < 5 {
		t.Fatalf("Test = %d tools, %v", len(infos), err)
	}

	// Without the operator's allow list, safehttp refuses the loopback
	// address, and the refusal is what the user sees.
	cfg = testConfig(t)
	cfg.HTTPClient = safehttp.New(safehttp.Config{}).HTTPClient()
	strict := mcp.NewManager(e.store, cfg)
	defer strict.Close()
	if _, err := strict.Test(context.Background(), srv); workspaces.ErrorKind(err) != workspaces.KindUnavailable || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Fatalf("Test through a strict client = %v", err)
	}
}

// goServer is an in-process MCP server on httptest that records the
// headers it receives.
type goServer struct {
	srv  *sdk.Server
	http *httptest.Server

	mu      sync.Mutex // guards headers
	headers []http.Header
}

type greetIn struct {
	Name string `json:"name" jsonschema:"who to greet"`
}

func newGoServer(t *testing.T) *goServer {
	g := &goServer{srv: sdk.NewServer(&sdk.Implementation{Name: "go-test"}, nil)}
	sdk.AddTool(g.srv, &sdk.Tool{Name: "greet", Description: "Greets someone"}, func(ctx context.Context, _ *sdk.CallToolRequest, in greetIn) (*sdk.CallToolResult, any, error) {
		if in.Name == "nobody" {
			return nil, nil, fmt.Errorf("nobody cannot be greeted")
		}
		return &sdk.CallToolResult{Content: []sdk.Content{
			&sdk.TextContent{Text: "Hello, " + in.Name + "!"},
			&sdk.ResourceLink{URI: "file:///greetings.txt", Name: "greetings"},
		}}, nil, nil
	})
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return g.srv }, nil)
	g.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.headers = append(g.headers, r.Header.Clone())
		g.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(g.http.Close)
	return g
}

func TestHTTPGoServer(t *testing.T) {
	t.Parallel()
	g := newGoServer(t)
	cfg := testConfig(t)
	cfg.HTTPClient = localClient()
	e := newEnv(t, cfg)
	alice := e.user(t, "alice@x.io")
	a := e.agent(t, alice, "helper")
	e.server(t, alice, mcp.NewServer{
		Agent: a.ID, Name: "go", Transport: "http", URL: g.http.URL,
		Headers: map[string]string{"Authorization": "Bearer go-secret", "X-Tenant": "t1"},
	})
	// An unreachable server costs only its own tools.
	// (Port 1 on loopback: nothing listens there; a closed test server's
	// port could be taken meanwhile by a parallel test's.)
	e.server(t, alice, mcp.NewServer{Name: "dead", Transport: "http", URL: "http://127.0.0.1:1/mcp"})

	ts := tools(t, e.m, a)
	if len(ts) != 1 || ts["mcp_go_greet"] == nil {
		t.Fatalf("tools %v", names(ts))
	}
	out, err := call(t, ts, a, "mcp_go_greet", map[string]any{"name": "Ada"})
	if err != nil || !strings.Contains(out, "Hello, Ada!") || !strings.Contains(out, "[resource link: file:///greetings.txt greetings]") {
		t.Fatalf("greet = %q, %v", out, err)
	}
	if _, err := call(t, ts, a, "mcp_go_greet", map[string]any{"name": "nobody"}); err == nil || !strings.Contains(err.Error(), "nobody cannot be greeted") {
		t.Fatalf("greet error = %v", err)
	}
	g.mu.Lock()
	for i, h := range g.headers {
		if h.Get("Authorization") != "Bearer go-secret" || h.Get("X-Tenant") != "t1" {
			t.Errorf("request %d lacks the server's headers: %v", i, h)
		}
	}
	g.mu.Unlock()

	// The tool list follows the server's tools/list_changed notice.
	sdk.AddTool(g.srv, &sdk.Tool{Name: "later", Description: "Added later"}, func(context.Context, *sdk.CallToolRequest, struct{}) (*sdk.CallToolResult, any, error) {
		return &sdk.CallToolResult{Content: []sdk.Content{&sdk.TextContent{Text: "late but here"}}}, nil, nil
	})
	waitFor(t, "the new tool to be offered", func() bool { return tools(t, e.m, a)["mcp_go_later"] != nil })
	if out, err := call(t, tools(t, e.m, a), a, "mcp_go_later", map[string]any{}); err != nil || out != "late but here" {
		t.Fatalf("later = %q, %v", out, err)
	}

	list, err := e.m.ListTools(context.Background(), alice, a.ID)
	if err != nil || len(list) != 2 || list[1].Status != mcp.StatusError || list[1].Error == "" || list[0].Status != mcp.StatusConnected {
		t.Fatalf("ListTools = %+v, %v", list, err)
	}
	if h := list[0].Server.Headers["Authorization"]; h != "Bea…(redacted)" {
		t.Fatalf("ListTools shows the header as %q", h)
	}
}
