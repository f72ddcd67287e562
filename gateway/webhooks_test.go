package gateway_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/webhook"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// newWebhookEnv is a gateway with outgoing webhooks wired as cmd/atrium
// wires them: the agents service and a runner (echo model, echoTool)
// notify the webhook service, whose dispatcher and worker run, the worker
// allowed to reach this machine's test receivers.
func newWebhookEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	catalogue := testCatalogue(t)
	ag.Check(catalogue, nil)
	tokens := workspaces.NewTokens(testSecret, time.Hour, nil)
	nats, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nats.Close() })
	chatLog, err := nats.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	runs, err := nats.RunQueue(ctx, bus.RunQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := nats.WebhookQueue(ctx, bus.WebhookQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	wh := webhook.New(db, ag, queue, webhook.Config{})
	ag.NotifyTo(wh)
	conv := agents.NewConversations(db, ws, agents.NewEvents(chatLog), runs, nats.Conn, agents.ConversationsConfig{})
	runner := agents.NewRunner(conv, runs, agents.RunnerConfig{Models: catalogue, Tools: agents.StaticTools{echoTool{}}, Notify: wh})
	worker := webhook.NewWorker(wh, queue, webhook.WorkerConfig{Schedule: []time.Duration{}, Timeout: 5 * time.Second, Allow: []string{"127.0.0.1"}})
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, run := range []func(context.Context) error{runner.Run, wh.Run, worker.Run} {
		wg.Add(1)
		go func() { defer wg.Done(); run(runCtx) }()
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	h := gateway.NewServer(gateway.Deps{
		Logger: slog.New(slog.DiscardHandler), Workspaces: ws, Agents: ag, Tokens: tokens, Conversations: conv,
		Catalogue: catalogue, Webhooks: wh,
	}, gateway.Config{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{db: db, srv: srv, ws: ws, ag: ag, conv: conv, tokens: tokens}
}

// hook is a request a test receiver got.
type hook struct {
	header http.Header
	body   []byte
}

// hookReceiver is a webhook endpoint answering 200 "thanks".
func hookReceiver(t *testing.T) (*httptest.Server, <-chan hook) {
	t.Helper()
	ch := make(chan hook, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ch <- hook{header: r.Header.Clone(), body: body}
		io.WriteString(w, "thanks")
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

func nextHook(t *testing.T, ch <-chan hook) hook {
	t.Helper()
	select {
	case h := <-ch:
		return h
	case <-time.After(15 * time.Second):
		t.Fatal("the receiver got nothing within 15s")
		return hook{}
	}
}

// checkSignature verifies a hook's Standard Webhooks signature with its own
// HMAC computation.
func checkSignature(t *testing.T, secret string, h hook) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	io.WriteString(mac, h.header.Get("webhook-id")+"."+h.header.Get("webhook-timestamp")+".")
	mac.Write(h.body)
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.header.Get("webhook-signature") != want {
		t.Fatalf("webhook-signature %q, want %q", h.header.Get("webhook-signature"), want)
	}
}

// pollDeliveries polls an endpoint's delivery log until ok accepts it.
func (e *env) pollDeliveries(t *testing.T, token, id string, ok func([]map[string]any) bool) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, body := e.do(t, "GET", "/api/webhooks/"+id+"/deliveries/", token, "")
		if st != 200 {
			t.Fatalf("deliveries = %d %v", st, body)
		}
		if results := list(t, body, "results"); ok(results) {
			return results
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries never as wanted: %v", body)
		}
		<-tick.C
	}
}

func TestWebhooksOverREST(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	rcv, hooks := hookReceiver(t)
	alice, aliceID := e.user(t, "alice@x.io")
	bob, bobID := e.user(t, "bob@x.io")
	a1, bobsAgent := e.agent(t, aliceID), e.agent(t, bobID)

	for _, c := range []struct{ body, contains string }{
		{`{}`, "url is required"},
		{`{"url":"ftp://example.com/"}`, "http:// or https://"},
		{`{"url":7}`, "'url'"},
		{`{"url":"https://example.com/","events":"agent.created"}`, "'events'"},
		{`{"url":"https://example.com/","events":["agent.deleted"]}`, "Unknown event 'agent.deleted'"},
		{`{"url":"https://example.com/","agent_id":"` + bobsAgent + `"}`, "Unknown agent_id"},
		{`{"url":"https://example.com/","enabled":"yes"}`, "'enabled'"},
	} {
		st, body := e.do(t, "POST", "/api/webhooks/", alice, c.body)
		wantAPIError(t, "create "+c.body, st, body, 400, c.contains)
	}
	st, body := e.do(t, "GET", "/api/webhooks/", "", "")
	wantAPIError(t, "list without credentials", st, body, 401, "Authorization")

	// Created: the secret is shown this once.
	st, body = e.do(t, "POST", "/api/webhooks/", alice, jsonBody(map[string]any{
		"url": rcv.URL + "/hook", "description": "ops", "agent_id": a1, "events": []string{"agent.execution.completed"},
	}))
	secret, _ := body["secret"].(string)
	if st != 201 || !strings.HasPrefix(secret, "whsec_") || body["agent_id"] != a1 || body["enabled"] != true || body["description"] != "ops" {
		t.Fatalf("create = %d %v", st, body)
	}
	id := str(t, body, "id")
	if ev := body["events"].([]any); len(ev) != 1 || ev[0] != "agent.execution.completed" {
		t.Fatalf("events = %v", body["events"])
	}
	st, body = e.do(t, "GET", "/api/webhooks/", alice, "")
	if results := list(t, body, "results"); st != 200 || body["count"] != float64(1) || len(results) != 1 || results[0]["id"] != id || results[0]["secret"] != nil {
		t.Fatalf("list = %d %v", st, body)
	}
	if st, body = e.do(t, "GET", "/api/webhooks/"+id+"/", alice, ""); st != 200 || body["url"] != rcv.URL+"/hook" || body["secret"] != nil {
		t.Fatalf("get = %d %v", st, body)
	}
	// A user API key works like the token.
	_, keyBody := e.do(t, "POST", "/api/keys/", alice, `{"name":"ci"}`)
	if st, body = e.do(t, "GET", "/api/webhooks/", str(t, keyBody, "key"), ""); st != 200 || body["count"] != float64(1) {
		t.Fatalf("list with an API key = %d %v", st, body)
	}

	// Bob sees none of it.
	if st, body = e.do(t, "GET", "/api/webhooks/", bob, ""); st != 200 || body["count"] != float64(0) {
		t.Fatalf("bob's list = %d %v", st, body)
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/webhooks/" + id + "/", ""},
		{"PATCH", "/api/webhooks/" + id + "/", `{"url":"https://evil.example/"}`},
		{"POST", "/api/webhooks/" + id + "/rotate_secret/", ""},
		{"POST", "/api/webhooks/" + id + "/test/", ""},
		{"GET", "/api/webhooks/" + id + "/deliveries/", ""},
		{"DELETE", "/api/webhooks/" + id + "/", ""},
	} {
		st, body := e.do(t, c.method, c.path, bob, c.body)
		wantAPIError(t, "bob "+c.method+" "+c.path, st, body, 404, "not found")
	}

	// PATCH: null agent means all agents, [] all events.
	st, body = e.do(t, "PATCH", "/api/webhooks/"+id+"/", alice, `{"agent_id":null,"events":[],"description":"all"}`)
	if st != 200 || body["agent_id"] != nil || len(body["events"].([]any)) != 0 || body["description"] != "all" || body["url"] != rcv.URL+"/hook" {
		t.Fatalf("patch = %d %v", st, body)
	}

	// A test ping goes out signed, and shows in the log.
	st, body = e.do(t, "POST", "/api/webhooks/"+id+"/test/", alice, "")
	if st != 202 || body["event"] != "webhook.test" || body["status"] != "pending" || body["webhook_id"] != id {
		t.Fatalf("test = %d %v", st, body)
	}
	deliveryID, msgID := str(t, body, "id"), str(t, body, "message_id")
	h := nextHook(t, hooks)
	if h.header.Get("webhook-id") != msgID {
		t.Fatalf("webhook-id %q, want %q", h.header.Get("webhook-id"), msgID)
	}
	checkSignature(t, secret, h)
	results := e.pollDeliveries(t, alice, id, func(r []map[string]any) bool { return len(r) == 1 && r[0]["status"] == "succeeded" })
	attempts := list(t, results[0], "attempts")
	if payload := obj(t, results[0], "payload"); payload["event"] != "webhook.test" || len(attempts) != 1 ||
		attempts[0]["status_code"] != float64(200) || attempts[0]["response_body"] != "thanks" || attempts[0]["attempt"] != float64(1) {
		t.Fatalf("delivery = %v", results[0])
	}

	// Redelivery: bob cannot, alice can, with the same webhook-id.
	redeliver := "/api/webhooks/" + id + "/deliveries/" + deliveryID + "/redeliver/"
	st, body = e.do(t, "POST", redeliver, bob, "")
	wantAPIError(t, "bob redelivers", st, body, 404, "not found")
	st, body = e.do(t, "POST", "/api/webhooks/"+id+"/deliveries/nope/redeliver/", alice, "")
	wantAPIError(t, "redeliver an unknown delivery", st, body, 404, "Delivery not found")
	if st, body = e.do(t, "POST", redeliver, alice, ""); st != 202 || body["id"] != deliveryID || body["status"] != "pending" {
		t.Fatalf("redeliver = %d %v", st, body)
	}
	if h := nextHook(t, hooks); h.header.Get("webhook-id") != msgID {
		t.Fatalf("redelivered as %q, want %q", h.header.Get("webhook-id"), msgID)
	}
	e.pollDeliveries(t, alice, id, func(r []map[string]any) bool {
		return len(r) == 1 && r[0]["status"] == "succeeded" && r[0]["attempt_count"] == float64(2)
	})

	// Pages of the log, newest first.
	e.do(t, "POST", "/api/webhooks/"+id+"/test/", alice, "")
	nextHook(t, hooks)
	base := "/api/webhooks/" + id + "/deliveries/"
	st, body = e.do(t, "GET", base+"?limit=1", alice, "")
	if r := list(t, body, "results"); st != 200 || body["count"] != float64(2) || len(r) != 1 || r[0]["id"] == deliveryID ||
		body["next"] != base+"?limit=1&offset=1" || body["previous"] != nil {
		t.Fatalf("first page = %d %v", st, body)
	}
	st, body = e.do(t, "GET", base+"?limit=1&offset=1", alice, "")
	if r := list(t, body, "results"); st != 200 || len(r) != 1 || r[0]["id"] != deliveryID || body["next"] != nil || body["previous"] != base+"?limit=1&offset=0" {
		t.Fatalf("second page = %d %v", st, body)
	}
	st, body = e.do(t, "GET", base+"?limit=0", alice, "")
	wantAPIError(t, "limit=0", st, body, 400, "limit")

	// Rotation shows the new secret once; the old one still signs beside it.
	st, body = e.do(t, "POST", "/api/webhooks/"+id+"/rotate_secret/", alice, "")
	if newSecret, _ := body["secret"].(string); st != 200 || !strings.HasPrefix(newSecret, "whsec_") || newSecret == secret {
		t.Fatalf("rotate = %d %v", st, body)
	}
	if _, body = e.do(t, "GET", "/api/webhooks/"+id+"/", alice, ""); body["secret"] != nil {
		t.Fatalf("get after rotate shows the secret: %v", body)
	}

	if st, _, _ := e.send(t, "DELETE", "/api/webhooks/"+id+"/", map[string]string{"Authorization": "Bearer " + alice}, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	st, body = e.do(t, "GET", "/api/webhooks/"+id+"/", alice, "")
	wantAPIError(t, "get after delete", st, body, 404, "not found")
}

func TestWebhooksUnavailableWithoutTheService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	st, body := e.do(t, "GET", "/api/webhooks/", alice, "")
	wantAPIError(t, "list", st, body, 503, "not available")
}

// TestAgentEventsReachWebhooks follows seed 001's four events from the
// agents service and the runner to a receiver.
func TestAgentEventsReachWebhooks(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	rcv, hooks := hookReceiver(t)
	alice, _ := e.user(t, "alice@x.io")
	st, body := e.do(t, "POST", "/api/webhooks/", alice, jsonBody(map[string]any{"url": rcv.URL + "/all"}))
	if st != 201 {
		t.Fatalf("create webhook = %d %v", st, body)
	}
	secret := str(t, body, "secret")

	// agent.created
	id, key := e.publishedAgent(t, alice, `{}`)
	// agent.execution.started, tool.invoked, agent.execution.completed
	st, body = e.withKey(t, "POST", "/api/agents/"+id+"/chat/", key, `{"message":"/tool echo_tool {\"say\":\"hi\"}"}`)
	if st != 200 {
		t.Fatalf("chat = %d %v", st, body)
	}
	got := map[string]map[string]any{}
	for len(got) < 4 {
		h := nextHook(t, hooks)
		checkSignature(t, secret, h)
		var p struct {
			Event     string         `json:"event"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(h.body, &p); err != nil {
			t.Fatalf("payload %s: %v", h.body, err)
		}
		if _, err := time.Parse(time.RFC3339, p.Timestamp); err != nil || p.Data["agent_id"] != id {
			t.Fatalf("payload %s", h.body)
		}
		got[p.Event] = p.Data
	}
	if d := got["agent.created"]; d["name"] != "Echo" {
		t.Fatalf("agent.created data %v", d)
	}
	exec, _ := got["agent.execution.started"]["execution_id"].(string)
	if exec == "" {
		t.Fatalf("agent.execution.started data %v", got["agent.execution.started"])
	}
	if d := got["tool.invoked"]; d["tool_name"] != "echo_tool" || d["execution_id"] != exec {
		t.Fatalf("tool.invoked data %v", d)
	}
	if d := got["agent.execution.completed"]; d["status"] != "success" || d["execution_id"] != exec || d["duration_ms"] == nil {
		t.Fatalf("agent.execution.completed data %v", d)
	}
}
