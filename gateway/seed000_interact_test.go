package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/atrium-hq/atrium/agents/embed"
	"github.com/atrium-hq/atrium/agents/rag"
	"log/slog"
	"maps"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/agents/tool/custom"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// echoTool is a tool the echo model calls when told "/tool echo_tool {...}".
type echoTool struct{}

func (echoTool) Spec() agents.ToolSpec {
	return agents.ToolSpec{Name: "echo_tool", Description: "repeats its input", Parameters: json.RawMessage(`{"type":"object","properties":{"say":{"type":"string"}}}`)}
}

func (echoTool) Call(_ context.Context, in agents.ToolInput) (agents.ToolOutput, error) {
	var a struct{ Say string }
	json.Unmarshal(in.Arguments, &a)
	return agents.ToolOutput{Content: "echoed " + a.Say}, nil
}

// newRunningEnv is newEnv with a runner answering with the echo model
// (10 tokens, no delay) and echoTool.
func newRunningEnv(t *testing.T) *env {
	t.Helper()
	return newRunningEnvWith(t, gateway.Config{}, nil, nil)
}

// newRunningEnvWith is newRunningEnv with cfg, and models added to the
// catalogue, served by upstreams.
func newRunningEnvWith(t *testing.T, cfg gateway.Config, models []agents.Model, upstreams map[string]agents.Provider) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	ups := map[string]agents.Provider{"echo": echo.New(echo.Config{Tokens: 10, Rate: -1})}
	maps.Copy(ups, upstreams)
	catalogue, err := agents.NewCatalogue(append(agents.BuiltinModels(), models...), ups, "")
	if err != nil {
		t.Fatal(err)
	}
	ag.Check(catalogue, nil)
	tokens := workspaces.NewTokens(testSecret, time.Hour, nil)
	nats, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log, err := nats.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := nats.RunQueue(ctx, bus.RunQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	conv := agents.NewConversations(db, ws, agents.NewEvents(log), queue, nats.Conn, agents.ConversationsConfig{})
	customTools := agents.NewCustomTools(db)
	files := agents.NewFiles(db, agents.FilesConfig{Dir: t.TempDir(), Secret: []byte("test file key"), MaxBytes: 1 << 20})
	knowledge := rag.New(db, ag, files, rag.Config{Embedder: embed.NewHash(0)})
	runner := agents.NewRunner(conv, queue, agents.RunnerConfig{Models: catalogue, Knowledge: knowledge,
		Tools: agents.ToolSources{agents.StaticTools{echoTool{}}, custom.NewSource(customTools, nil).SearchingWith(knowledge)}})
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; knowledge.Close(); nats.Close() })
	h := gateway.NewServer(gateway.Deps{
		Logger: slog.New(slog.DiscardHandler), Workspaces: ws, Agents: ag, Tokens: tokens, Conversations: conv, Catalogue: catalogue, Files: files,
		CustomTools: customTools, RAG: knowledge, Checks: map[string]func(context.Context) error{"database": db.Ping},
	}, cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{db: db, srv: srv, ws: ws, ag: ag, conv: conv, tokens: tokens}
}

// publishedAgent creates, publishes and keys an echo agent of owner.
func (e *env) publishedAgent(t *testing.T, owner, config string) (id, key string) {
	t.Helper()
	return e.publishedAgentOf(t, owner, "echo", config)
}

// publishedAgentOf is publishedAgent with another model.
func (e *env) publishedAgentOf(t *testing.T, owner, model, config string) (id, key string) {
	t.Helper()
	st, body := e.do(t, "POST", "/api/agents/", owner, `{"name":"Echo","model_id":"`+model+`","configuration":`+config+`}`)
	if st != 201 {
		t.Fatalf("create agent = %d %v", st, body)
	}
	id = str(t, body, "id")
	e.do(t, "POST", "/api/agents/"+id+"/publish/", owner, "")
	_, body = e.do(t, "POST", "/api/agents/"+id+"/api-keys/", owner, `{"name":"k"}`)
	return id, str(t, body, "key")
}

// withKey sends a JSON request with an agent key.
func (e *env) withKey(t *testing.T, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	resp, obj := e.raw(t, method, path, map[string]string{"Authorization": "ApiKey " + key, "Content-Type": "application/json"}, body)
	return resp.StatusCode, obj
}

func TestSyncChatKeepsConversationsAndReportsTools(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)

	st, body := e.withKey(t, "POST", "/api/agents/"+id+"/chat/", key, `{"message":"Hello 👋"}`)
	if st != 200 || !strings.HasPrefix(body["response"].(string), "This is the echo model") || body["iterations"] != float64(1) || len(body["tool_calls"].([]any)) != 0 {
		t.Fatalf("chat = %d %v", st, body)
	}
	conv := str(t, body, "conversation_id")
	// A tool call in the middle is reported in seed 000's shape.
	st, body = e.withKey(t, "POST", "/api/agents/"+id+"/chat/", key, `{"message":"/tool echo_tool {\"say\":\"hi 🎉\"}","conversation_id":"`+conv+`"}`)
	calls, _ := body["tool_calls"].([]any)
	if st != 200 || body["conversation_id"] != conv || body["iterations"] != float64(2) || len(calls) != 1 {
		t.Fatalf("chat with a tool = %d %v", st, body)
	}
	call := calls[0].(map[string]any)
	if call["tool_name"] != "echo_tool" || call["result"] != "echoed hi 🎉" || call["parameters"].(map[string]any)["say"] != "hi 🎉" {
		t.Fatalf("tool call = %v", call)
	}
	if !strings.Contains(body["response"].(string), "echo_tool returned echoed hi 🎉") {
		t.Fatalf("response = %v", body["response"])
	}
	// The conversation holds all four messages.
	st, body = e.withKey(t, "POST", "/api/find_conversation", key, `{"conversation_id":"`+conv+`"}`)
	if st != 200 || body["message_count"] != float64(4) {
		t.Fatalf("find = %d %v", st, body)
	}
	// query/ starts a new conversation each time; REST v1 too.
	_, q1 := e.withKey(t, "POST", "/api/agents/"+id+"/query/", key, `{"message":"one"}`)
	_, q2 := e.withKey(t, "POST", "/api/agents/"+id+"/query/", key, `{"message":"one","conversation_id":"`+conv+`"}`)
	if q1["conversation_id"] == q2["conversation_id"] || q2["conversation_id"] == conv {
		t.Fatalf("query/ reused a conversation: %v %v", q1, q2)
	}
	st, body = e.withKey(t, "POST", "/api/v1/chat", key, `{"message":"Hello, how can you help me?"}`)
	if st != 200 || body["response"] == nil || body["conversation_id"] == nil {
		t.Fatalf("v1 chat = %d %v", st, body)
	}
	st, body = e.withKey(t, "GET", "/api/v1/agents", key, "")
	if st != 200 || body["count"] != float64(1) {
		t.Fatalf("v1 agents = %d %v", st, body)
	}
	st, body = e.withKey(t, "GET", "/api/v1/agents/"+id, key, "")
	if st != 200 || body["id"] != id {
		t.Fatalf("v1 agent = %d %v", st, body)
	}

	// Errors, in seed 000's format.
	st, body = e.withKey(t, "POST", "/api/agents/"+id+"/chat/", key, `{}`)
	wantAPIError(t, "no message", st, body, 400, "message is required")
	st, body = e.withKey(t, "POST", "/api/agents/"+id+"/chat/", key, `{"message":"x","conversation_id":"nope"}`)
	wantAPIError(t, "unknown conversation", st, body, 404, "Conversation not found")
	st, body = e.withKey(t, "POST", "/api/v1/chat", "ata_wrong", `{"message":"x"}`)
	wantAPIError(t, "bad key", st, body, 401, "Invalid API key")
	resp, body := e.raw(t, "POST", "/api/v1/chat", map[string]string{"Content-Type": "application/json"}, `{"message":"x"}`)
	wantAPIError(t, "no key", resp.StatusCode, body, 401, "agent API key")
	// Another agent's conversation is not this one's.
	otherID, otherKey := e.publishedAgent(t, owner, `{}`)
	st, body = e.withKey(t, "POST", "/api/agents/"+otherID+"/chat/", otherKey, `{"message":"x","conversation_id":"`+conv+`"}`)
	wantAPIError(t, "another agent's conversation", st, body, 404, "Conversation not found")
}

func TestAsyncConversationsMoveToCompleted(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	_, key := e.publishedAgent(t, owner, `{}`)

	st, body := e.withKey(t, "POST", "/api/create_conversation", key, `{"message":"What is machine learning?"}`)
	if st != 202 || body["status"] != "pending" || body["message"] != "Request queued for processing. Use /api/get_answer with request_id to get results. Use conversation_id to continue the conversation." {
		t.Fatalf("create = %d %v", st, body)
	}
	req, conv := str(t, body, "request_id"), str(t, body, "conversation_id")
	answer := poll(t, e, key, req)
	if answer["conversation_id"] != conv || !strings.HasPrefix(answer["answer"].(string), "This is the echo model") || answer["response"] != answer["answer"] || answer["error_message"] != nil {
		t.Fatalf("answer = %v", answer)
	}
	st, body = e.withKey(t, "POST", "/api/continue_conversation", key, `{"conversation_id":"`+conv+`","message":"Tell me more about that"}`)
	if st != 202 || body["conversation_id"] != conv {
		t.Fatalf("continue = %d %v", st, body)
	}
	poll(t, e, key, str(t, body, "request_id"))
	_, found := e.withKey(t, "POST", "/api/find_conversation", key, `{"conversation_id":"`+conv+`"}`)
	if found["message_count"] != float64(4) {
		t.Fatalf("find = %v", found)
	}

	st, body = e.withKey(t, "POST", "/api/continue_conversation", key, `{"message":"x"}`)
	wantAPIError(t, "continue without id", st, body, 400, "conversation_id")
	st, body = e.withKey(t, "GET", "/api/get_answer", key, "")
	wantAPIError(t, "no request_id", st, body, 400, "request_id")
	st, body = e.withKey(t, "GET", "/api/get_answer?request_id=0123456789abcdef0123456789abcdef", key, "")
	wantAPIError(t, "unknown request", st, body, 404, "Request not found")
	// Another agent's key does not see this request.
	_, other := e.publishedAgent(t, owner, `{}`)
	st, body = e.withKey(t, "GET", "/api/get_answer?request_id="+req, other, "")
	wantAPIError(t, "another agent's request", st, body, 404, "Request not found")
}

func poll(t *testing.T, e *env, key, req string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		st, body := e.withKey(t, "GET", "/api/get_answer?request_id="+req, key, "")
		if st != 200 {
			t.Fatalf("get_answer = %d %v", st, body)
		}
		switch body["status"] {
		case "completed":
			return body
		case "failed":
			t.Fatalf("request failed: %v", body)
		case "pending", "processing":
		default:
			t.Fatalf("status %v", body["status"])
		}
		time.Sleep(10 * time.Millisecond) // polling is the API under test
	}
	t.Fatal("the request never completed")
	return nil
}

func TestAgentWebhookStartsConversationsAndEchoesMetadata(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	body := `{"message":"Summarize this inbound event for the team.","payload":{"event":"ticket.created","ticket_id":"TKT-4412","priority":"high"},"metadata":{"trace_id":"run-2026-04-27-001","source":"zendesk"}}`
	resp, first := e.raw(t, "POST", "/api/webhook/agent/", map[string]string{"X-API-Key": key, "Content-Type": "application/json"}, body)
	md, _ := first["metadata"].(map[string]any)
	if resp.StatusCode != 202 || first["status"] != "pending" || first["agent_id"] != id || md["trace_id"] != "run-2026-04-27-001" ||
		first["message"] != "Queued. Poll GET /api/get_answer with request_id for the result." {
		t.Fatalf("webhook = %d %v", resp.StatusCode, first)
	}
	_, second := e.raw(t, "POST", "/api/webhook/agent/", map[string]string{"X-API-Key": key, "Content-Type": "application/json"}, body)
	if second["conversation_id"] == first["conversation_id"] {
		t.Fatal("two webhook calls shared a conversation")
	}
	poll(t, e, key, str(t, first, "request_id"))
	// The model saw the payload section, never the metadata.
	_, conv := e.withKey(t, "POST", "/api/find_conversation", key, `{"conversation_id":"`+str(t, first, "conversation_id")+`"}`)
	sent := conv["messages"].([]any)[0].(map[string]any)["content"].(string)
	if !strings.Contains(sent, "Summarize this inbound event") || !strings.Contains(sent, "[Webhook payload]") || !strings.Contains(sent, `"ticket_id": "TKT-4412"`) || strings.Contains(sent, "zendesk") {
		t.Fatalf("message to the model = %q", sent)
	}
	for _, bad := range []string{`{}`, `{"metadata":{"a":1}}`, `{"payload":[1]}`, `{"message":"x","metadata":"no"}`} {
		resp, obj := e.raw(t, "POST", "/api/webhook/agent/", map[string]string{"X-API-Key": key, "Content-Type": "application/json"}, bad)
		wantAPIError(t, "webhook "+bad, resp.StatusCode, obj, 400, "")
	}
	// Unpublished agents cannot be reached with their key.
	e.do(t, "POST", "/api/agents/"+id+"/unpublish/", owner, "")
	resp, obj := e.raw(t, "POST", "/api/webhook/agent/", map[string]string{"X-API-Key": key, "Content-Type": "application/json"}, body)
	wantAPIError(t, "unpublished", resp.StatusCode, obj, 403, "not published")
}

func TestSeed003TransactionalAndThreadedAPIs(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	bare := func(path, k, session, body string) (int, map[string]any) {
		t.Helper()
		hdr := map[string]string{"Authorization": k, "Content-Type": "application/json"}
		if session != "" {
			hdr["session"] = session
		}
		resp, obj := e.raw(t, "POST", path, hdr, body)
		return resp.StatusCode, obj
	}
	conv := `{"conversation":[{"role":"system","content":"You are a helpful assistant specialized in customer service."},{"role":"user","content":"I need help with my recent order."},{"role":"assistant","content":"Could you provide your order number?"},{"role":"user","content":"Yes, it's ORDER-123456"}]}`
	st, body := bare("/v1/"+id, key, "", conv)
	if st != 200 || body["status"] != "success" || !strings.HasPrefix(obj(t, body, "data")["response"].(string), "This is the echo model") {
		t.Fatalf("v1 = %d %v", st, body)
	}
	// The whole conversation was stored before the question.
	_, found := e.withKey(t, "POST", "/api/find_conversation", key, `{"conversation_id":"`+str(t, body, "conversation_id")+`"}`)
	if found["message_count"] != float64(5) {
		t.Fatalf("stored conversation = %v", found)
	}
	// A user (trust) key of the owner works too.
	_, uk := e.do(t, "POST", "/api/keys/", owner, `{"name":"trust"}`)
	if st, body := bare("/v1/"+id, str(t, uk, "key"), "", conv); st != 200 {
		t.Fatalf("v1 with a trust key = %d %v", st, body)
	}

	// v2 keeps the thread by the session header.
	st, first := bare("/v2/"+id, key, "unique-session-id", `{"message":{"role":"user","content":"I need to check my order status"}}`)
	_, second := bare("/v2/"+id, key, "unique-session-id", `{"message":{"role":"user","content":"The order number is ORD-789"}}`)
	_, other := bare("/v2/"+id, key, "another-session", `{"message":{"role":"user","content":"hi"}}`)
	if st != 200 || first["conversation_id"] != second["conversation_id"] || first["conversation_id"] == other["conversation_id"] {
		t.Fatalf("v2 threads: %v %v %v", first, second, other)
	}

	for _, tc := range []struct {
		path, key, body string
		status          int
		msg             string
	}{
		{"/v1/" + id, "", conv, 401, "Missing API key"},
		{"/v1/" + id, "ata_nope", conv, 401, "Invalid API key"},
		{"/v1/" + id, key, `{"conversation":[]}`, 400, "conversation is required"},
		{"/v1/" + id, key, `{"conversation":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}`, 400, "must be the user's"},
		{"/v1/" + id, key, `{"conversation":[{"role":"robot","content":"a"}]}`, 400, "role must be"},
		{"/v2/" + id, key, `{}`, 400, "message is required"},
		{"/v2/" + id, key, `{"message":{"role":"user","content":""}}`, 400, "content"},
	} {
		st, body := bare(tc.path, tc.key, "", tc.body)
		if msg, _ := body["error"].(string); st != tc.status || !strings.Contains(msg, tc.msg) {
			t.Errorf("%s %s = %d %v, want %d %q", tc.path, tc.body, st, body, tc.status, tc.msg)
		}
	}
	otherID, _ := e.publishedAgent(t, owner, `{}`)
	if st, _ := bare("/v1/"+otherID, key, "", conv); st != 403 {
		t.Fatalf("another agent's key = %d", st)
	}
}

func TestSeed003StreamsWhenTheAgentStreams(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{"stream":true}`)
	st, raw, hdr := e.send(t, "POST", "/v2/"+id, map[string]string{"Authorization": key, "Content-Type": "application/json"}, `{"message":{"role":"user","content":"stream please"}}`)
	if st != 200 || hdr.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream = %d %s", st, raw)
	}
	var text strings.Builder
	var last map[string]any
	for _, line := range strings.Split(raw, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		json.Unmarshal([]byte(data), &last)
		if last["type"] == "content" {
			text.WriteString(last["delta"].(string))
		}
	}
	if last["type"] != "done" || last["execution_id"] == nil || !strings.HasPrefix(text.String(), "This is the echo model") {
		t.Fatalf("stream ended with %v after %q", last, text.String())
	}
}

func TestSeed001StatefulChat(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	post := func(auth, body string) (int, string) {
		t.Helper()
		st, raw, _ := e.send(t, "POST", "/v1/api/chat", map[string]string{"Authorization": auth, "Content-Type": "application/json"}, body)
		return st, raw
	}
	// Seed 001's request, non-streaming, with the agent as the model.
	st, raw := post("Bearer "+owner, `{"chatId":"chat_abc123","messages":[{"id":"msg_1","role":"user","parts":[{"type":"text","text":"What is machine learning?"}]}],"model":"`+id+`","temperature":0.7,"maxTokens":500}`)
	var msg struct {
		Role  string
		Parts []struct{ Type, Text string }
		Meta  map[string]any `json:"metadata"`
	}
	json.Unmarshal([]byte(raw), &msg)
	if st != 200 || msg.Role != "assistant" || len(msg.Parts) != 1 || !strings.HasPrefix(msg.Parts[0].Text, "This is the echo model") || msg.Meta["finishReason"] != "stop" {
		t.Fatalf("chat = %d %s", st, raw)
	}
	conv := msg.Meta["conversationId"]
	// The same chatId continues the same conversation; streamType data
	// streams seed 001's events.
	st, raw = post("Bearer "+key, `{"chatId":"chat_abc123","messages":[{"role":"user","parts":[{"type":"text","text":"more"}]}],"stream":true,"streamType":"data"}`)
	var deltas int
	var last map[string]any
	for _, line := range strings.Split(raw, "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			last = nil
			json.Unmarshal([]byte(data), &last)
			if last["type"] == "content" {
				deltas++
			}
		}
	}
	if st != 200 || deltas == 0 || last["type"] != "done" || last["metadata"].(map[string]any)["conversationId"] != conv {
		t.Fatalf("stream = %d %s", st, raw)
	}
	// streamType text is the bare text; the short form {message} works.
	st, raw = post("Bearer "+key, `{"message":"Write a story about AI","stream":true,"streamType":"text"}`)
	if st != 200 || !strings.HasPrefix(raw, "This is the echo model") {
		t.Fatalf("text stream = %d %q", st, raw)
	}
	// A catalogue model answers directly.
	st, raw = post("Bearer "+owner, `{"messages":[{"role":"user","content":"hi there"}],"model":"echo"}`)
	if st != 200 || !strings.Contains(raw, "This is the echo model") {
		t.Fatalf("model chat = %d %s", st, raw)
	}
	// Errors in seed 001's shape.
	for _, tc := range []struct {
		auth, body string
		status     int
		code       string
	}{
		{"", `{"message":"x","model":"echo"}`, 401, "missing_api_key"},
		{"Basic eDp5", `{"message":"x","model":"echo"}`, 401, "invalid_api_key"},
		{"Bearer " + owner, `{"message":"x"}`, 400, "missing_parameter"},
		{"Bearer " + owner, `{"message":"x","model":"nope"}`, 404, "model_not_found"},
		{"Bearer " + owner, `{"model":"echo"}`, 400, "missing_parameter"},
		{"Bearer " + owner, `{"message":"x","model":"echo","streamType":"xml"}`, 400, "invalid_parameter"},
		{"Bearer " + owner, `{"message":`, 400, "invalid_json"},
		{"Bearer " + key, `{"message":"x","model":"gpt-4o"}`, 404, "model_not_found"}, // a valid key, not its agent
		{"Bearer " + owner, `{"message":"x","model":"gpt-4o"}`, 400, "model_not_available"},
	} {
		st, raw := post(tc.auth, tc.body)
		var body struct {
			Error struct{ Type, Message, Code string }
		}
		json.Unmarshal([]byte(raw), &body)
		if st != tc.status || body.Error.Code != tc.code || body.Error.Message == "" || body.Error.Type == "" {
			t.Errorf("%s = %d %s, want %d %s", tc.body, st, raw, tc.status, tc.code)
		}
	}
	// Seed 001's documented message for a missing model.
	_, raw = post("Bearer "+owner, `{"message":"x"}`)
	if !strings.Contains(raw, `"message":"Agent ID is required"`) {
		t.Fatalf("missing model = %s", raw)
	}
}

func TestCreditsRunOutWith402(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, ownerID := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	_, body := e.do(t, "GET", "/api/credits/", owner, "")
	if body["balance"] != float64(workspaces.DefaultFreeCredits) {
		t.Fatalf("credits = %v", body)
	}
	// Spend them all (as runs of priced models do).
	ctx := context.Background()
	if err := e.ws.SpendCredits(ctx, e.db.DB, workspaces.UserID(ownerID), workspaces.DefaultFreeCredits+0.5, "test", "run-1"); err != nil {
		t.Fatal(err)
	}
	_, body = e.do(t, "GET", "/api/credits/", owner, "")
	ledger := body["ledger"].([]any)
	if body["balance"] != -0.5 || len(ledger) != 1 || ledger[0].(map[string]any)["amount"] != -10000.5 {
		t.Fatalf("credits after spending = %v", body)
	}
	for _, path := range []string{"/api/agents/" + id + "/chat/", "/api/agents/" + id + "/query/", "/api/agents/" + id + "/invoke/", "/api/v1/chat", "/api/create_conversation", "/api/webhook/agent/"} {
		st, body := e.withKey(t, "POST", path, key, `{"message":"x"}`)
		wantAPIError(t, path, st, body, 402, "credits have run out")
	}
	// Seed 003's APIs, with their bare key, in their own error shape.
	for path, body := range map[string]string{
		"/v1/" + id: `{"conversation":[{"role":"user","content":"x"}]}`,
		"/v2/" + id: `{"message":{"role":"user","content":"x"}}`,
	} {
		st, raw, _ := e.send(t, "POST", path, map[string]string{"Authorization": key, "Content-Type": "application/json", "session": "s-1"}, body)
		var got struct{ Error string }
		if json.Unmarshal([]byte(raw), &got); st != 402 || !strings.Contains(got.Error, "credits have run out") {
			t.Errorf("%s = %d %s, want seed 003's 402", path, st, raw)
		}
	}
	if st, _ := e.do(t, "POST", "/v1/"+id, "", ""); st == 402 {
		t.Fatal("an unauthenticated request learned about credits")
	}
	// Seed 001's chat API refuses a catalogue model, streamed or not, as
	// the completions endpoint does (a direct model call is the caller's
	// to pay), and an agent as the model; in seed 001's error shape.
	for _, tc := range []struct{ path, auth, body string }{
		{"/v1/chat/completions", owner, `{"model":"echo","messages":[{"role":"user","content":"x"}]}`},
		{"/v1/chat/completions", owner, `{"model":"echo","stream":true,"messages":[{"role":"user","content":"x"}]}`},
		{"/v1/api/chat", owner, `{"model":"echo","message":"x"}`},
		{"/v1/api/chat", owner, `{"model":"echo","message":"x","stream":true}`},
		{"/v1/api/chat", owner, `{"model":"echo","message":"x","stream":true,"streamType":"text"}`},
		{"/v1/api/chat", key, `{"message":"x","stream":true}`},
	} {
		st, raw, _ := e.send(t, "POST", tc.path, map[string]string{"Authorization": "Bearer " + tc.auth, "Content-Type": "application/json"}, tc.body)
		var body struct {
			Error struct{ Type, Code, Message string }
		}
		json.Unmarshal([]byte(raw), &body)
		if st != 402 || body.Error.Type != "insufficient_quota" || body.Error.Code != "insufficient_credits" || !strings.Contains(body.Error.Message, "credits have run out") {
			t.Errorf("%s %s = %d %s, want 402 insufficient_credits", tc.path, tc.body, st, raw)
		}
	}
	// A grant restores service.
	if err := e.ws.GrantCredits(ctx, workspaces.UserID(ownerID), 100, "purchase"); err != nil {
		t.Fatal(err)
	}
	if st, body := e.withKey(t, "POST", "/api/v1/chat", key, `{"message":"x"}`); st != 200 {
		t.Fatalf("after a grant = %d %v", st, body)
	}
	if st, raw, _ := e.send(t, "POST", "/v1/api/chat", map[string]string{"Authorization": "Bearer " + owner}, `{"model":"echo","message":"x"}`); st != 200 {
		t.Fatalf("model chat after a grant = %d %s", st, raw)
	}
}

// TestRESTv1CallsCostTheOwner checks seed 000's price of a REST v1 call:
// each /api/v1/chat and /api/v1/query call charges the agent's owner 0.08
// credits (the echo model's runs are free), other APIs do not, and an
// owner with less than that left gets 402.
func TestRESTv1CallsCostTheOwner(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, ownerID := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{}`)
	balance := func() float64 {
		_, body := e.do(t, "GET", "/api/credits/", owner, "")
		return body["balance"].(float64)
	}
	start := balance()
	for _, path := range []string{"/api/v1/chat", "/api/v1/query", "/api/agents/" + id + "/query/"} {
		if st, body := e.withKey(t, "POST", path, key, `{"message":"hello"}`); st != 200 {
			t.Fatalf("%s = %d %v", path, st, body)
		}
	}
	if got, want := start-balance(), 2*0.08; math.Abs(got-want) > 1e-9 {
		t.Fatalf("two REST v1 calls and one /query/ cost %v, want %v", got, want)
	}
	_, body := e.do(t, "GET", "/api/credits/", owner, "")
	if ledger := body["ledger"].([]any); len(ledger) != 2 || ledger[0].(map[string]any)["reason"] != "api_call" {
		t.Fatalf("ledger = %v, want two api_call lines", ledger)
	}
	// Left with less than a call's price: REST v1 refuses, the others
	// (priced by their model) still answer.
	ctx := context.Background()
	if err := e.ws.SpendCredits(ctx, e.db.DB, workspaces.UserID(ownerID), balance()-0.05, "test", ""); err != nil {
		t.Fatal(err)
	}
	st, body := e.withKey(t, "POST", "/api/v1/chat", key, `{"message":"x"}`)
	wantAPIError(t, "/api/v1/chat", st, body, 402, "credits have run out")
	if st, body := e.withKey(t, "POST", "/api/agents/"+id+"/query/", key, `{"message":"x"}`); st != 200 {
		t.Fatalf("/query/ with 0.05 left = %d %v", st, body)
	}
}

// TestOpenAIAPIWithAnAgentAsTheModel: seed 001's "model" may be an agent:
// the agent answers (its tools run inside), streamed as OpenAI chunks.
func TestOpenAIAPIWithAnAgentAsTheModel(t *testing.T) {
	t.Parallel()
	e := newRunningEnv(t)
	owner, _ := e.user(t, "owner@x.io")
	id, key := e.publishedAgent(t, owner, `{"system_prompt":"Be kind."}`)
	for _, auth := range []string{owner, key} {
		resp, body := e.raw(t, "POST", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + auth, "Content-Type": "application/json"},
			`{"model":"`+id+`","messages":[{"role":"system","content":"extra"},{"role":"user","content":"/tool echo_tool {\"say\":\"ok\"}"}]}`)
		choices, _ := body["choices"].([]any)
		if resp.StatusCode != 200 || len(choices) != 1 || body["model"] != id {
			t.Fatalf("agent completion = %d %v", resp.StatusCode, body)
		}
		msg := choices[0].(map[string]any)["message"].(map[string]any)
		if !strings.Contains(msg["content"].(string), "echo_tool returned echoed ok") || msg["tool_calls"] != nil {
			t.Fatalf("message = %v", msg)
		}
		// The completion's id names the run: its answer can be fetched
		// again (a client that left mid-answer finds it there).
		request, ok := strings.CutPrefix(body["id"].(string), "chatcmpl-")
		if !ok {
			t.Fatalf("id %v, want chatcmpl-<request id>", body["id"])
		}
		if st, got := e.withKey(t, "GET", "/api/get_answer?request_id="+request, key, ""); st != 200 || got["status"] != "completed" || got["answer"] != msg["content"] {
			t.Fatalf("get_answer of completion %s = %d %v", body["id"], st, got)
		}
	}
	st, raw, _ := e.send(t, "POST", "/v1/api/chat/completions", map[string]string{"Authorization": "Bearer " + key, "Content-Type": "application/json"},
		`{"model":"`+id+`","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hello stream"}]}`)
	var text strings.Builder
	ids := map[string]bool{}
	for _, line := range strings.Split(raw, "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok || data == "[DONE]" {
			continue
		}
		var c struct {
			ID      string
			Choices []struct{ Delta struct{ Content string } }
		}
		json.Unmarshal([]byte(data), &c)
		ids[c.ID] = true
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	for id := range ids {
		request, ok := strings.CutPrefix(id, "chatcmpl-")
		if len(ids) != 1 || !ok {
			t.Fatalf("streamed chunk ids %v, want one chatcmpl-<request id>", ids)
		}
		if st, got := e.withKey(t, "GET", "/api/get_answer?request_id="+request, key, ""); st != 200 || got["status"] != "completed" || got["answer"] != text.String() {
			t.Fatalf("get_answer of streamed completion %s = %d %v, streamed %q", id, st, got, text.String())
		}
	}
	if st != 200 || !strings.HasSuffix(strings.TrimSpace(raw), "data: [DONE]") || !strings.HasPrefix(text.String(), "This is the echo model") {
		t.Fatalf("agent stream = %d %s", st, raw)
	}
	// Another user cannot use the agent as a model; an agent key cannot
	// reach another model.
	stranger, _ := e.user(t, "stranger@x.io")
	resp, body := e.raw(t, "POST", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + stranger, "Content-Type": "application/json"},
		`{"model":"`+id+`","messages":[{"role":"user","content":"x"}]}`)
	if resp.StatusCode != 404 {
		t.Fatalf("stranger = %d %v", resp.StatusCode, body)
	}
}

// countingModel answers with what it was given: how many messages, and
// whether the conversation's system message and its oldest turn were
// among them.
type countingModel struct{}

func (countingModel) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	all := req.System
	for _, m := range req.Messages {
		all += "\n" + m.Content
	}
	text := fmt.Sprintf("messages=%d pirate=%v oldest=%v", len(req.Messages), strings.Contains(all, "Be a pirate."), strings.Contains(all, "turn 0."))
	if err := emit(agents.Delta{Text: text}); err != nil {
		return agents.ModelResponse{}, err
	}
	return agents.ModelResponse{Text: text, FinishReason: agents.FinishStop}, nil
}

// TestStatelessConversationsReachTheModelWhole: seed 003's v1 and the
// OpenAI API (model = an agent) carry the whole conversation in each
// request; the model is given all of it, system message first, whatever
// the agent's memory settings (which cut stored conversations).
func TestStatelessConversationsReachTheModelWhole(t *testing.T) {
	t.Parallel()
	e := newRunningEnvWith(t, gateway.Config{}, []agents.Model{{Name: "counter", Upstream: "counter"}}, map[string]agents.Provider{"counter": countingModel{}})
	owner, _ := e.user(t, "owner@x.io")
	conv := []map[string]string{{"role": "system", "content": "Be a pirate."}}
	for i := range 80 {
		role := []string{"user", "assistant"}[i%2]
		conv = append(conv, map[string]string{"role": role, "content": fmt.Sprintf("turn %d.", i)})
	}
	conv = append(conv, map[string]string{"role": "user", "content": "And now?"})
	const want = "pirate=true oldest=true"
	for _, config := range []string{`{}`, `{"use_memory": false}`, `{"max_history_messages": 2}`} {
		id, key := e.publishedAgentOf(t, owner, "counter", config)
		b, _ := json.Marshal(map[string]any{"conversation": conv})
		resp, body := e.raw(t, "POST", "/v1/"+id, map[string]string{"Authorization": key, "Content-Type": "application/json"}, string(b))
		if resp.StatusCode != 200 || !strings.Contains(fmt.Sprint(body["data"]), want) {
			t.Fatalf("%s: v1 = %d %v, want %q", config, resp.StatusCode, body, want)
		}
		b, _ = json.Marshal(map[string]any{"model": id, "messages": conv})
		st, body := e.do(t, "POST", "/v1/chat/completions", owner, string(b))
		if st != 200 || !strings.Contains(fmt.Sprint(body["choices"]), want) {
			t.Fatalf("%s: chat completions = %d %v, want %q", config, st, body, want)
		}
	}
	// More messages than a conversation may have: a clear 400.
	long := make([]map[string]string, agents.MaxConversationMessages+1)
	for i := range long {
		long[i] = map[string]string{"role": "user", "content": "hi"}
	}
	id, key := e.publishedAgentOf(t, owner, "counter", `{}`)
	b, _ := json.Marshal(map[string]any{"conversation": long})
	resp, body := e.raw(t, "POST", "/v1/"+id, map[string]string{"Authorization": key, "Content-Type": "application/json"}, string(b))
	if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(body["error"]), "at most 1000 messages") {
		t.Fatalf("v1 with %d messages = %d %v", len(long), resp.StatusCode, body)
	}
}
