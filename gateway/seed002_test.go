package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// testSecret signs the server's JWTs.
var testSecret = []byte("test-secret-test-secret-test-secret!")

// env is one gateway over its own fresh database.
type env struct {
	srv    *httptest.Server
	ws     *workspaces.Service
	ag     *agents.Service
	tokens *workspaces.Tokens
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	tokens := workspaces.NewTokens(testSecret, time.Hour, nil)
	h := gateway.NewServer(gateway.Deps{
		Logger:     slog.New(slog.DiscardHandler),
		Workspaces: ws,
		Agents:     ag,
		Tokens:     tokens,
		Checks:     map[string]func(context.Context) error{"database": db.Ping},
	}, gateway.Config{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{srv: srv, ws: ws, ag: ag, tokens: tokens}
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

func TestSeed002PingAndProbes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st, body := e.do(t, "GET", "/ping", "", "")
	want(t, "ping", st, body, 200, "pong")
	if len(body) != 1 {
		t.Fatalf("ping body = %v, want exactly {\"msg\":\"pong\"}", body)
	}
	st, body = e.do(t, "GET", "/healthz", "", "")
	if st != 200 || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", st, body)
	}
	st, body = e.do(t, "GET", "/readyz", "", "")
	if st != 200 || body["status"] != "ready" || obj(t, body, "checks")["database"] != "ok" {
		t.Fatalf("readyz = %d %v", st, body)
	}
}

func TestSeed002RegisterAndLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	creds := `{"email": "user@example.com", "password": "securepassword123"}`
	st, body := e.do(t, "POST", "/register", "", creds)
	want(t, "register", st, body, 200, "User created successfully")
	if body["email"] != "user@example.com" {
		t.Fatalf("register email = %#v", body["email"])
	}
	uid := str(t, body, "user_id")

	st, body = e.do(t, "POST", "/register", "", creds)
	want(t, "register again", st, body, 400, "User already exists")
	st, body = e.do(t, "POST", "/register", "", `{"email": "USER@Example.com", "password": "other"}`)
	want(t, "register again, other case", st, body, 400, "User already exists")

	st, body = e.do(t, "POST", "/auth/login", "", creds)
	want(t, "login", st, body, 200, "")
	token := str(t, body, "access_token")
	if n := strings.Count(token, "."); n != 2 {
		t.Fatalf("access_token %q is not a JWT", token)
	}

	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user", st, body, 200, "")
	u := obj(t, body, "user")
	if u["user_id"] != uid || u["email"] != "user@example.com" {
		t.Fatalf("GET /user = %v, want user_id %s and email user@example.com", u, uid)
	}

	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "nobody@example.com", "password": "x"}`)
	want(t, "login unknown user", st, body, 404, "User not found")
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "user@example.com", "password": "wrong"}`)
	want(t, "login wrong password", st, body, 401, "Incorrect password.")

	for _, path := range []string{"/register", "/auth/login"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			st, body := e.do(t, "POST", path, "", "")
			want(t, "no body", st, body, 400, "Missing JSON in request")
			st, body = e.do(t, "POST", path, "", "  \n ")
			want(t, "blank body", st, body, 400, "Missing JSON in request")
			for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded"} {
				hdr := map[string]string{}
				if ct != "" {
					hdr["Content-Type"] = ct
				}
				resp, body := e.raw(t, "POST", path, hdr, "email=user@example.com&password=x")
				want(t, "form body as "+ct, resp.StatusCode, body, 400, "Missing JSON in request")
			}
			for _, b := range []string{
				`{}`,
				`{"email": "user@example.com"}`,
				`{"password": "x"}`,
				`{"email": "", "password": "x"}`,
				`{"email": "user@example.com", "password": ""}`,
				`{"email": null, "password": "x"}`,
			} {
				st, body := e.do(t, "POST", path, "", b)
				want(t, b, st, body, 400, "Missing email/password parameter")
			}
			// Malformed or mistyped JSON is the client's fault: 400, never 500.
			for _, b := range []string{
				`{"email": 5, "password": "x"}`,
				`{"email": "user@example.com", "password": true}`,
				`{"email": ["user@example.com"], "password": "x"}`,
				`{"email": "user@example.com", "password": {"a": 1}}`,
				`[]`,
				`"user@example.com"`,
				`null`,
				`42`,
				`{"email": "user@example.com", "password": "x"`,
				`{"email": "user@example.com", "password": "x"} trailing`,
			} {
				st, body := e.do(t, "POST", path, "", b)
				wantErr(t, b, st, body, 400)
			}
		})
	}

	// Nothing above created or changed a user.
	st, body = e.do(t, "POST", "/auth/login", "", creds)
	want(t, "login after errors", st, body, 200, "")
}

func TestSeed002BodyLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, _ := e.user(t, "big@example.com")

	// Exactly 1 MiB is accepted.
	small := `{"email": "edge@example.com", "password": "p"}`
	exact := small + strings.Repeat(" ", 1<<20-len(small))
	st, body := e.do(t, "POST", "/register", "", exact)
	want(t, "1 MiB register", st, body, 200, "User created successfully")

	huge := `{"email": "huge@example.com", "password": "` + strings.Repeat("x", 1<<20) + `"}`
	st, body = e.do(t, "POST", "/register", "", huge)
	wantErr(t, "over 1 MiB register", st, body, 413)
	st, body = e.do(t, "POST", "/auth/login", "", huge)
	wantErr(t, "over 1 MiB login", st, body, 413)

	bigName := `{"name": "` + strings.Repeat("n", 1<<20+1) + `"}`
	st, body = e.do(t, "POST", "/workspace", token, bigName)
	wantErr(t, "over 1 MiB workspace", st, body, 413)
	ws := e.workspace(t, token, "W")
	st, body = e.do(t, "PUT", "/workspace/"+ws+"/rename", token, bigName)
	wantErr(t, "over 1 MiB rename", st, body, 413)
	st, body = e.do(t, "PUT", "/user", token, `{"email": "`+strings.Repeat("e", 1<<20)+`@x.io"}`)
	wantErr(t, "over 1 MiB user update", st, body, 413)

	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "huge@example.com", "password": "x"}`)
	want(t, "oversized register created nothing", st, body, 404, "User not found")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get workspace", st, body, 200, "")
	if got := obj(t, body, "workspace")["name"]; got != "W" {
		t.Fatalf("name after oversized rename = %v", got)
	}
}

func TestSeed002JWT(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "jwt@example.com")

	other := workspaces.NewTokens([]byte("another-secret-another-secret-xx!"), time.Hour, nil)
	forged, _, err := other.Issue(workspaces.UserID(uid))
	if err != nil {
		t.Fatal(err)
	}
	past := workspaces.NewTokens(testSecret, time.Hour, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	expired, _, err := past.Issue(workspaces.UserID(uid))
	if err != nil {
		t.Fatal(err)
	}
	// A token whose header and claims were edited to another user, keeping
	// the original signature.
	parts := strings.Split(token, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]

	protected := []struct{ method, path string }{
		{"GET", "/user"},
		{"PUT", "/user"},
		{"POST", "/workspace"},
		{"GET", "/workspace"},
		{"GET", "/workspace/abc"},
		{"DELETE", "/workspace/abc"},
		{"GET", "/workspace/abc/chats"},
		{"POST", "/workspace/abc/agent"},
		{"DELETE", "/workspace/abc/agent"},
		{"PUT", "/workspace/abc/rename"},
		{"POST", "/workspace/abc/members"},
		{"GET", "/workspace/abc/members"},
		{"DELETE", "/workspace/abc/members/def"},
		{"POST", "/chat?workspace_id=abc"},
		{"GET", "/chat?chat_id=abc"},
		{"DELETE", "/chat?chat_id=abc"},
		{"GET", "/chat/authorize?chat_id=abc"},
		{"GET", "/chat/authorize/message?chat_id=abc"},
	}
	for _, p := range protected {
		what := p.method + " " + p.path
		resp, body := e.raw(t, p.method, p.path, nil, "")
		want(t, what+" without header", resp.StatusCode, body, 401, "Missing Authorization Header")
		for name, h := range map[string]string{
			"garbage":      "Bearer garbage",
			"empty bearer": "Bearer ",
			"basic":        "Basic dXNlcjpwYXNz",
			"no scheme":    token,
			"other secret": "Bearer " + forged,
			"expired":      "Bearer " + expired,
			"tampered":     "Bearer " + tampered,
			"alg none":     "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwidHlwZSI6ImFjY2VzcyIsImV4cCI6OTk5OTk5OTk5OX0.",
		} {
			resp, body := e.raw(t, p.method, p.path, map[string]string{"Authorization": h, "Content-Type": "application/json"}, `{"name": "x"}`)
			wantErr(t, what+" with "+name+" token", resp.StatusCode, body, 401)
		}
	}

	st, body := e.do(t, "GET", "/user", forged, "")
	want(t, "token from another secret", st, body, 401, "Signature verification failed")
	st, body = e.do(t, "GET", "/user", expired, "")
	want(t, "expired token", st, body, 401, "Token has expired")

	// "bearer" in any case works, as with Flask-JWT-Extended.
	resp, body := e.raw(t, "GET", "/user", map[string]string{"Authorization": "bearer " + token}, "")
	want(t, "lowercase bearer", resp.StatusCode, body, 200, "")

	// A well-signed token for a user that does not exist.
	ghost, _, err := e.tokens.Issue("no-such-user")
	if err != nil {
		t.Fatal(err)
	}
	st, body = e.do(t, "GET", "/user", ghost, "")
	want(t, "GET /user for unknown user", st, body, 404, "User not found")
	st, body = e.do(t, "PUT", "/user", ghost, `{"email": "ghost@example.com"}`)
	want(t, "PUT /user for unknown user", st, body, 404, "User not found")

	// Nothing got through: the user has no workspaces.
	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list workspaces", st, body, 200, "")
	if n := len(list(t, body, "workspaces")); n != 0 {
		t.Fatalf("workspaces = %d, want 0", n)
	}
}

func TestSeed002UpdateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "old@example.com")
	e.user(t, "taken@example.com")

	st, body := e.do(t, "PUT", "/user", token, `{"email": "new@example.com"}`)
	want(t, "update email", st, body, 200, "User updated")
	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user", st, body, 200, "")
	if u := obj(t, body, "user"); u["email"] != "new@example.com" || u["user_id"] != uid {
		t.Fatalf("user after update = %v", u)
	}
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "new@example.com", "password": "pw-old@example.com"}`)
	want(t, "login new email", st, body, 200, "")
	str(t, body, "access_token")
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "old@example.com", "password": "pw-old@example.com"}`)
	want(t, "login old email", st, body, 404, "User not found")

	st, body = e.do(t, "PUT", "/user", token, `{"email": "taken@example.com"}`)
	want(t, "update to taken email", st, body, 400, "User already exists")
	st, body = e.do(t, "PUT", "/user", token, `{"email": "Taken@Example.COM"}`)
	want(t, "update to taken email, other case", st, body, 400, "User already exists")

	// Keeping one's own email is not a conflict; an empty object changes nothing.
	st, body = e.do(t, "PUT", "/user", token, `{"email": "new@example.com"}`)
	want(t, "update to own email", st, body, 200, "User updated")
	st, body = e.do(t, "PUT", "/user", token, `{}`)
	want(t, "empty update", st, body, 200, "User updated")

	st, body = e.do(t, "PUT", "/user", token, "")
	want(t, "update without body", st, body, 400, "Missing JSON in request")
	resp, body := e.raw(t, "PUT", "/user", map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "email=x@y.z")
	want(t, "update with text body", resp.StatusCode, body, 400, "Missing JSON in request")
	for _, b := range []string{`{"email": 5}`, `{"email": ["a@b.c"]}`, `{"email": false}`, `{"password": 12}`, `[]`, `{"email":`, `{"email": ""}`, `{"email": "not-an-email"}`} {
		st, body := e.do(t, "PUT", "/user", token, b)
		wantErr(t, "update "+b, st, body, 400)
	}

	st, body = e.do(t, "GET", "/user", token, "")
	want(t, "get user after errors", st, body, 200, "")
	if u := obj(t, body, "user"); u["email"] != "new@example.com" {
		t.Fatalf("email after failed updates = %v", u["email"])
	}
	// The other user still logs in with their own email.
	st, body = e.do(t, "POST", "/auth/login", "", `{"email": "taken@example.com", "password": "pw-taken@example.com"}`)
	want(t, "login other user", st, body, 200, "")

	// The old email is free again.
	st, body = e.do(t, "POST", "/register", "", `{"email": "old@example.com", "password": "p"}`)
	want(t, "register freed email", st, body, 200, "User created successfully")
	if body["user_id"] == uid {
		t.Fatal("re-registering the old email returned the renamed user's id")
	}
}

func TestSeed002ConcurrentSameEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, _ := e.user(t, "a@example.com")
	tokB, _ := e.user(t, "b@example.com")

	const n = 6
	var wg sync.WaitGroup
	statuses := make([]int, n)
	msgs := make([]any, n)
	for i := range n {
		wg.Go(func() {
			st, body, err := e.tryJSON("POST", "/register", "", `{"email": "race@example.com", "password": "p"}`)
			if err != nil {
				t.Error(err)
				return
			}
			statuses[i], msgs[i] = st, body["msg"]
		})
	}
	wg.Wait()
	ok := 0
	for i := range n {
		switch {
		case statuses[i] == 200:
			ok++
		case statuses[i] != 400 || msgs[i] != "User already exists":
			t.Errorf("concurrent register %d: %d %v, want 200 or 400 User already exists", i, statuses[i], msgs[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent registrations succeeded, want 1", ok)
	}

	// Two users claiming the same new email at once: one wins.
	st2 := make([]int, 2)
	for i, tok := range []string{tokA, tokB} {
		wg.Go(func() {
			st, body, err := e.tryJSON("PUT", "/user", tok, `{"email": "same@example.com"}`)
			if err != nil {
				t.Error(err)
				return
			}
			st2[i] = st
			if st != 200 && body["msg"] != "User already exists" {
				t.Errorf("concurrent update %d: %d %v", i, st, body)
			}
		})
	}
	wg.Wait()
	slices.Sort(st2)
	if st2[0] != 200 || st2[1] != 400 {
		t.Errorf("concurrent email updates = %v, want one 200 and one 400", st2)
	}
}

func TestSeed002WorkspaceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, uid := e.user(t, "owner@example.com")

	// Create: no body, empty object and blank name get the default name.
	for _, b := range []string{"", `{}`, `{"name": ""}`, `{"name": "   "}`, `{"name": null}`} {
		st, body := e.do(t, "POST", "/workspace", token, b)
		want(t, "create "+b, st, body, 200, "Workspace created")
		w := obj(t, body, "workspace")
		if w["name"] != "Untitled Workspace" || w["owner"] != uid {
			t.Fatalf("create %q: workspace = %v", b, w)
		}
		str(t, w, "workspace_id")
	}
	for _, b := range []string{`{"name": 5}`, `{"name": ["x"]}`, `[]`, `{"name":`, `{"name": "` + strings.Repeat("n", 201) + `"}`} {
		st, body := e.do(t, "POST", "/workspace", token, b)
		wantErr(t, "create "+b, st, body, 400)
	}

	st, body := e.do(t, "POST", "/workspace", token, `{"name": "My New Workspace"}`)
	want(t, "create named", st, body, 200, "Workspace created")
	created := obj(t, body, "workspace")
	ws := str(t, created, "workspace_id")
	if created["name"] != "My New Workspace" || created["owner"] != uid {
		t.Fatalf("created workspace = %v", created)
	}

	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list", st, body, 200, "")
	all := list(t, body, "workspaces")
	if len(all) != 6 || !slices.Contains(ids(all, "workspace_id"), ws) {
		t.Fatalf("list = %v, want 6 workspaces including %s", all, ws)
	}
	for _, w := range all {
		if w["owner"] != uid {
			t.Fatalf("listed workspace %v not owned by %s", w, uid)
		}
	}

	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get", st, body, 200, "")
	got := obj(t, body, "workspace")
	if got["workspace_id"] != ws || got["name"] != "My New Workspace" || got["owner"] != uid {
		t.Fatalf("GET workspace = %v", got)
	}
	if got["created_at"] != created["created_at"] {
		t.Fatalf("created_at on GET %v != on create %v", got["created_at"], created["created_at"])
	}
	ts(t, got, "created_at")

	// Rename.
	path := "/workspace/" + ws + "/rename"
	st, body = e.do(t, "PUT", path, token, "")
	want(t, "rename no body", st, body, 400, "Missing JSON in request")
	resp, body := e.raw(t, "PUT", path, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "New Name")
	want(t, "rename text body", resp.StatusCode, body, 400, "Missing JSON in request")
	for _, b := range []string{`{}`, `{"name": ""}`, `{"name": "  "}`, `{"name": null}`, `{"other": "x"}`} {
		st, body := e.do(t, "PUT", path, token, b)
		want(t, "rename "+b, st, body, 400, "Missing name parameter")
	}
	for _, b := range []string{`{"name": 5}`, `{"name": true}`, `[]`, `{"name": "` + strings.Repeat("n", 201) + `"}`} {
		st, body := e.do(t, "PUT", path, token, b)
		wantErr(t, "rename "+b, st, body, 400)
	}
	st, body = e.do(t, "PUT", path, token, `{"name": "New Workspace Name"}`)
	want(t, "rename", st, body, 200, "Workspace renamed")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get renamed", st, body, 200, "")
	if n := obj(t, body, "workspace")["name"]; n != "New Workspace Name" {
		t.Fatalf("name after rename = %v", n)
	}

	// Agents.
	agent := e.agent(t, uid)
	apath := "/workspace/" + ws + "/agent"
	for _, m := range []string{"POST", "DELETE"} {
		st, body = e.do(t, m, apath, token, "")
		want(t, m+" agent no body", st, body, 400, "Missing JSON in request")
		resp, body = e.raw(t, m, apath, map[string]string{"Authorization": "Bearer " + token, "Content-Type": "text/plain"}, "agent_id="+agent)
		want(t, m+" agent text body", resp.StatusCode, body, 400, "Missing JSON in request")
		for _, b := range []string{`{}`, `{"agent_id": ""}`, `{"agent_id": null}`} {
			st, body := e.do(t, m, apath, token, b)
			want(t, m+" agent "+b, st, body, 400, "Missing agent_id parameter")
		}
		for _, b := range []string{`{"agent_id": 12345}`, `{"agent_id": ["x"]}`, `[]`} {
			st, body := e.do(t, m, apath, token, b)
			wantErr(t, m+" agent "+b, st, body, 400)
		}
	}
	st, body = e.do(t, "POST", apath, token, `{"agent_id": "no-such-agent"}`)
	want(t, "attach unknown agent", st, body, 404, "Agent not found")
	st, body = e.do(t, "POST", "/workspace/no-such-ws/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach to unknown workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "DELETE", "/workspace/no-such-ws/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "detach from unknown workspace", st, body, 404, "Workspace not found")
	for range 2 { // attaching twice is fine
		st, body = e.do(t, "POST", apath, token, jsonBody(map[string]string{"agent_id": agent}))
		want(t, "attach", st, body, 200, "Agent added to Workspace.")
	}
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get with agent", st, body, 200, "")
	if a, _ := obj(t, body, "workspace")["agents"].([]any); len(a) != 1 || a[0] != agent {
		t.Fatalf("agents = %v, want [%s]", obj(t, body, "workspace")["agents"], agent)
	}
	st, body = e.do(t, "DELETE", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "detach", st, body, 200, "Agent removed")
	st, body = e.do(t, "DELETE", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	wantErr(t, "detach again", st, body, 404)
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get without agent", st, body, 200, "")
	if a, ok := obj(t, body, "workspace")["agents"].([]any); !ok || len(a) != 0 {
		t.Fatalf("agents after detach = %v, want []", obj(t, body, "workspace")["agents"])
	}

	// Chats.
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "no chats", st, body, 200, "")
	if c := list(t, body, "chats"); len(c) != 0 {
		t.Fatalf("chats = %v, want []", c)
	}
	st, body = e.do(t, "POST", "/chat?workspace_id="+ws, token, "")
	want(t, "create chat", st, body, 200, "Chat created successfully")
	chat := obj(t, body, "chat")
	chatID := str(t, chat, "chat_id")
	if chat["workspace_id"] != ws || chat["created_by"] != uid {
		t.Fatalf("chat = %v", chat)
	}
	if cw := obj(t, body, "workspace"); cw["workspace_id"] != ws || cw["owner"] != uid || cw["name"] != "New Workspace Name" {
		t.Fatalf("chat's workspace = %v", cw)
	}
	chat2 := e.chat(t, token, ws)

	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats", st, body, 200, "")
	chats := list(t, body, "chats")
	if !slices.Equal(ids(chats, "chat_id"), []string{chatID, chat2}) {
		t.Fatalf("chats = %v, want %s then %s", chats, chatID, chat2)
	}
	for _, c := range chats {
		if c["workspace_id"] != ws {
			t.Fatalf("listed chat %v not in %s", c, ws)
		}
	}

	st, body = e.do(t, "GET", "/chat?chat_id="+chatID, token, "")
	want(t, "get chat", st, body, 200, "")
	if body["chat_id"] != chatID || body["owner"] != uid || body["workspace_id"] != ws {
		t.Fatalf("GET /chat = %v", body)
	}
	if body["created_at"] != chat["created_at"] {
		t.Fatalf("chat created_at on GET %v != on create %v", body["created_at"], chat["created_at"])
	}

	// Strings: each call a new one, created by the caller, expiring later.
	seen := map[string]bool{}
	for _, c := range []struct{ path, field string }{
		{"/chat/authorize", "connection_string"},
		{"/chat/authorize", "connection_string"},
		{"/chat/authorize/message", "message_string"},
		{"/chat/authorize/message", "message_string"},
	} {
		st, body := e.do(t, "GET", c.path+"?chat_id="+chatID, token, "")
		want(t, c.path, st, body, 200, "")
		s := str(t, body, c.field)
		if seen[s] {
			t.Fatalf("%s returned %s twice", c.path, c.field)
		}
		seen[s] = true
		if body["created_by"] != uid {
			t.Fatalf("%s created_by = %v, want %s", c.path, body["created_by"], uid)
		}
		if created, expires := ts(t, body, "created_at"), ts(t, body, "expires_at"); !expires.After(created) {
			t.Fatalf("%s expires_at %v not after created_at %v", c.path, expires, created)
		}
	}

	// Unknown ids.
	st, body = e.do(t, "POST", "/chat", token, "")
	want(t, "create chat without workspace id", st, body, 400, "Missing workspace id")
	st, body = e.do(t, "POST", "/chat?workspace_id=", token, "")
	want(t, "create chat with empty workspace id", st, body, 400, "Missing workspace id")
	st, body = e.do(t, "POST", "/chat?workspace_id=no-such-ws", token, "")
	want(t, "create chat in unknown workspace", st, body, 404, "Workspace not found")
	for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
		st, body := e.do(t, "GET", p+"?chat_id=no-such-chat", token, "")
		want(t, "GET "+p+" unknown", st, body, 404, "Chat not found")
		st, body = e.do(t, "GET", p, token, "")
		wantErr(t, "GET "+p+" without chat_id", st, body, 400)
	}
	st, body = e.do(t, "DELETE", "/chat?chat_id=no-such-chat", token, "")
	want(t, "DELETE /chat unknown", st, body, 404, "Chat not found")
	st, body = e.do(t, "DELETE", "/chat", token, "")
	wantErr(t, "DELETE /chat without chat_id", st, body, 400)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/workspace/no-such-ws", ""},
		{"DELETE", "/workspace/no-such-ws", ""},
		{"GET", "/workspace/no-such-ws/chats", ""},
		{"PUT", "/workspace/no-such-ws/rename", `{"name": "x"}`},
		{"POST", "/workspace/no-such-ws/members", `{"email": "owner@example.com"}`},
		{"GET", "/workspace/no-such-ws/members", ""},
		{"DELETE", "/workspace/no-such-ws/members/" + uid, ""},
	} {
		st, body := e.do(t, c.method, c.path, token, c.body)
		want(t, c.method+" "+c.path, st, body, 404, "Workspace not found")
	}

	// Delete a chat, then the workspace.
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chatID, token, "")
	want(t, "delete chat", st, body, 200, "Chat deleted successfully")
	st, body = e.do(t, "GET", "/chat?chat_id="+chatID, token, "")
	want(t, "get deleted chat", st, body, 404, "Chat not found")
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chatID, token, "")
	want(t, "delete deleted chat", st, body, 404, "Chat not found")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats after delete", st, body, 200, "")
	if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chat2}) {
		t.Fatalf("chats after delete = %v, want [%s]", got, chat2)
	}

	st, body = e.do(t, "POST", apath, token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach before delete", st, body, 200, "Agent added to Workspace.")
	st, body = e.do(t, "DELETE", "/workspace/"+ws, token, "")
	want(t, "delete workspace", st, body, 200, "Workspace deleted")
	st, body = e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get deleted workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "DELETE", "/workspace/"+ws, token, "")
	want(t, "delete deleted workspace", st, body, 404, "Workspace not found")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", token, "")
	want(t, "chats of deleted workspace", st, body, 404, "Workspace not found")
	for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
		st, body := e.do(t, "GET", p+"?chat_id="+chat2, token, "")
		want(t, "GET "+p+" of deleted workspace", st, body, 404, "Chat not found")
	}
	st, body = e.do(t, "DELETE", "/chat?chat_id="+chat2, token, "")
	want(t, "DELETE /chat of deleted workspace", st, body, 404, "Chat not found")
	st, body = e.do(t, "GET", "/workspace", token, "")
	want(t, "list after delete", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); len(got) != 5 || slices.Contains(got, ws) {
		t.Fatalf("list after delete = %v", got)
	}
	// The agent itself survives its workspace and can be attached elsewhere.
	other := e.workspace(t, token, "Other")
	st, body = e.do(t, "POST", "/workspace/"+other+"/agent", token, jsonBody(map[string]string{"agent_id": agent}))
	want(t, "attach to other workspace", st, body, 200, "Agent added to Workspace.")
}

func TestSeed002CrossUserIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, uidA := e.user(t, "alice@example.com")
	tokB, uidB := e.user(t, "bob@example.com")

	wsA := e.workspace(t, tokA, "Alice's")
	chatA := e.chat(t, tokA, wsA)
	agentA := e.agent(t, uidA)
	st, body := e.do(t, "POST", "/workspace/"+wsA+"/agent", tokA, jsonBody(map[string]string{"agent_id": agentA}))
	want(t, "attach", st, body, 200, "Agent added to Workspace.")
	wsB := e.workspace(t, tokB, "Bob's")
	agentB := e.agent(t, uidB)

	const noAccess, notOwner, notChatOwner = "User does not have access to the workspace", "User is not the owner of the workspace", "User is not the owner of the chat"
	for _, c := range []struct {
		method, path, body string
		status             int
		msg                string
	}{
		{"GET", "/workspace/" + wsA, "", 403, noAccess},
		{"DELETE", "/workspace/" + wsA, "", 403, noAccess},
		{"GET", "/workspace/" + wsA + "/chats", "", 403, noAccess},
		{"PUT", "/workspace/" + wsA + "/rename", `{"name": "pwned"}`, 403, notOwner},
		{"POST", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentB}), 403, notOwner},
		{"POST", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentA}), 403, notOwner},
		{"DELETE", "/workspace/" + wsA + "/agent", jsonBody(map[string]string{"agent_id": agentA}), 403, notOwner},
		{"POST", "/workspace/" + wsA + "/members", `{"email": "bob@example.com"}`, 403, notOwner},
		{"POST", "/workspace/" + wsA + "/members", `{"email": "bob@example.com", "role": "viewer"}`, 403, notOwner},
		{"GET", "/workspace/" + wsA + "/members", "", 403, notOwner},
		{"DELETE", "/workspace/" + wsA + "/members/" + uidA, "", 403, noAccess},
		{"DELETE", "/workspace/" + wsA + "/members/" + uidB, "", 403, noAccess},
		{"POST", "/chat?workspace_id=" + wsA, "", 401, notOwner},
		{"GET", "/chat?chat_id=" + chatA, "", 401, notChatOwner},
		{"DELETE", "/chat?chat_id=" + chatA, "", 401, notChatOwner},
		{"GET", "/chat/authorize?chat_id=" + chatA, "", 401, notChatOwner},
		{"GET", "/chat/authorize/message?chat_id=" + chatA, "", 401, notChatOwner},
	} {
		st, body := e.do(t, c.method, c.path, tokB, c.body)
		want(t, "stranger "+c.method+" "+c.path+" "+c.body, st, body, c.status, c.msg)
		if _, leaked := body["workspace"]; leaked {
			t.Fatalf("stranger %s %s: response leaks the workspace: %v", c.method, c.path, body)
		}
		if _, leaked := body["chats"]; leaked {
			t.Fatalf("stranger %s %s: response leaks chats: %v", c.method, c.path, body)
		}
	}

	// Alice may not use Bob's draft agent either.
	st, body = e.do(t, "POST", "/workspace/"+wsA+"/agent", tokA, jsonBody(map[string]string{"agent_id": agentB}))
	want(t, "attach someone else's draft agent", st, body, 404, "Agent not found")

	// Bob sees only his own workspace.
	st, body = e.do(t, "GET", "/workspace", tokB, "")
	want(t, "list B", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{wsB}) {
		t.Fatalf("B's workspaces = %v, want [%s]", got, wsB)
	}

	// Alice's data is unchanged.
	st, body = e.do(t, "GET", "/workspace/"+wsA, tokA, "")
	want(t, "A get", st, body, 200, "")
	w := obj(t, body, "workspace")
	if w["name"] != "Alice's" || w["owner"] != uidA {
		t.Fatalf("A's workspace after B's attempts = %v", w)
	}
	if a, _ := w["agents"].([]any); len(a) != 1 || a[0] != agentA {
		t.Fatalf("A's agents after B's attempts = %v", w["agents"])
	}
	st, body = e.do(t, "GET", "/chat?chat_id="+chatA, tokA, "")
	want(t, "A get chat", st, body, 200, "")
	st, body = e.do(t, "GET", "/workspace/"+wsA+"/chats", tokA, "")
	want(t, "A chats", st, body, 200, "")
	if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chatA}) {
		t.Fatalf("A's chats = %v", got)
	}
	st, body = e.do(t, "GET", "/workspace/"+wsA+"/members", tokA, "")
	want(t, "A members", st, body, 200, "")
	if got := ids(list(t, body, "members"), "user_id"); !slices.Equal(got, []string{uidA}) {
		t.Fatalf("A's members = %v, want only A", got)
	}
	st, body = e.do(t, "GET", "/workspace", tokA, "")
	want(t, "list A", st, body, 200, "")
	if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{wsA}) {
		t.Fatalf("A's workspaces = %v, want [%s]", got, wsA)
	}

	// And the other way round: Alice cannot touch Bob's.
	st, body = e.do(t, "DELETE", "/workspace/"+wsB, tokA, "")
	want(t, "A deletes B's workspace", st, body, 403, noAccess)
	st, body = e.do(t, "GET", "/workspace/"+wsB, tokB, "")
	want(t, "B get", st, body, 200, "")
}

func TestSeed002Roles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokO, uidO := e.user(t, "owner@example.com")
	tokM, uidM := e.user(t, "member@example.com")
	tokV, uidV := e.user(t, "viewer@example.com")
	_, uidD := e.user(t, "default@example.com")

	ws := e.workspace(t, tokO, "Shared")
	chat := e.chat(t, tokO, ws)
	agent := e.agent(t, uidO)
	mpath := "/workspace/" + ws + "/members"

	st, body := e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "member"}`)
	want(t, "add member", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidM || m["email"] != "member@example.com" || m["role"] != "member" || m["added_by"] != uidO {
		t.Fatalf("added member = %v", m)
	}
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "viewer@example.com", "role": "viewer"}`)
	want(t, "add viewer", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidV || m["role"] != "viewer" {
		t.Fatalf("added viewer = %v", m)
	}
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "Default@Example.com"}`)
	want(t, "add with default role", st, body, 200, "Member added")
	if m := obj(t, body, "member"); m["user_id"] != uidD || m["role"] != "member" {
		t.Fatalf("added with default role = %v", m)
	}

	// Bad member requests.
	st, body = e.do(t, "POST", mpath, tokO, "")
	want(t, "add no body", st, body, 400, "Missing JSON in request")
	st, body = e.do(t, "POST", mpath, tokO, `{"role": "member"}`)
	want(t, "add without email", st, body, 400, "Missing email parameter")
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "nobody@example.com"}`)
	want(t, "add unknown user", st, body, 404, "User not found")
	for _, b := range []string{
		`{"email": "member@example.com", "role": "owner"}`,
		`{"email": "member@example.com", "role": "admin"}`,
		`{"email": "member@example.com", "role": 1}`,
		`{"email": 5}`,
		`{"email": "owner@example.com"}`,
		`{"email": "OWNER@example.com", "role": "viewer"}`,
	} {
		st, body := e.do(t, "POST", mpath, tokO, b)
		wantErr(t, "add "+b, st, body, 400)
	}

	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list members", st, body, 200, "")
	members := list(t, body, "members")
	roles := map[string]string{}
	for _, m := range members {
		roles[m["user_id"].(string)] = m["role"].(string)
	}
	if len(members) != 4 || members[0]["user_id"] != uidO || roles[uidO] != "owner" || roles[uidM] != "member" || roles[uidV] != "viewer" || roles[uidD] != "member" {
		t.Fatalf("members = %v", members)
	}

	// Member and viewer can read the workspace and its chats and watch.
	for _, p := range []struct{ who, token, uid, role string }{{"member", tokM, uidM, "member"}, {"viewer", tokV, uidV, "viewer"}} {
		st, body := e.do(t, "GET", "/workspace/"+ws, p.token, "")
		want(t, p.who+" get workspace", st, body, 200, "")
		if w := obj(t, body, "workspace"); w["workspace_id"] != ws || w["name"] != "Shared" || w["owner"] != uidO || w["role"] != p.role {
			t.Fatalf("%s sees workspace %v", p.who, w)
		}
		st, body = e.do(t, "GET", "/workspace", p.token, "")
		want(t, p.who+" list", st, body, 200, "")
		if got := ids(list(t, body, "workspaces"), "workspace_id"); !slices.Equal(got, []string{ws}) {
			t.Fatalf("%s's workspaces = %v", p.who, got)
		}
		st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", p.token, "")
		want(t, p.who+" chats", st, body, 200, "")
		if got := ids(list(t, body, "chats"), "chat_id"); !slices.Equal(got, []string{chat}) {
			t.Fatalf("%s's chats = %v", p.who, got)
		}
		st, body = e.do(t, "GET", "/chat?chat_id="+chat, p.token, "")
		want(t, p.who+" get chat", st, body, 200, "")
		if body["chat_id"] != chat || body["workspace_id"] != ws {
			t.Fatalf("%s's chat = %v", p.who, body)
		}
		st, body = e.do(t, "GET", "/chat/authorize?chat_id="+chat, p.token, "")
		want(t, p.who+" authorize", st, body, 200, "")
		str(t, body, "connection_string")
		if body["created_by"] != p.uid {
			t.Fatalf("%s's connection string created_by = %v", p.who, body["created_by"])
		}
		ts(t, body, "created_at")
		ts(t, body, "expires_at")

		// Neither may manage the workspace.
		for _, c := range []struct {
			method, path, body string
			status             int
			msg                string
		}{
			{"PUT", "/workspace/" + ws + "/rename", `{"name": "mine"}`, 403, "User is not the owner of the workspace"},
			{"DELETE", "/workspace/" + ws, "", 403, "User does not have access to the workspace"},
			{"POST", "/workspace/" + ws + "/agent", jsonBody(map[string]string{"agent_id": agent}), 403, "User is not the owner of the workspace"},
			{"DELETE", "/workspace/" + ws + "/agent", jsonBody(map[string]string{"agent_id": agent}), 403, "User is not the owner of the workspace"},
			{"POST", mpath, `{"email": "default@example.com", "role": "viewer"}`, 403, "User is not the owner of the workspace"},
			{"GET", mpath, "", 403, "User is not the owner of the workspace"},
			{"DELETE", mpath + "/" + uidO, "", 403, "User is not the owner of the workspace"},
			{"DELETE", mpath + "/" + uidD, "", 403, "User is not the owner of the workspace"},
			{"POST", "/chat?workspace_id=" + ws, "", 401, "User is not the owner of the workspace"},
			{"DELETE", "/chat?chat_id=" + chat, "", 401, "User is not the owner of the chat"},
		} {
			st, body := e.do(t, c.method, c.path, p.token, c.body)
			want(t, p.who+" "+c.method+" "+c.path, st, body, c.status, c.msg)
		}
	}

	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokM, "")
	want(t, "member message string", st, body, 200, "")
	str(t, body, "message_string")
	if body["created_by"] != uidM {
		t.Fatalf("member's message string created_by = %v", body["created_by"])
	}
	ts(t, body, "created_at")
	ts(t, body, "expires_at")
	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokV, "")
	wantErr(t, "viewer message string", st, body, 401)
	if _, leaked := body["message_string"]; leaked {
		t.Fatalf("viewer got a message string: %v", body)
	}

	// The owner's state is unchanged by the member's and viewer's attempts.
	st, body = e.do(t, "GET", "/workspace/"+ws, tokO, "")
	want(t, "owner get", st, body, 200, "")
	if w := obj(t, body, "workspace"); w["name"] != "Shared" || w["role"] != "owner" {
		t.Fatalf("workspace after attempts = %v", w)
	}
	st, body = e.do(t, "GET", "/chat?chat_id="+chat, tokO, "")
	want(t, "owner get chat", st, body, 200, "")

	// Demoting the member to viewer takes away their message strings.
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "viewer"}`)
	want(t, "demote", st, body, 200, "Member added")
	st, body = e.do(t, "GET", "/chat/authorize/message?chat_id="+chat, tokM, "")
	wantErr(t, "demoted member message string", st, body, 401)
	st, body = e.do(t, "POST", mpath, tokO, `{"email": "member@example.com", "role": "member"}`)
	want(t, "promote", st, body, 200, "Member added")
	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list after role changes", st, body, 200, "")
	if n := len(list(t, body, "members")); n != 4 {
		t.Fatalf("members after role changes = %d, want 4", n)
	}

	// Members leave; the owner removes; nobody removes the owner.
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokM, "")
	want(t, "member leaves", st, body, 200, "Member removed")
	st, body = e.do(t, "GET", "/workspace/"+ws, tokM, "")
	want(t, "left member get", st, body, 403, "User does not have access to the workspace")
	st, body = e.do(t, "GET", "/chat?chat_id="+chat, tokM, "")
	want(t, "left member get chat", st, body, 401, "User is not the owner of the chat")
	st, body = e.do(t, "GET", "/chat/authorize?chat_id="+chat, tokM, "")
	want(t, "left member authorize", st, body, 401, "User is not the owner of the chat")
	st, body = e.do(t, "GET", "/workspace", tokM, "")
	want(t, "left member list", st, body, 200, "")
	if n := len(list(t, body, "workspaces")); n != 0 {
		t.Fatalf("left member still lists %d workspaces", n)
	}
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokM, "")
	want(t, "left member leaves again", st, body, 403, "User does not have access to the workspace")

	st, body = e.do(t, "DELETE", mpath+"/"+uidO, tokO, "")
	wantErr(t, "owner removes themselves", st, body, 400)
	st, body = e.do(t, "DELETE", mpath+"/"+uidM, tokO, "")
	want(t, "remove already gone member", st, body, 404, "Member not found")
	st, body = e.do(t, "DELETE", mpath+"/"+uidV, tokO, "")
	want(t, "owner removes viewer", st, body, 200, "Member removed")
	st, body = e.do(t, "GET", "/workspace/"+ws+"/chats", tokV, "")
	want(t, "removed viewer chats", st, body, 403, "User does not have access to the workspace")

	st, body = e.do(t, "GET", mpath, tokO, "")
	want(t, "list after removals", st, body, 200, "")
	if got := ids(list(t, body, "members"), "user_id"); !slices.Equal(got, []string{uidO, uidD}) {
		t.Fatalf("members after removals = %v, want [%s %s]", got, uidO, uidD)
	}

	// Deleting the workspace takes its chats with it, for everyone.
	st, body = e.do(t, "DELETE", "/workspace/"+ws, tokO, "")
	want(t, "delete", st, body, 200, "Workspace deleted")
	tokD := func() string {
		st, body := e.do(t, "POST", "/auth/login", "", `{"email": "default@example.com", "password": "pw-default@example.com"}`)
		want(t, "login default", st, body, 200, "")
		return str(t, body, "access_token")
	}()
	for _, tok := range []string{tokO, tokD} {
		for _, p := range []string{"/chat", "/chat/authorize", "/chat/authorize/message"} {
			st, body := e.do(t, "GET", p+"?chat_id="+chat, tok, "")
			want(t, "GET "+p+" after workspace delete", st, body, 404, "Chat not found")
		}
		st, body := e.do(t, "GET", "/workspace/"+ws, tok, "")
		want(t, "GET workspace after delete", st, body, 404, "Workspace not found")
		st, body = e.do(t, "GET", "/workspace", tok, "")
		want(t, "list after delete", st, body, 200, "")
		if n := len(list(t, body, "workspaces")); n != 0 {
			t.Fatalf("deleted workspace still listed: %v", body)
		}
	}
}

func TestSeed002NoRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{"/nope", "/workspace/a/b/c", "/chat/authorize/other", "/users", "/workspace/a/members/b/c"} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			resp, body := e.raw(t, m, p, nil, "")
			want(t, m+" "+p, resp.StatusCode, body, 404, "Not found")
		}
	}
	for _, c := range []struct {
		method, path string
		allow        []string
	}{
		{"POST", "/ping", []string{"GET"}},
		{"DELETE", "/register", []string{"POST"}},
		{"GET", "/auth/login", []string{"POST"}},
		{"PATCH", "/user", []string{"GET", "PUT"}},
		{"DELETE", "/user", []string{"GET", "PUT"}},
		{"PUT", "/workspace", []string{"GET", "POST"}},
		{"POST", "/workspace/abc", []string{"GET", "DELETE"}},
		{"POST", "/workspace/abc/chats", []string{"GET"}},
		{"GET", "/workspace/abc/agent", []string{"POST", "DELETE"}},
		{"GET", "/workspace/abc/rename", []string{"PUT"}},
		{"PUT", "/workspace/abc/members", []string{"GET", "POST"}},
		{"GET", "/workspace/abc/members/def", []string{"DELETE"}},
		{"PUT", "/chat", []string{"GET", "POST", "DELETE"}},
		{"POST", "/chat/authorize", []string{"GET"}},
		{"DELETE", "/chat/authorize/message", []string{"GET"}},
	} {
		what := fmt.Sprintf("%s %s", c.method, c.path)
		resp, body := e.raw(t, c.method, c.path, nil, "")
		want(t, what, resp.StatusCode, body, 405, "Method not allowed")
		allow := resp.Header.Values("Allow")
		slices.Sort(allow)
		wantAllow := slices.Clone(c.allow)
		slices.Sort(wantAllow)
		if !slices.Equal(allow, wantAllow) {
			t.Fatalf("%s: Allow = %v, want %v", what, allow, wantAllow)
		}
	}
}

// TestSeed002ResponsesAreJSON checks that error paths never fall back to
// plain-text bodies, whatever the request looks like.
func TestSeed002ResponsesAreJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, _ := e.user(t, "json@example.com")
	ws := e.workspace(t, token, "W")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/workspace", `{"name": "\ud800"}`},
		{"PUT", "/workspace/" + ws + "/rename", `{"name": "` + strings.Repeat("é", 200) + `"}`},
		{"POST", "/workspace/" + ws + "/agent", `{"agent_id": "` + strings.Repeat("a", 5000) + `"}`},
		{"GET", "/chat?chat_id=%27%3B%20DROP%20TABLE%20chats%3B--", ""},
		{"GET", "/workspace/%27%20OR%201%3D1--", ""},
		{"POST", "/chat?workspace_id=%27%20OR%20%271%27%3D%271", ""},
	} {
		st, body := e.do(t, c.method, c.path, token, c.body)
		if st >= 500 {
			t.Fatalf("%s %s: %d %v", c.method, c.path, st, body)
		}
	}
	// The workspace survived the injection attempts.
	st, body := e.do(t, "GET", "/workspace/"+ws, token, "")
	want(t, "get", st, body, 200, "")
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(body)
	if !strings.Contains(buf.String(), ws) {
		t.Fatalf("workspace body %s lacks its id", buf.String())
	}
}
