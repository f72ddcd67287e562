package gateway_test

import (
	"bufio"
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
	"github.com/atrium-hq/atrium/agents/provider/openai"
	"github.com/atrium-hq/atrium/gateway"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// fakeOpenAI is an OpenAI chat-completions server on a real socket, the
// "openai" upstream of oaiEnv's catalogue. What it does depends on the
// model it is asked for (the fake* constants); every request it gets is
// sent on reqs.
type fakeOpenAI struct {
	*httptest.Server
	reqs chan map[string]any
	// release lets fakeSlow's answer go.
	release chan struct{}
	// left gets a value when a fakeHang request's context ends: the
	// gateway dropped the upstream call.
	left chan struct{}
	// gone is closed when the test ends, so held streams always return.
	gone chan struct{}
}

// The fake upstream's models.
const (
	fakeText    = "fake-text"    // "Hello world", usage 11+2
	fakeNoUsage = "fake-nousage" // "Hello world", no usage
	fakeTools   = "fake-tools"   // calls get_weather and get_time; answers tool results
	fake429     = "fake-429"     // rate limited
	fake500     = "fake-500"     // fails
	fake400     = "fake-400"     // refuses the request (context too long)
	fakeCut     = "fake-cut"     // "partial", then the connection ends without a finish
	fakeSlow    = "fake-slow"    // waits for release before answering
	fakeHang    = "fake-hang"    // "thinking", then holds the stream until the request ends
)

// Priced models, served by the fake upstream's: a token in costs 1
// credit, a token out 2 (fakeText's answer costs 11 + 2×2).
const (
	pricedText = "priced-text" // fakeText
	pricedHang = "priced-hang" // fakeHang
)

// oaiChunk is a chat.completion.chunk with one choice, as OpenAI writes it.
func oaiChunk(delta map[string]any, finish any) string {
	return jsonBody(map[string]any{
		"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1700000000, "model": "up",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
	})
}

func oaiText(s string) string { return oaiChunk(map[string]any{"content": s}, nil) }

func oaiUsage(in, out int) string {
	return jsonBody(map[string]any{"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1700000000, "model": "up",
		"choices": []any{}, "usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out}})
}

// oaiCall is a tool-call piece; empty id and name are left out, as OpenAI
// does after a call's first piece.
func oaiCall(index int, id, name, args string) string {
	fn := map[string]any{"arguments": args}
	tc := map[string]any{"index": index, "function": fn}
	if id != "" {
		tc["id"], tc["type"] = id, "function"
	}
	if name != "" {
		fn["name"] = name
	}
	return oaiChunk(map[string]any{"tool_calls": []any{tc}}, nil)
}

func writeSSE(w http.ResponseWriter, events ...string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/event-stream")
	}
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
	}
	w.(http.Flusher).Flush()
}

// writeCompletion answers a request that is not streamed as a real server
// does, with one chat.completion, for the fake models that finish; it
// reports whether it answered. The others stream whatever they are asked,
// as some servers do.
func writeCompletion(w http.ResponseWriter, body map[string]any) bool {
	msg := map[string]any{"role": "assistant", "content": "Hello world"}
	usage := any(map[string]any{"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13})
	finish := "stop"
	switch body["model"] {
	case fakeText:
	case fakeNoUsage:
		usage = nil
	case fakeTools:
		msgs, _ := body["messages"].([]any)
		last, _ := msgs[len(msgs)-1].(map[string]any)
		if last["role"] == "tool" {
			msg["content"] = "It is sunny in Paris."
			usage = map[string]any{"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36}
			break
		}
		msg["content"] = nil
		msg["tool_calls"] = []any{
			map[string]any{"id": "call_a", "type": "function", "function": map[string]any{"name": "get_weather", "arguments": `{"city":"Paris"}`}},
			map[string]any{"id": "call_b", "type": "function", "function": map[string]any{"name": "get_time", "arguments": `{}`}},
		}
		finish = "tool_calls"
		usage = map[string]any{"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}
	default:
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, jsonBody(map[string]any{
		"id": "chatcmpl-up", "object": "chat.completion", "created": 1700000000, "model": "up",
		"choices": []any{map[string]any{"index": 0, "message": msg, "logprobs": nil, "finish_reason": finish}},
		"usage":   usage,
	}))
	return true
}

func startFakeOpenAI(t *testing.T) *fakeOpenAI {
	t.Helper()
	f := &fakeOpenAI{reqs: make(chan map[string]any, 64), release: make(chan struct{}), left: make(chan struct{}, 4), gone: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		select {
		case f.reqs <- body:
		default:
		}
		role := oaiChunk(map[string]any{"role": "assistant", "content": ""}, nil)
		if body["stream"] != true && writeCompletion(w, body) {
			return
		}
		switch body["model"] {
		case fakeText:
			writeSSE(w, role, oaiText("Hello"), oaiText(" world"), oaiChunk(map[string]any{}, "stop"), oaiUsage(11, 2), "[DONE]")
		case fakeNoUsage:
			writeSSE(w, role, oaiText("Hello"), oaiText(" world"), oaiChunk(map[string]any{}, "stop"), "[DONE]")
		case fakeTools:
			msgs, _ := body["messages"].([]any)
			last, _ := msgs[len(msgs)-1].(map[string]any)
			if last["role"] == "tool" {
				writeSSE(w, role, oaiText("It is sunny in Paris."), oaiChunk(map[string]any{}, "stop"), oaiUsage(30, 6), "[DONE]")
				return
			}
			writeSSE(w, oaiChunk(map[string]any{"role": "assistant", "content": nil}, nil),
				oaiCall(0, "call_a", "get_weather", ""), oaiCall(0, "", "", `{"city":`), oaiCall(0, "", "", `"Paris"}`),
				oaiCall(1, "call_b", "get_time", `{}`),
				oaiChunk(map[string]any{}, "tool_calls"), oaiUsage(20, 9), "[DONE]")
		case fake429:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}}`)
		case fake500:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}`)
		case fake400:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":{"message":"This model's maximum context length is 8 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}`)
		case fakeCut:
			writeSSE(w, role, oaiText("partial"))
		case fakeSlow:
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			select {
			case <-f.release:
			case <-r.Context().Done():
				return
			case <-f.gone:
				return
			}
			writeSSE(w, role, oaiText("late"), oaiChunk(map[string]any{}, "stop"), oaiUsage(3, 1), "[DONE]")
		case fakeHang:
			writeSSE(w, role, oaiText("thinking"))
			select {
			case <-r.Context().Done():
				f.left <- struct{}{}
			case <-f.gone:
			}
		default:
			http.Error(w, `{"error":{"message":"no such model"}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(func() {
		close(f.gone)
		f.Close()
	})
	return f
}

// next returns the next request the fake upstream got.
func (f *fakeOpenAI) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case b := <-f.reqs:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached the upstream")
		return nil
	}
}

// oaiEnv is a gateway whose catalogue has the echo model and the fake
// upstream's models, with a user who has a JWT and a user API key.
type oaiEnv struct {
	*env
	up      *fakeOpenAI
	jwt     string
	userKey string
	userID  string
}

func newOAIEnv(t *testing.T, cfg gateway.Config) *oaiEnv {
	t.Helper()
	up := startFakeOpenAI(t)
	models := agents.BuiltinModels()
	for _, name := range []string{fakeText, fakeNoUsage, fakeTools, fake429, fake500, fake400, fakeCut, fakeSlow, fakeHang} {
		models = append(models, agents.Model{Name: name, Upstream: "openai"})
	}
	for name, up := range map[string]string{pricedText: fakeText, pricedHang: fakeHang} {
		models = append(models, agents.Model{Name: name, Upstream: "openai", UpstreamModel: up, InputPrice: 1e6, OutputPrice: 2e6})
	}
	catalogue, err := agents.NewCatalogue(models, map[string]agents.Provider{
		"echo":   echo.New(echo.Config{Rate: -1, Tokens: 30}),
		"openai": openai.New(openai.Config{BaseURL: up.URL + "/v1", MaxRetries: -1, Timeout: 30 * time.Second}),
	}, "echo")
	if err != nil {
		t.Fatal(err)
	}
	db := sqldbtest.Open(t)
	ws := workspaces.New(db, workspaces.Config{})
	ag := agents.New(db, ws)
	tokens := workspaces.NewTokens(testSecret, time.Hour, nil)
	h := gateway.NewServer(gateway.Deps{
		Logger:     slog.New(slog.DiscardHandler),
		Workspaces: ws,
		Agents:     ag,
		Tokens:     tokens,
		Catalogue:  catalogue,
	}, cfg)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &oaiEnv{env: &env{srv: srv, ws: ws, ag: ag, tokens: tokens}, up: up}
	e.jwt, e.userID = e.user(t, "oai@example.com")
	k, err := ws.CreateKey(context.Background(), workspaces.UserID(e.userID), workspaces.UserKey, "", "test")
	if err != nil {
		t.Fatal(err)
	}
	e.userKey = k.Secret
	return e
}

// post sends body to path with the bearer token and returns the response,
// its body read.
func (e *oaiEnv) post(t *testing.T, path, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// postJSON posts and decodes a JSON object answer.
func (e *oaiEnv) postJSON(t *testing.T, path, token, body string) (int, map[string]any) {
	t.Helper()
	resp, data := e.post(t, path, token, body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("POST %s: Content-Type = %q, want application/json (body %s)", path, ct, data)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("POST %s: %v: %s", path, err, data)
	}
	return resp.StatusCode, out
}

// sseEvent is one line of a stream that matters: a data line or a comment.
type sseEvent struct {
	comment string         // ": ping" → "ping"
	data    string         // the data line's payload
	obj     map[string]any // data decoded, unless it is [DONE]
}

// readSSE reads a whole stream's data and comment lines.
func readSSE(t *testing.T, body io.Reader) []sseEvent {
	t.Helper()
	var out []sseEvent
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		ev, ok := parseSSELine(t, sc.Text())
		if ok {
			out = append(out, ev)
		}
	}
	return out
}

func parseSSELine(t *testing.T, line string) (sseEvent, bool) {
	t.Helper()
	switch {
	case strings.HasPrefix(line, ":"):
		return sseEvent{comment: strings.TrimSpace(line[1:])}, true
	case strings.HasPrefix(line, "data: "):
		ev := sseEvent{data: line[len("data: "):]}
		if ev.data != "[DONE]" {
			if err := json.Unmarshal([]byte(ev.data), &ev.obj); err != nil {
				t.Fatalf("data line %q is not JSON: %v", line, err)
			}
		}
		return ev, true
	case line == "":
		return sseEvent{}, false
	}
	t.Fatalf("unexpected stream line %q", line)
	return sseEvent{}, false
}

// stream posts a streaming request and returns its status, Content-Type
// and events.
func (e *oaiEnv) stream(t *testing.T, path, token, body string) (int, string, []sseEvent) {
	t.Helper()
	resp, data := e.post(t, path, token, body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), readSSE(t, strings.NewReader(string(data)))
}

// wantOAIError checks an error answer in seed 001's shape.
func wantOAIError(t *testing.T, what string, status int, body map[string]any, wantStatus int, wantType, wantCode string) map[string]any {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("%s: status = %d, want %d (body %v)", what, status, wantStatus, body)
	}
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("%s: no error object: %v", what, body)
	}
	if e["type"] != wantType {
		t.Errorf("%s: error.type = %v, want %q", what, e["type"], wantType)
	}
	if wantCode != "" && e["code"] != wantCode {
		t.Errorf("%s: error.code = %v, want %q", what, e["code"], wantCode)
	}
	if m, _ := e["message"].(string); m == "" {
		t.Errorf("%s: error without a message: %v", what, e)
	}
	return e
}

// choices returns a response's or chunk's choices.
func choices(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	return list(t, body, "choices")
}
