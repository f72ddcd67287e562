package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// testSecret signs the server's JWTs.
var testSecret = []byte("test-secret-test-secret-test-secret!")

// env is one gateway over its own fresh database.
type env struct {
	db     *sqldb.DB // set by newRunningEnv
	srv    *httptest.Server
	ws     *workspaces.Service
	ag     *agents.Service
	conv   *agents.Conversations
	tokens *workspaces.Tokens
}

// testCatalogue is the built-in catalogue with only the echo model served.
func testCatalogue(t *testing.T) *agents.Catalogue {
	t.Helper()
	c, err := agents.NewCatalogue(agents.BuiltinModels(), map[string]agents.Provider{"echo": echo.New(echo.Config{Rate: -1})}, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	catalogue := testCatalogue(t)
	ag.Check(catalogue, nil)
	tokens := workspaces.NewTokens(testSecret, time.Hour, nil)
	nats, err := bus.Start(context.Background(), bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nats.Close() })
	log, err := nats.ChatLog(context.Background(), bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := nats.RunQueue(context.Background(), bus.RunQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	conv := agents.NewConversations(db, ws, agents.NewEvents(log), queue, nats.Conn, agents.ConversationsConfig{})
	h := gateway.NewServer(gateway.Deps{
		Logger:        slog.New(slog.DiscardHandler),
		Workspaces:    ws,
		Agents:        ag,
		Tokens:        tokens,
		Checks:        map[string]func(context.Context) error{"database": db.Ping},
		Conversations: conv,
		Catalogue:     catalogue,
	}, gateway.Config{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, ws: ws, ag: ag, conv: conv, tokens: tokens}
}

// do sends a request with a JSON body (none when body is "") and the bearer
// token (none when token is ""), and returns the status and the decoded JSON
// object of the response.
func (e *env) do(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	hdr := map[string]string{}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	if body != "" {
		hdr["Content-Type"] = "application/json"
	}
	resp, obj := e.raw(t, method, path, hdr, body)
	return resp.StatusCode, obj
}

// raw sends a request with exactly the headers given and returns the
// response (body already read) and its JSON object. Every gateway answer
// must be a JSON object, so anything else fails the test.
func (e *env) raw(t *testing.T, method, path string, hdr map[string]string, body string) (*http.Response, map[string]any) {
	t.Helper()
	resp, obj, err := e.try(method, path, hdr, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, obj
}

// try is raw for goroutines other than the test's: it returns its failure.
func (e *env) try(method, path string, hdr map[string]string, body string) (*http.Response, map[string]any, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: read body: %v", method, path, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return nil, nil, fmt.Errorf("%s %s: Content-Type = %q, want application/json (body %s)", method, path, ct, data)
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, nil, fmt.Errorf("%s %s: body %q is not a JSON object: %v", method, path, data, err)
	}
	return resp, obj, nil
}

// tryJSON is try with do's conventions, for goroutines.
func (e *env) tryJSON(method, path, token, body string) (int, map[string]any, error) {
	hdr := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		hdr["Authorization"] = "Bearer " + token
	}
	resp, obj, err := e.try(method, path, hdr, body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, obj, nil
}

// want checks a response's status and, when msg is not "", its "msg".
func want(t *testing.T, what string, status int, body map[string]any, wantStatus int, msg string) {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status = %d, want %d (body %v)", what, status, wantStatus, body)
	}
	if msg != "" && body["msg"] != msg {
		t.Fatalf("%s: msg = %#v, want %q (body %v)", what, body["msg"], msg, body)
	}
}

// wantErr checks an error response: its status and a non-empty "msg".
func wantErr(t *testing.T, what string, status int, body map[string]any, wantStatus int) {
	t.Helper()
	want(t, what, status, body, wantStatus, "")
	if m, _ := body["msg"].(string); m == "" {
		t.Fatalf("%s: error without a msg: %v", what, body)
	}
}

// obj returns body[key] as a JSON object.
func obj(t *testing.T, body map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := body[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is %#v, want an object (body %v)", key, body[key], body)
	}
	return o
}

// list returns body[key] as a JSON array of objects.
func list(t *testing.T, body map[string]any, key string) []map[string]any {
	t.Helper()
	arr, ok := body[key].([]any)
	if !ok {
		t.Fatalf("%q is %#v, want an array (body %v)", key, body[key], body)
	}
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%q[%d] is %#v, want an object", key, i, v)
		}
		out[i] = o
	}
	return out
}

// str returns body[key] as a non-empty string.
func str(t *testing.T, body map[string]any, key string) string {
	t.Helper()
	s, ok := body[key].(string)
	if !ok || s == "" {
		t.Fatalf("%q is %#v, want a non-empty string (body %v)", key, body[key], body)
	}
	return s
}

// ts parses body[key] as an RFC 3339 timestamp.
func ts(t *testing.T, body map[string]any, key string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, str(t, body, key))
	if err != nil {
		t.Fatalf("%q: %v", key, err)
	}
	return v
}

// ids returns the values of key in each element.
func ids(items []map[string]any, key string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := it[key].(string)
		out = append(out, s)
	}
	return out
}

func jsonBody(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// user registers email and logs in; it returns the access token and user id.
func (e *env) user(t *testing.T, email string) (token, id string) {
	t.Helper()
	creds := jsonBody(map[string]string{"email": email, "password": "pw-" + email})
	st, body := e.do(t, "POST", "/register", "", creds)
	want(t, "register "+email, st, body, 200, "User created successfully")
	id = str(t, body, "user_id")
	st, body = e.do(t, "POST", "/auth/login", "", creds)
	want(t, "login "+email, st, body, 200, "")
	return str(t, body, "access_token"), id
}

// workspace creates a workspace named name and returns its id.
func (e *env) workspace(t *testing.T, token, name string) string {
	t.Helper()
	st, body := e.do(t, "POST", "/workspace", token, jsonBody(map[string]string{"name": name}))
	want(t, "create workspace", st, body, 200, "Workspace created")
	return str(t, obj(t, body, "workspace"), "workspace_id")
}

// chat creates a chat in workspace ws and returns its id.
func (e *env) chat(t *testing.T, token, ws string) string {
	t.Helper()
	st, body := e.do(t, "POST", "/chat?workspace_id="+ws, token, "")
	want(t, "create chat", st, body, 200, "Chat created successfully")
	return str(t, obj(t, body, "chat"), "chat_id")
}

// agent creates a draft agent owned by owner and returns its id.
func (e *env) agent(t *testing.T, owner string) string {
	t.Helper()
	a, err := e.ag.Create(context.Background(), workspaces.UserID(owner), agents.NewAgent{Name: "bot", ModelID: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	return string(a.ID)
}
