package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// everythingJS is the real MCP test server from npm, run with node.
func everythingJS(t *testing.T) string {
	t.Helper()
	js, err := filepath.Abs("../../agents/mcp/testdata/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
	if err == nil {
		_, err = os.Stat(js)
	}
	if err == nil {
		_, err = exec.LookPath("node")
	}
	if err != nil {
		if os.Getenv("ATRIUM_TEST_REQUIRE_PROGRAMS") == "1" {
			t.Fatalf("node or server-everything is missing (npm ci --prefix agents/mcp/testdata/npm): %v", err)
		}
		t.Skipf("node or server-everything is missing (npm ci --prefix agents/mcp/testdata/npm): %v", err)
	}
	return js
}

// apiKeyAuth sends an agent API key on every request.
type apiKeyAuth string

func (k apiKeyAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-API-Key", string(k))
	return http.DefaultTransport.RoundTrip(r)
}

// TestOneAnswerUsesABuiltInACustomAndAnMCPTool follows issue 6's end to
// end case through a whole server: an agent with url_resolver (built in),
// an HTTP tool of its owner's and a stdio MCP server from npm answers one
// message calling all three, and is itself reachable at /mcp.
func TestOneAnswerUsesABuiltInACustomAndAnMCPTool(t *testing.T) {
	t.Parallel()
	js := everythingJS(t)
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body><p>Opening hours: 9 to 5</p></body></html>`)
	}))
	defer page.Close()
	orders := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "Bearer shop-secret" || r.URL.Path != "/orders/ORD-789" {
			w.WriteHeader(403)
			return
		}
		fmt.Fprintf(w, `{"status":"shipped","asked":%s}`, body)
	}))
	defer orders.Close()

	n := startNode(t, []string{
		"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + sqldbtest.URL(t), "ATRIUM_LOG_LEVEL=warn",
		"ATRIUM_ECHO_RATE=0", "ATRIUM_TOOLS_ALLOW_HOSTS=127.0.0.1", "ATRIUM_MCP_STDIO_COMMANDS=node", "PATH=" + os.Getenv("PATH"),
	})
	owner := register(t, n.url, "owner@example.com")
	st, body := call(t, "POST", n.url+"/api/agents/", owner, `{"name":"Shop","model_id":"echo"}`)
	if st != 201 {
		t.Fatalf("create agent = %d %v", st, body)
	}
	agent := body["id"].(string)
	call(t, "POST", n.url+"/api/agents/"+agent+"/publish/", owner, "")
	_, body = call(t, "POST", n.url+"/api/agents/"+agent+"/api-keys/", owner, `{"name":"k"}`)
	key := body["key"].(string)

	// The custom tool: seed 003's fields and an endpoint Atrium calls.
	st, body = call(t, "POST", n.url+"/api/agents/"+agent+"/tools/", owner, `{"name":"Order status","description":"Status of an order",
		"tool_schema":{"type":"object","properties":{"order_number":{"type":"string","description":"The order number"}},"required":["order_number"]},
		"endpoint":"`+orders.URL+`/orders/{order_number}","method":"POST","headers":{"Authorization":"Bearer shop-secret"}}`)
	if st != 201 || body["headers"].(map[string]any)["Authorization"] == "Bearer shop-secret" {
		t.Fatalf("add tool = %d %v", st, body)
	}
	// The MCP server, as seed 000 §5.4 creates one.
	st, body = call(t, "POST", n.url+"/api/mcp-servers/", owner, `{"agent":"`+agent+`","name":"everything","description":"MCP test server",
		"transport_type":"stdio","command":"node","args":["`+js+`"],"auto_connect":true}`)
	if st != 201 {
		t.Fatalf("create MCP server = %d %v", st, body)
	}
	server := body["id"].(string)
	st, body = call(t, "POST", n.url+"/api/mcp-servers/"+server+"/test_connection/", owner, "")
	if st != 200 || body["success"] != true || !strings.Contains(fmt.Sprint(body["tools"]), "mcp_everything_echo") {
		t.Fatalf("test_connection = %d %v", st, body)
	}
	st, body = call(t, "GET", n.url+"/api/mcp-servers/list_tools/?agent_id="+agent, owner, "")
	if st != 200 || !strings.Contains(fmt.Sprint(body["tools"]), "mcp_everything_echo") {
		t.Fatalf("list_tools = %d %v", st, body)
	}
	// An HTTP server's secret headers are shown masked; sending the
	// masked value back keeps the secret.
	st, body = call(t, "POST", n.url+"/api/mcp-servers/", owner, `{"name":"remote","transport_type":"http","url":"https://mcp.example.com/mcp","headers":{"Authorization":"Bearer very-secret-token"},"auto_connect":false}`)
	if st != 201 || strings.Contains(fmt.Sprint(body), "very-secret-token") {
		t.Fatalf("create http server = %d %v", st, body)
	}
	remote, masked := body["id"].(string), body["headers"].(map[string]any)["Authorization"].(string)
	st, body = call(t, "PUT", n.url+"/api/mcp-servers/"+remote+"/", owner, `{"description":"renamed","headers":{"Authorization":"`+masked+`"}}`)
	if st != 200 || body["description"] != "renamed" || body["headers"].(map[string]any)["Authorization"] != masked {
		t.Fatalf("update = %d %v", st, body)
	}
	if st, body := call(t, "GET", n.url+"/api/mcp-servers/", owner, ""); st != 200 || body["count"] != float64(2) {
		t.Fatalf("list = %d %v", st, body)
	}
	other := register(t, n.url, "other@example.com")
	if st, _ := call(t, "GET", n.url+"/api/mcp-servers/"+remote+"/", other, ""); st != 404 {
		t.Fatalf("another user's server = %d", st)
	}
	if st, body := call(t, "POST", n.url+"/api/mcp-servers/", owner, `{"name":"old","transport_type":"sse","url":"https://x.io/sse"}`); st != 400 {
		t.Fatalf("sse = %d %v", st, body)
	}
	req, _ := http.NewRequest("DELETE", n.url+"/api/mcp-servers/"+remote+"/", nil)
	req.Header.Set("Authorization", "Bearer "+owner)
	if resp, err := testHTTP.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("delete = %v %v", resp, err)
	}
	// A command the operator did not allow is refused.
	if st, body := call(t, "POST", n.url+"/api/mcp-servers/", owner, `{"name":"sh","transport_type":"stdio","command":"sh","args":["-c","id"]}`); st != 400 {
		t.Fatalf("create with sh = %d %v", st, body)
	}

	msg := "/tool url_resolver {\"url\":\"" + page.URL + "/hours\"}\n" +
		"/tool Order_status {\"order_number\":\"ORD-789\"}\n" +
		"/tool mcp_everything_echo {\"message\":\"hello from MCP\"}\n" +
		"/tool code_executor {\"code\":\"print(6 * 7)\"}\n" +
		"/tool text_to_speech {\"text\":\"Your order has shipped.\"}"
	b, _ := json.Marshal(map[string]string{"message": msg})
	req, _ = http.NewRequest("POST", n.url+"/api/agents/"+agent+"/chat/", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "ApiKey "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	data, _ := out["data"].(map[string]any)
	if data == nil {
		data = out
	}
	calls, _ := data["tool_calls"].([]any)
	if resp.StatusCode != 200 || len(calls) != 5 {
		t.Fatalf("chat = %d %v", resp.StatusCode, out)
	}
	results := map[string]string{}
	for _, c := range calls {
		c := c.(map[string]any)
		if c["tool_name"] == "text_to_speech" && c["error"] != nil {
			if _, err := exec.LookPath("espeak-ng"); err != nil && os.Getenv("ATRIUM_TEST_REQUIRE_PROGRAMS") != "1" {
				continue // no speech engine here
			}
		}
		if c["error"] != nil && (c["tool_name"] != "code_executor" || os.Geteuid() == 0) {
			// Not root, the sandbox refuses by default (it would run the
			// code as Atrium's own user).
			t.Fatalf("tool call failed: %v", c)
		}
		results[c["tool_name"].(string)], _ = c["result"].(string)
	}
	if !strings.Contains(results["url_resolver"], "Opening hours: 9 to 5") ||
		results["Order_status"] != `{"status":"shipped","asked":{"order_number":"ORD-789"}}` ||
		!strings.Contains(results["mcp_everything_echo"], "hello from MCP") ||
		(os.Geteuid() == 0 && !strings.Contains(results["code_executor"], "42")) {
		t.Fatalf("results = %v", results)
	}
	// A generated file is downloadable by its id (seed 000 §6.3).
	if speech := results["text_to_speech"]; speech != "" {
		_, id, ok := strings.Cut(speech, "file id ")
		id, _, _ = strings.Cut(id, ",")
		st, body := callKey(t, "GET", n.url+"/api/download_file?file_id="+id, key)
		if !ok || st != 200 {
			t.Fatalf("download %q = %d %v", id, st, body)
		}
	}
	if answer, _ := data["response"].(string); !strings.Contains(answer, "echo model") || !strings.Contains(answer, "shipped") {
		t.Fatalf("answer = %q", answer)
	}

	// MCP and custom tools follow the enable rule by their names.
	if st, body := call(t, "PATCH", n.url+"/api/agents/"+agent+"/", owner, `{"configuration":{"disabled_tools":["mcp_everything_echo","Order status"]}}`); st != 200 {
		t.Fatalf("disable = %d %v", st, body)
	}
	offered := func() int {
		b, _ := json.Marshal(map[string]string{"message": "/tool mcp_everything_echo {\"message\":\"x\"}\n/tool Order_status {\"order_number\":\"1\"}"})
		req, _ := http.NewRequest("POST", n.url+"/api/agents/"+agent+"/chat/", strings.NewReader(string(b)))
		req.Header.Set("Authorization", "ApiKey "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := testHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if d, ok := out["data"].(map[string]any); ok {
			out = d
		}
		calls, _ := out["tool_calls"].([]any)
		return len(calls)
	}
	// The runner reuses a loaded agent for up to 2 s: ask until it changes.
	deadline := time.Now().Add(15 * time.Second)
	for offered() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("disabled MCP and custom tools are still offered")
		}
	}

	// The agent itself is a tool of Atrium's MCP server.
	client := sdk.NewClient(&sdk.Implementation{Name: "e2e"}, nil)
	session, err := client.Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: n.url + "/mcp", HTTPClient: &http.Client{Transport: apiKeyAuth(key)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	res, err := session.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Shop", Arguments: map[string]any{"message": "hi there"}})
	if err != nil || res.IsError || len(res.Content) == 0 {
		t.Fatalf("ask_Shop = %+v, %v", res, err)
	}
	if text := res.Content[0].(*sdk.TextContent).Text; !strings.Contains(text, "echo model") || !strings.Contains(text, "conversation_id") {
		t.Fatalf("ask_Shop said %q", text)
	}
}
