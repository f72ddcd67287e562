package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
)

// node is a running `atrium serve` started through run.
type node struct {
	url    string
	cancel context.CancelFunc
	done   chan error
}

// startNode runs `atrium serve` on a random port with env, and returns once
// it prints the address it listens on.
func startNode(t *testing.T, env []string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	n := &node{cancel: cancel, done: make(chan error, 1)}
	go func() {
		n.done <- run(ctx, []string{"serve"}, env, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "listening on "); ok {
			n.url = strings.Fields(rest)[0]
			break
		}
	}
	if n.url == "" {
		cancel()
		t.Fatalf("atrium serve exited before listening: %v", <-n.done)
	}
	go io.Copy(io.Discard, pr)
	t.Cleanup(func() { n.stop(t) })
	return n
}

// stop cancels the node and waits for a clean return.
func (n *node) stop(t *testing.T) {
	t.Helper()
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			t.Errorf("run returned %v after shutdown, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return within 30s of cancel")
	}
}

func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testHTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v", method, url, err)
	}
	return resp.StatusCode, out
}

func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := []string{
		"ATRIUM_ADDR=127.0.0.1:0",
		"ATRIUM_DATA_DIR=" + dataDir,
		"DATABASE_URL=" + sqldbtest.URL(t),
		"ATRIUM_LOG_LEVEL=warn",
	}
	n := startNode(t, env)

	if st, body := call(t, "GET", n.url+"/readyz", "", ""); st != 200 || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", st, body)
	}
	if st, body := call(t, "POST", n.url+"/register", "", `{"email":"user@example.com","password":"securepassword123"}`); st != 200 || body["msg"] != "User created successfully" {
		t.Fatalf("register = %d %v", st, body)
	}
	st, body := call(t, "POST", n.url+"/auth/login", "", `{"email":"user@example.com","password":"securepassword123"}`)
	token, _ := body["access_token"].(string)
	if st != 200 || token == "" {
		t.Fatalf("login = %d %v", st, body)
	}
	st, body = call(t, "POST", n.url+"/workspace", token, `{"name":"My New Workspace"}`)
	ws, _ := body["workspace"].(map[string]any)
	if st != 200 || ws["name"] != "My New Workspace" {
		t.Fatalf("create workspace = %d %v", st, body)
	}
	st, body = call(t, "POST", n.url+"/chat?workspace_id="+ws["workspace_id"].(string), token, "")
	chat, _ := body["chat"].(map[string]any)
	if st != 200 || chat["chat_id"] == "" {
		t.Fatalf("create chat = %d %v", st, body)
	}
	st, body = call(t, "GET", n.url+"/chat/authorize?chat_id="+chat["chat_id"].(string), token, "")
	if st != 200 || !strings.HasPrefix(body["connection_string"].(string), "atc_") {
		t.Fatalf("authorize = %d %v", st, body)
	}

	// Browsers on other origins may call the APIs and the events streams
	// (ATRIUM_CORS_ORIGINS defaults to *).
	pre, err := http.NewRequest("OPTIONS", n.url+"/v1/chat/completions", nil)
	if err != nil {
		t.Fatal(err)
	}
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Fatalf("preflight = %d %v", resp.StatusCode, resp.Header)
	}
	for _, path := range []string{"/workspace", "/chat/" + chat["chat_id"].(string) + "/events"} {
		req, _ := http.NewRequest("GET", n.url+path, nil)
		req.Header.Set("Origin", "https://app.example.com")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("GET %s from another origin = %d %v", path, resp.StatusCode, resp.Header)
		}
	}

	// Stop and start again on the same data dir: the data and the token survive.
	n.stop(t)
	n = startNode(t, env)
	st, body = call(t, "GET", n.url+"/workspace", token, "")
	list, _ := body["workspaces"].([]any)
	if st != 200 || len(list) != 1 {
		t.Fatalf("after restart GET /workspace = %d %v, want the one workspace", st, body)
	}
}

func TestServeFailsClearlyOnBadDependency(t *testing.T) {
	t.Parallel()
	env := []string{"ATRIUM_ADDR=127.0.0.1:0", "ATRIUM_DATA_DIR=" + t.TempDir(), "NATS_URL=nats://127.0.0.1:1"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve"}, env, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "nats") {
		t.Fatalf("run with unreachable NATS = %v, want an error naming nats", err)
	}
}

func TestConfigErrorsNameTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"ATRIUM_ADR=:1"}, nil, "ATRIUM_ADR"},
		{[]string{"ATRIUM_ADDR=nonsense"}, nil, "ATRIUM_ADDR"},
		{[]string{"ATRIUM_ROLES=gateway,chef"}, nil, "ATRIUM_ROLES"},
		{nil, []string{"--roles", ""}, "ATRIUM_ROLES"},
		{[]string{"ATRIUM_JWT_TTL=soon"}, nil, "ATRIUM_JWT_TTL"},
		{[]string{"ATRIUM_MESSAGE_STRING_TTL=-1m"}, nil, "ATRIUM_MESSAGE_STRING_TTL"},
		{[]string{"ATRIUM_JWT_SECRET=short"}, nil, "ATRIUM_JWT_SECRET"},
		{[]string{"DATABASE_URL=mysql://x"}, nil, "DATABASE_URL"},
		{[]string{"NATS_URL=localhost"}, nil, "NATS_URL"},
		{[]string{"ATRIUM_LOG_LEVEL=loud"}, nil, "ATRIUM_LOG_LEVEL"},
		{[]string{"ATRIUM_MAX_BODY_BYTES=ten"}, nil, "ATRIUM_MAX_BODY_BYTES"},
		{[]string{"ATRIUM_NATS_LISTEN=:4222", "NATS_URL=nats://x:4222"}, nil, "ATRIUM_NATS_LISTEN"},
		{[]string{"ATRIUM_CORS_ORIGINS= , "}, nil, "ATRIUM_CORS_ORIGINS"},
		{[]string{"ATRIUM_CORS_ORIGINS=https://[a.example.com"}, nil, "ATRIUM_CORS_ORIGINS"},
	}
	for _, c := range cases {
		_, err := loadConfig("serve", c.args, c.env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("env %v args %v: err = %v, want one line naming %s", c.env, c.args, err, c.want)
		}
	}
	cfg, err := loadConfig("serve", []string{"--roles", "hub"}, []string{"ATRIUM_ROLES=gateway", "ATRIUM_TEST_DATABASE_URL=x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.roles != (roles{hub: true}) || cfg.addr != ":8080" || cfg.msgTTL != 10*time.Minute || cfg.connTTL != time.Hour {
		t.Fatalf("flags over env and defaults: got %+v", cfg)
	}
}

func TestCommands(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := run(context.Background(), []string{"version"}, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "atrium ") {
		t.Fatalf("version = %q, %v", out.String(), err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command succeeded")
	}
	out.Reset()
	env := []string{"ATRIUM_DATA_DIR=" + t.TempDir(), "DATABASE_URL=" + sqldbtest.URL(t)}
	if err := run(context.Background(), []string{"migrate"}, env, &out, io.Discard); err != nil || !strings.Contains(out.String(), "schema at version") {
		t.Fatalf("migrate = %q, %v", out.String(), err)
	}
}
