package mcp_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/mcp"
)

type callerKey struct{}

// fakeAsker answers with the message, the agent and the caller the
// gateway put in the context.
type fakeAsker struct {
	mu    sync.Mutex // guards asked
	asked []string
}

func (f *fakeAsker) Ask(ctx context.Context, a agents.Agent, conv, msg string) (mcp.Answer, error) {
	caller, _ := ctx.Value(callerKey{}).(string)
	f.mu.Lock()
	f.asked = append(f.asked, caller+":"+string(a.ID)+":"+conv+":"+msg)
	f.mu.Unlock()
	if msg == "fail" {
		return mcp.Answer{}, errors.New("the model is down")
	}
	if conv == "" {
		conv = "conv-" + string(a.ID)
	}
	return mcp.Answer{Text: a.Name + " says: " + msg, ConversationID: conv}, nil
}

// agentGateway stands in for the gateway: a bearer key names the caller
// and the agents they may use.
func agentGateway(h http.Handler, keys map[string][]agents.Agent) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if list, ok := keys[key]; ok {
			ctx := context.WithValue(mcp.WithAgents(r.Context(), list), callerKey{}, key)
			r = r.WithContext(ctx)
		}
		h.ServeHTTP(w, r)
	})
}

type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.key)
	return http.DefaultTransport.RoundTrip(r)
}

func connectAs(t *testing.T, url, key string) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "test-client"}, nil)
	s, err := c.Connect(t.Context(), &sdk.StreamableClientTransport{Endpoint: url, HTTPClient: &http.Client{Transport: bearer{key}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func toolNames(t *testing.T, s *sdk.ClientSession) map[string]*sdk.Tool {
	t.Helper()
	res, err := s.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*sdk.Tool{}
	for _, tl := range res.Tools {
		out[tl.Name] = tl
	}
	return out
}

func TestAgentServer(t *testing.T) {
	t.Parallel()
	alpha := agents.Agent{ID: "a1", Name: "Alpha", Description: "Knows everything about A."}
	beta := agents.Agent{ID: "b1", Name: "Beta bot"}
	gamma := agents.Agent{ID: "g1", Name: "Alpha"} // same name as alpha
	asker := &fakeAsker{}
	srv := httptest.NewServer(agentGateway(mcp.NewAgentServer(asker, nil), map[string][]agents.Agent{
		"key-alice": {alpha, beta, gamma},
		"key-bob":   {beta},
	}))
	t.Cleanup(srv.Close)

	alice := connectAs(t, srv.URL, "key-alice")
	tools := toolNames(t, alice)
	if len(tools) != 3 || tools["ask_Alpha"] == nil || tools["ask_Beta_bot"] == nil {
		t.Fatalf("alice's tools %v", tools)
	}
	if d := tools["ask_Alpha"].Description; !strings.Contains(d, "Knows everything about A.") {
		t.Fatalf("description %q", d)
	}
	schema, _ := json.Marshal(tools["ask_Alpha"].InputSchema)
	var s struct {
		Required   []string                   `json:"required"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(schema, &s) != nil || len(s.Required) != 1 || s.Required[0] != "message" || s.Properties["conversation_id"] == nil {
		t.Fatalf("input schema %s", schema)
	}

	res, err := alice.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Alpha", Arguments: map[string]any{"message": "hi"}})
	if err != nil || res.IsError {
		t.Fatalf("CallTool = %+v, %v", res, err)
	}
	text := res.Content[0].(*sdk.TextContent).Text
	if text != "Alpha says: hi\n\nconversation_id: conv-a1" {
		t.Fatalf("text %q", text)
	}
	var out struct {
		Text           string `json:"text"`
		ConversationID string `json:"conversation_id"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	if json.Unmarshal(b, &out) != nil || out.Text != "Alpha says: hi" || out.ConversationID != "conv-a1" {
		t.Fatalf("structured %s", b)
	}
	// Continuing the conversation, and the answer's error as a tool error.
	if _, err := alice.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Alpha", Arguments: map[string]any{"message": "more", "conversation_id": "conv-a1"}}); err != nil {
		t.Fatal(err)
	}
	res, err = alice.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Beta_bot", Arguments: map[string]any{"message": "fail"}})
	if err != nil || !res.IsError {
		t.Fatalf("failing call = %+v, %v", res, err)
	}
	res, err = alice.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Alpha", Arguments: map[string]any{"message": "  "}})
	if err != nil || !res.IsError {
		t.Fatalf("empty message = %+v, %v", res, err)
	}
	asker.mu.Lock()
	got := strings.Join(asker.asked, "|")
	asker.mu.Unlock()
	if got != "key-alice:a1::hi|key-alice:a1:conv-a1:more|key-alice:b1::fail" {
		t.Fatalf("asked %s", got)
	}

	// Bob sees his agent only and cannot reach Alice's.
	bob := connectAs(t, srv.URL, "key-bob")
	if tools := toolNames(t, bob); len(tools) != 1 || tools["ask_Beta_bot"] == nil {
		t.Fatalf("bob's tools %v", tools)
	}
	if res, err := bob.CallTool(t.Context(), &sdk.CallToolParams{Name: "ask_Alpha", Arguments: map[string]any{"message": "hi"}}); err == nil && !res.IsError {
		t.Fatalf("bob called alice's agent: %+v", res)
	}

	// No session id is issued, and a request without agents is refused.
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	for key, want := range map[string]int{"key-alice": http.StatusOK, "": http.StatusUnauthorized, "wrong": http.StatusUnauthorized} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader(init))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := testHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("Mcp-Session-Id") != "" {
			t.Errorf("key %q: status %d, session %q; want %d and no session", key, resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), want)
		}
	}
}
