package gateway_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// send sends a request with the given headers and returns the status and
// the raw body, for answers that are not JSON objects.
func (e *env) send(t *testing.T, method, path string, hdr map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, rd)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestAgentLifecycleOverSeed000REST(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	bob, _ := e.user(t, "bob@x.io")
	_, body := e.do(t, "POST", "/api/agents/", alice, `{"name":"Bot","model_id":1,"configuration":{"system_prompt":"Hi","custom_key":{"kept":true}}}`)
	id := str(t, body, "id")
	if body["model_id"] != "echo" || body["version"] != float64(1) || body["is_published"] != false {
		t.Fatalf("created = %v", body)
	}

	st, body := e.do(t, "GET", "/api/agents/"+id+"/", alice, "")
	if st != 200 || body["id"] != id {
		t.Fatalf("get = %d %v", st, body)
	}
	// Another user's agent is a 404, as is an unknown one.
	for _, path := range []string{"/api/agents/" + id + "/", "/api/agents/nope/"} {
		st, body = e.do(t, "GET", path, bob, "")
		wantAPIError(t, "bob gets "+path, st, body, 404, "Agent not found")
	}

	// PATCH merges configuration keys (seed 000 §4.2.2), keeps unknown keys.
	st, body = e.do(t, "PATCH", "/api/agents/"+id+"/", alice, `{"configuration":{"disabled_tools":["text_to_image","transcription"]},"description":"Helps 😀"}`)
	cfg := obj(t, body, "configuration")
	if st != 200 || cfg["system_prompt"] != "Hi" || cfg["custom_key"] == nil || len(cfg["disabled_tools"].([]any)) != 2 || body["description"] != "Helps 😀" || body["version"] != float64(2) {
		t.Fatalf("patch = %d %v", st, body)
	}
	for _, tc := range []struct{ body, contains string }{
		{`{"configuration":{"temperature":5}}`, "configuration.temperature"},
		{`{"configuration":{"enabled_tools":"web_search"}}`, "configuration.enabled_tools"},
		{`{"model_id":"nope"}`, "Unknown model_id"},
		{`{"name":""}`, "name"},
		{`{"status":"published"}`, "publish"},
		{`{"status":"gone"}`, "status"},
	} {
		st, body = e.do(t, "PATCH", "/api/agents/"+id+"/", alice, tc.body)
		wantAPIError(t, "patch "+tc.body, st, body, 400, tc.contains)
	}
	st, body = e.do(t, "PATCH", "/api/agents/"+id+"/", alice, `{"status":"training"}`)
	if st != 200 || body["status"] != "training" {
		t.Fatalf("to training = %d %v", st, body)
	}
	st, body = e.do(t, "PATCH", "/api/agents/"+id+"/", bob, `{"name":"mine now"}`)
	wantAPIError(t, "bob patches", st, body, 404, "Agent not found")

	// Agent keys exist for published agents only.
	st, body = e.do(t, "POST", "/api/agents/"+id+"/api-keys/", alice, `{"name":"prod"}`)
	wantAPIError(t, "key for a draft", st, body, 409, "published")
	st, body = e.do(t, "POST", "/api/agents/"+id+"/publish/", alice, "")
	if st != 200 || body["success"] != true || obj(t, body, "data")["status"] != "published" || obj(t, body, "data")["published_at"] == nil {
		t.Fatalf("publish = %d %v", st, body)
	}
	st, body = e.do(t, "PATCH", "/api/agents/"+id+"/", alice, `{"status":"draft"}`)
	wantAPIError(t, "published to draft by PATCH", st, body, 409, "unpublish")
	st, body = e.do(t, "POST", "/api/agents/"+id+"/api-keys/", alice, `{"name":"prod"}`)
	if st != 201 || !strings.HasPrefix(fmt.Sprint(body["key"]), "ata_") || body["name"] != "prod" || body["last_used_at"] != nil {
		t.Fatalf("create key = %d %v", st, body)
	}
	key, keyID := str(t, body, "key"), str(t, body, "id")
	// Shown once: the list has no key.
	st, body = e.do(t, "GET", "/api/agents/"+id+"/api-keys/", alice, "")
	keys := list(t, body, "results")
	if st != 200 || len(keys) != 1 || keys[0]["key"] != nil || keys[0]["prefix"] != key[:12] {
		t.Fatalf("keys = %d %v", st, body)
	}

	// The key reaches status and history, in every header seed 000 and
	// seed 003 use; the owner's token does too; others do not.
	for _, hdr := range []map[string]string{
		{"Authorization": "ApiKey " + key}, {"X-API-Key": key}, {"Authorization": key}, {"Authorization": "Bearer " + alice},
	} {
		resp, body := e.raw(t, "GET", "/api/agents/"+id+"/status/", hdr, "")
		if resp.StatusCode != 200 || body["status"] != "published" || body["model_available"] != true || body["id"] != id {
			t.Fatalf("status with %v = %d %v", hdr, resp.StatusCode, body)
		}
	}
	resp, body := e.raw(t, "GET", "/api/agents/"+id+"/history/", map[string]string{"X-API-Key": key}, "")
	if resp.StatusCode != 200 || body["count"] != float64(0) {
		t.Fatalf("history = %d %v", resp.StatusCode, body)
	}
	st, body = e.do(t, "GET", "/api/agents/"+id+"/api-keys/", alice, "")
	if list(t, body, "results")[0]["last_used_at"] == nil {
		t.Fatalf("last_used_at not tracked: %v", body)
	}
	for _, hdr := range []map[string]string{
		{}, {"Authorization": "Bearer " + bob}, {"X-API-Key": "ata_wrong"}, {"Authorization": "Basic xyz"},
	} {
		resp, body := e.raw(t, "GET", "/api/agents/"+id+"/status/", hdr, "")
		if resp.StatusCode != 401 && resp.StatusCode != 404 || body["error"] == nil {
			t.Fatalf("status with %v = %d %v", hdr, resp.StatusCode, body)
		}
	}
	// An agent key is no user credential.
	st, body = e.do(t, "GET", "/api/agents/", key, "")
	wantAPIError(t, "agent key as bearer", st, body, 401, "agent API key")

	// Unpublishing stops the key; publishing again restores it.
	e.do(t, "POST", "/api/agents/"+id+"/unpublish/", alice, "")
	resp, body = e.raw(t, "GET", "/api/agents/"+id+"/status/", map[string]string{"X-API-Key": key}, "")
	if resp.StatusCode != 403 || !strings.Contains(fmt.Sprint(body["error"]), "not published") {
		t.Fatalf("key of an unpublished agent = %d %v", resp.StatusCode, body)
	}
	st, body = e.do(t, "POST", "/api/agents/"+id+"/unpublish/", alice, "")
	wantAPIError(t, "unpublish twice", st, body, 409, "not published")
	e.do(t, "POST", "/api/agents/"+id+"/publish/", alice, "")
	// A key of another agent is refused.
	_, other := e.do(t, "POST", "/api/agents/", alice, `{"name":"Other","model_id":"echo"}`)
	resp, _ = e.raw(t, "GET", "/api/agents/"+str(t, other, "id")+"/status/", map[string]string{"X-API-Key": key}, "")
	if resp.StatusCode != 403 {
		t.Fatalf("a key of another agent = %d", resp.StatusCode)
	}

	// Revoked at once.
	if st, _, _ := e.send(t, "DELETE", "/api/agents/"+id+"/api-keys/"+keyID+"/", map[string]string{"Authorization": "Bearer " + alice}, ""); st != 204 {
		t.Fatalf("delete key = %d", st)
	}
	resp, _ = e.raw(t, "GET", "/api/agents/"+id+"/status/", map[string]string{"X-API-Key": key}, "")
	if resp.StatusCode != 401 {
		t.Fatalf("a revoked key = %d", resp.StatusCode)
	}
	st, body = e.do(t, "DELETE", "/api/agents/"+id+"/api-keys/"+keyID+"/", alice, "")
	wantAPIError(t, "delete key twice", st, body, 404, "API key not found")

	// Deleting the agent: 204, then gone.
	if st, _, _ := e.send(t, "DELETE", "/api/agents/"+id+"/", map[string]string{"Authorization": "Bearer " + bob}, ""); st != 404 {
		t.Fatalf("bob deletes = %d", st)
	}
	if st, _, _ := e.send(t, "DELETE", "/api/agents/"+id+"/", map[string]string{"Authorization": "Bearer " + alice}, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	st, body = e.do(t, "GET", "/api/agents/"+id+"/", alice, "")
	wantAPIError(t, "get deleted", st, body, 404, "Agent not found")
}

func TestUserAPIKeysActAsTheirUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	st, body := e.do(t, "POST", "/api/keys/", alice, `{"name":"laptop 💻"}`)
	if st != 201 || !strings.HasPrefix(fmt.Sprint(body["key"]), "atk_") || body["name"] != "laptop 💻" || body["created_at"] == nil {
		t.Fatalf("create = %d %v", st, body)
	}
	key, id := str(t, body, "key"), str(t, body, "id")
	// The key is a bearer credential for the REST API (seed 000 §5.5.1).
	st, body = e.do(t, "POST", "/api/agents/", key, `{"name":"ByKey","model_id":"echo"}`)
	if st != 201 {
		t.Fatalf("create agent with a user key = %d %v", st, body)
	}
	st, body = e.do(t, "GET", "/api/keys/", key, "")
	keys := list(t, body, "results")
	if st != 200 || len(keys) != 1 || keys[0]["key"] != nil || keys[0]["last_used_at"] == nil {
		t.Fatalf("list = %d %v", st, body)
	}
	st, body = e.do(t, "POST", "/api/keys/", alice, `{"name":7}`)
	wantAPIError(t, "bad name", st, body, 400, "name")
	if st, _, _ := e.send(t, "DELETE", "/api/keys/"+id+"/", map[string]string{"Authorization": "Bearer " + alice}, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	st, body = e.do(t, "GET", "/api/agents/", key, "")
	wantAPIError(t, "revoked key", st, body, 401, "Invalid API key")
}

// TestSeed003AgentAPI checks seed 003's agent endpoints and every error
// message they document.
func TestSeed003AgentAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	bob, _ := e.user(t, "bob@x.io")
	_, body := e.do(t, "POST", "/api/keys/", alice, `{"name":"trust"}`)
	key := str(t, body, "key")
	post := func(method, path string, v map[string]any) (int, map[string]any) {
		t.Helper()
		return e.do(t, method, path, "", jsonBody(v))
	}
	wantMsg := func(what string, st int, body map[string]any, status int, field, msg string) {
		t.Helper()
		if st != status || body[field] != msg {
			t.Fatalf("%s = %d %v, want %d with %s %q", what, st, body, status, field, msg)
		}
	}

	// create_agent
	st, body := post("POST", "/create_agent", map[string]any{"api_key": key, "agent_name": "My New Agent", "plan": "Dedicated", "region": "us-east-1"})
	wantMsg("create", st, body, 201, "message", "Agent created successfully")
	id := str(t, body, "agent_id")
	st, body = post("POST", "/create_agent", map[string]any{"session_id": alice, "agent_name": "Cheap", "plan": "Decentralized"})
	wantMsg("create with a session", st, body, 201, "message", "Agent created successfully")
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"api_key": key, "plan": "Dedicated"}, 400, "Agent name and plan are required"},
		{map[string]any{"api_key": key, "agent_name": "x"}, 400, "Agent name and plan are required"},
		{map[string]any{"api_key": key, "agent_name": 5, "plan": "Dedicated"}, 400, "Agent name and plan are required"},
		{map[string]any{"api_key": key, "agent_name": "x", "plan": "Cheap"}, 400, "Invalid plan selection"},
		{map[string]any{"api_key": key, "agent_name": "x", "plan": "Dedicated"}, 400, "Invalid region selection"},
		{map[string]any{"api_key": key, "agent_name": "x", "plan": "Dedicated", "region": "mars-1"}, 400, "Invalid region selection"},
		{map[string]any{"agent_name": "x", "plan": "Dedicated"}, 401, "Not authenticated, invalid session id or api key"},
		{map[string]any{"api_key": "atk_nope", "agent_name": "x", "plan": "Dedicated"}, 401, "Not authenticated, invalid session id or api key"},
		{map[string]any{"session_id": "garbage", "agent_name": "x", "plan": "Dedicated"}, 401, "Not authenticated, invalid session id or api key"},
	} {
		st, body := post("POST", "/create_agent", tc.body)
		wantMsg(fmt.Sprint("create ", tc.body), st, body, tc.status, "error", tc.msg)
	}
	// An invalid session falls back to the api_key.
	st, body = post("POST", "/create_agent", map[string]any{"session_id": "garbage", "api_key": key, "agent_name": "Fallback", "plan": "Decentralized"})
	wantMsg("fallback to api_key", st, body, 201, "message", "Agent created successfully")

	// get_agent_details
	st, body = post("POST", "/get_agent_details", map[string]any{"api_key": key, "modelId": id})
	if st != 200 || body["modelName"] != "My New Agent" || body["plan"] != "Dedicated" || body["region"] != "us-east-1" ||
		body["modelType"] != nil || body["modelProvider"] != nil || body["stream"] != false || len(fmt.Sprint(body["creationDate"])) != 19 {
		t.Fatalf("details = %d %v", st, body)
	}
	st, body = post("POST", "/get_agent_details", map[string]any{"api_key": key})
	wantMsg("details without id", st, body, 400, "error", "Model ID is required")
	st, body = post("POST", "/get_agent_details", map[string]any{"modelId": id})
	wantMsg("details without auth", st, body, 401, "error", "Not authenticated, invalid session ID or API key")
	st, body = post("POST", "/get_agent_details", map[string]any{"session_id": bob, "modelId": id})
	wantMsg("bob's details", st, body, 404, "error", "Model not found")

	// update_agent
	st, body = post("PUT", "/update_agent", map[string]any{"api_key": key, "modelId": id, "modelName": "Renamed", "modelScript": "print('Hello World')",
		"region": "us-west-1", "tools": []string{"web_search", "url_resolver"}, "topP": 0.9, "temperature": 0.75, "system": "System Configuration", "stream": true, "apiKey": key})
	wantMsg("update", st, body, 200, "message", "Model updated successfully")
	st, body = post("POST", "/get_agent_details", map[string]any{"session_id": alice, "modelId": id})
	if body["modelName"] != "Renamed" || body["modelScript"] != "print('Hello World')" || body["region"] != "us-west-1" || body["tools"] != "web_search, url_resolver" ||
		body["topP"] != 0.9 || body["temperature"] != 0.75 || body["system"] != "System Configuration" || body["stream"] != true || !strings.HasPrefix(fmt.Sprint(body["apiKey"]), key[:12]) {
		t.Fatalf("details after update = %d %v", st, body)
	}
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"api_key": key}, 400, "Model ID is required"},
		{map[string]any{"modelId": id}, 401, "Not authenticated, invalid session id or api key"},
		{map[string]any{"session_id": bob, "modelId": id, "modelName": "x"}, 404, "Model not found or does not belong to you"},
		{map[string]any{"api_key": key, "modelId": id, "temperature": 7}, 400, "Invalid value for 'configuration.temperature': expected a number from 0 to 2"},
		{map[string]any{"api_key": key, "modelId": id, "plan": "Cheap"}, 400, "Invalid value for 'configuration.plan': expected \"Decentralized\" or \"Dedicated\""},
		{map[string]any{"api_key": key, "modelId": id, "apiKey": "atk_notmine"}, 400, "Invalid value for 'apiKey': not one of your API keys"},
	} {
		st, body := post("PUT", "/update_agent", tc.body)
		wantMsg(fmt.Sprint("update ", tc.body), st, body, tc.status, "error", tc.msg)
	}

	// delete_agent
	for _, tc := range []struct {
		body   map[string]any
		status int
		msg    string
	}{
		{map[string]any{"api_key": key}, 400, "Model ID is required"},
		{map[string]any{"agent_id": id}, 401, "Not authenticated, invalid session id or api key"},
		{map[string]any{"session_id": bob, "agent_id": id}, 404, "Model not found or does not belong to you"},
	} {
		st, body := post("DELETE", "/delete_agent", tc.body)
		wantMsg(fmt.Sprint("delete ", tc.body), st, body, tc.status, "error", tc.msg)
	}
	st, body = post("DELETE", "/delete_agent", map[string]any{"api_key": key, "model_id": id})
	wantMsg("delete", st, body, 200, "message", "Agent deleted successfully")
	st, body = post("DELETE", "/delete_agent", map[string]any{"api_key": key, "agent_id": id})
	wantMsg("delete again", st, body, 404, "error", "Model not found or does not belong to you")
}

func TestAgentPackagesInstallWithSeed002Messages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, _ := e.user(t, "alice@x.io")
	bob, _ := e.user(t, "bob@x.io")
	_, body := e.do(t, "POST", "/api/agents/", alice, `{"name":"Support Bot","model_id":"echo","script":"print('hi')","configuration":{"system_prompt":"Kind 🙂","api_key_id":"secret-ref"}}`)
	id := str(t, body, "id")
	for _, v := range []string{"1.2.3", "1.10.0", "1.9.9"} {
		st, body := e.do(t, "POST", "/api/agents/"+id+"/packages/", alice, `{"version":"`+v+`"}`)
		if st != 201 || body["name"] != "Support-Bot" || body["version"] != v {
			t.Fatalf("publish %s = %d %v", v, st, body)
		}
	}
	st, body := e.do(t, "POST", "/api/agents/"+id+"/packages/", alice, `{"version":"1.2.3"}`)
	wantAPIError(t, "republish a version", st, body, 409, "already exists")
	st, body = e.do(t, "POST", "/api/agents/"+id+"/packages/", alice, `{"version":"v1"}`)
	wantAPIError(t, "bad version", st, body, 400, "MAJOR.MINOR.PATCH")
	_, bobs := e.do(t, "POST", "/api/agents/", bob, `{"name":"Other","model_id":"echo"}`)
	st, body = e.do(t, "POST", "/api/agents/"+str(t, bobs, "id")+"/packages/", bob, `{"name":"Support-Bot","version":"9.0.0"}`)
	wantAPIError(t, "bob takes alice's name", st, body, 409, "belongs to another user")

	get := func(query string) (int, string, http.Header) {
		return e.send(t, "GET", "/agent/download"+query, map[string]string{"Authorization": "Bearer " + bob}, "")
	}
	st2, raw, _ := get("")
	if st2 != 400 || strings.TrimSpace(raw) != `{"error":"Missing param 'query'"}` {
		t.Fatalf("missing query = %d %s", st2, raw)
	}
	st2, raw, _ = get("?query=Support-Bot&version=2.0.0")
	if st2 != 404 || strings.TrimSpace(raw) != `"Package not found: Support-Bot:2.0.0"` {
		t.Fatalf("unknown version = %d %s", st2, raw)
	}
	st2, raw, _ = get("?query=Nope")
	if st2 != 404 || strings.TrimSpace(raw) != `"Package not found: Nope:latest"` {
		t.Fatalf("unknown package = %d %s", st2, raw)
	}
	// A NUL byte is no package's name (it was a 500: Bun refuses it).
	for _, q := range []string{"?query=%00", "?query=Support-Bot&version=%00"} {
		if st2, raw, _ = get(q); st2 != 404 || !strings.Contains(raw, "Package not found") {
			t.Fatalf("%s = %d %s", q, st2, raw)
		}
	}
	// The latest is 1.10.0 (by number, not by text or date).
	st2, raw, hdr := get("?query=Support-Bot")
	if st2 != 200 || strings.TrimSpace(raw) != `"Successfully installed Support-Bot:1.10.0"` {
		t.Fatalf("install latest = %d %s", st2, raw)
	}
	st2, raw, _ = get("?query=Support-Bot&version=1.2.3")
	if st2 != 200 || strings.TrimSpace(raw) != `"Successfully installed Support-Bot:1.2.3"` {
		t.Fatalf("install 1.2.3 = %d %s", st2, raw)
	}
	// Bob now has two draft copies, with the configuration and script but
	// not alice's key reference.
	st, body = e.do(t, "GET", hdr.Get("Location"), bob, "")
	cfg := obj(t, body, "configuration")
	if st != 200 || body["name"] != "Support Bot" || body["status"] != "draft" || body["script"] != "print('hi')" || cfg["system_prompt"] != "Kind 🙂" || cfg["api_key_id"] != nil {
		t.Fatalf("installed = %d %v", st, body)
	}
	_, body = e.do(t, "GET", "/api/agents/", bob, "")
	if body["count"] != float64(3) {
		t.Fatalf("bob's agents = %v", body)
	}
	// Without a token: seed 002's 401.
	if st, _, _ := e.send(t, "GET", "/agent/download?query=Support-Bot", nil, ""); st != 401 {
		t.Fatalf("download without a token = %d", st)
	}
}

func TestModelCatalogue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Like every seed 001 request, listing needs credentials (clients
	// check a key by listing the models).
	for _, auth := range []string{"", "Bearer nope", "Bearer ata_nope"} {
		hdr := map[string]string{}
		if auth != "" {
			hdr["Authorization"] = auth
		}
		for _, path := range []string{"/v1/models", "/v1/api/models", "/v1/models/gpt-4o"} {
			if st, raw, _ := e.send(t, "GET", path, hdr, ""); st != 401 || !strings.Contains(raw, `"type":"authentication_error"`) {
				t.Fatalf("GET %s with %q = %d %s", path, auth, st, raw)
			}
		}
	}
	jwt, _ := e.user(t, "models@x.io")
	st, raw, _ := e.send(t, "GET", "/v1/models", map[string]string{"Authorization": "Bearer " + jwt}, "")
	var list struct {
		Object string
		Data   []map[string]any
	}
	if err := json.Unmarshal([]byte(raw), &list); err != nil || st != 200 || list.Object != "list" {
		t.Fatalf("models = %d %s", st, raw)
	}
	byName := map[string]map[string]any{}
	for _, m := range list.Data {
		byName[m["id"].(string)] = m
	}
	echo, mini := byName["echo"], byName["gpt-4o-mini"]
	if echo == nil || echo["available"] != true || echo["catalogue_id"] != float64(1) || mini == nil || mini["available"] != false {
		t.Fatalf("echo %v, gpt-4o-mini %v", echo, mini)
	}
	p := mini["pricing"].(map[string]any)
	if p["decentralized_per_hundred_queries"] != float64(50) || p["input_per_million_tokens"] != float64(150) || p["output_per_million_tokens"] != float64(600) || mini["availability"] != "Both" {
		t.Fatalf("gpt-4o-mini = %v", mini)
	}
	if len(list.Data) < 40 {
		t.Fatalf("%d models; seed 003 lists 39", len(list.Data))
	}
	st, body := e.do(t, "GET", "/v1/models/gpt-4o", jwt, "")
	if st != 200 || body["id"] != "gpt-4o" {
		t.Fatalf("one model = %d %v", st, body)
	}
	st, body = e.do(t, "GET", "/v1/models/gpt-9", jwt, "")
	if st != 404 || obj(t, body, "error")["code"] != "model_not_found" {
		t.Fatalf("unknown model = %d %v", st, body)
	}
	// model_id takes a catalogue name or number; seed 003's -latest names
	// find their plain twins.
	alice, _ := e.user(t, "alice@x.io")
	for in, want := range map[string]string{`"gpt-4o-mini"`: "gpt-4o-mini", `5`: "gpt-4o-mini", `"gemini-1.5-flash"`: "gemini-1.5-flash-latest", `"GPT-4O"`: "gpt-4o"} {
		st, body := e.do(t, "POST", "/api/agents/", alice, `{"name":"m","model_id":`+in+`}`)
		if st != 201 || body["model_id"] != want {
			t.Fatalf("model_id %s = %d %v, want %s", in, st, body, want)
		}
	}
}
