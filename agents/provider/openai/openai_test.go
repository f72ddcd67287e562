package openai_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/openai"
)

// request is what the fake upstream received.
type request struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
}

// upstream is a fake OpenAI on a real socket. Its handler gets the decoded
// request; every request is also sent on reqs.
type upstream struct {
	*httptest.Server
	reqs chan request
	// gone is closed when the test ends, so handlers that hold a stream
	// open always return.
	gone chan struct{}
}

func serve(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body map[string]any)) *upstream {
	t.Helper()
	u := &upstream{reqs: make(chan request, 16), gone: make(chan struct{})}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading the request: %v", err)
			return
		}
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("request body is not JSON: %v: %s", err, raw)
		}
		select {
		case u.reqs <- request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}:
		default:
		}
		handle(w, r, body)
	}))
	t.Cleanup(func() {
		close(u.gone)
		u.Close()
	})
	return u
}

// provider returns a provider for u that does not retry.
func (u *upstream) provider(cfg openai.Config) *openai.Provider {
	cfg.BaseURL = u.URL + "/v1"
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = -1
	}
	return openai.New(cfg)
}

// next returns the next request u received.
func (u *upstream) next(t *testing.T) request {
	t.Helper()
	select {
	case r := <-u.reqs:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the upstream")
		return request{}
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// chunk is a chat.completion.chunk with one choice, as OpenAI writes it.
func chunk(delta map[string]any, finish any) string {
	return mustJSON(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
		"model": "gpt-test", "system_fingerprint": "fp_1",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}},
		"usage":   nil,
	})
}

func text(s string) string { return chunk(map[string]any{"content": s}, nil) }

func finish(reason string) string { return chunk(map[string]any{}, reason) }

// usage is the last chunk include_usage asks for: no choices.
func usage(in, out int) string {
	return mustJSON(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000,
		"model": "gpt-test", "choices": []any{},
		"usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	})
}

// call is a tool-call piece; empty id and name are left out, as OpenAI
// does after the first piece.
func call(index int, id, name, args string) string {
	fn := map[string]any{"arguments": args}
	tc := map[string]any{"index": index, "function": fn}
	if id != "" {
		tc["id"], tc["type"] = id, "function"
	}
	if name != "" {
		fn["name"] = name
	}
	return chunk(map[string]any{"tool_calls": []any{tc}}, nil)
}

const done = "[DONE]"

// sse writes events as a stream's data lines and flushes them.
func sse(w http.ResponseWriter, events ...string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/event-stream")
	}
	for _, e := range events {
		fmt.Fprintf(w, "data: %s\n\n", e)
	}
	w.(http.Flusher).Flush()
}

// collect returns an emit that records deltas.
func collect(deltas *[]agents.Delta) func(agents.Delta) error {
	return func(d agents.Delta) error {
		*deltas = append(*deltas, d)
		return nil
	}
}

func modelError(t *testing.T, err error) *agents.ModelError {
	t.Helper()
	if err == nil {
		t.Fatal("Stream succeeded; want an error")
	}
	me, ok := agents.AsModelError(err)
	if !ok {
		t.Fatalf("error %q (%T) does not wrap *agents.ModelError", err, err)
	}
	return me
}

func TestStreamText(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		sse(w,
			chunk(map[string]any{"role": "assistant", "content": ""}, nil),
			text("Héllo "),
			text("👋🏽 𝄞 世界"),
			// A surrogate pair escaped, as some servers write non-BMP text.
			`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" \ud83d\ude00"},"finish_reason":null}]}`,
			finish("stop"),
			usage(12, 5),
			done)
	})
	p := u.provider(openai.Config{APIKey: "KEY", Name: "testai", Headers: map[string]string{"X-Tenant": "t1"}})

	temp, topP := 0.25, 0.5
	var deltas []agents.Delta
	resp, err := p.Stream(context.Background(), agents.ModelRequest{
		Model:       "gpt-test",
		System:      "Be brief.",
		Messages:    []agents.ModelMessage{{Role: agents.RoleUser, Content: "Say hi 🙂 in 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"}},
		Temperature: &temp,
		TopP:        &topP,
		MaxTokens:   100,
		Stop:        []string{"\n\n"},
	}, collect(&deltas))
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}

	want := []agents.Delta{{Text: "Héllo "}, {Text: "👋🏽 𝄞 世界"}, {Text: " 😀"}}
	if !reflect.DeepEqual(deltas, want) {
		t.Errorf("deltas = %+v, want %+v", deltas, want)
	}
	wantResp := agents.ModelResponse{
		Text:         "Héllo 👋🏽 𝄞 世界 😀",
		FinishReason: agents.FinishStop,
		Usage:        agents.Usage{InputTokens: 12, OutputTokens: 5},
	}
	if !reflect.DeepEqual(resp, wantResp) {
		t.Errorf("response = %+v, want %+v", resp, wantResp)
	}

	r := u.next(t)
	if r.Method != http.MethodPost || r.Path != "/v1/chat/completions" {
		t.Errorf("request = %s %s, want POST /v1/chat/completions", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer KEY" {
		t.Errorf("Authorization = %q, want %q", got, "Bearer KEY")
	}
	if got := r.Header.Get("X-Tenant"); got != "t1" {
		t.Errorf("X-Tenant = %q, want t1", got)
	}
	wantBody := map[string]any{
		"model":          "gpt-test",
		"stream":         true,
		"stream_options": map[string]any{"include_usage": true},
		"messages": []any{
			map[string]any{"role": "system", "content": "Be brief."},
			map[string]any{"role": "user", "content": "Say hi 🙂 in 𝔘𝔫𝔦𝔠𝔬𝔡𝔢"},
		},
		"temperature": 0.25,
		"top_p":       0.5,
		"max_tokens":  100.0,
		"stop":        []any{"\n\n"},
	}
	if !reflect.DeepEqual(r.Body, wantBody) {
		t.Errorf("request body =\n%s\nwant\n%s", mustJSON(r.Body), mustJSON(wantBody))
	}
}

func TestStreamToolCalls(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		sse(w,
			chunk(map[string]any{"role": "assistant", "content": nil}, nil),
			call(0, "call_a", "weather", ""),
			call(0, "", "", `{"city":`),
			call(1, "call_b", "weather", ""),
			call(0, "", "", `"Zürich 🏔"}`),
			call(1, "", "", `{"city":"Oslo"`),
			call(1, "", "", `}`),
			finish("tool_calls"),
			usage(40, 22),
			done)
	})
	p := u.provider(openai.Config{})

	var deltas []agents.Delta
	resp, err := p.Stream(context.Background(), agents.ModelRequest{
		Model:    "gpt-test",
		Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: "Weather in Zürich and Oslo?"}},
		Tools: []agents.ToolSpec{
			{Name: "weather", Description: "Current weather.", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","maxLength":80}},"required":["city"]}`)},
			{Name: "now"},
		},
		ToolChoice: "required",
	}, collect(&deltas))
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}

	want := []agents.Delta{
		{ToolCall: &agents.ToolCallDelta{Index: 0, ID: "call_a", Name: "weather"}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `{"city":`}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, ID: "call_b", Name: "weather"}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `"Zürich 🏔"}`}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, Arguments: `{"city":"Oslo"`}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, Arguments: `}`}},
	}
	if !reflect.DeepEqual(deltas, want) {
		t.Errorf("deltas =\n%s\nwant\n%s", mustJSON(deltas), mustJSON(want))
	}
	wantResp := agents.ModelResponse{
		ToolCalls: []agents.ToolCall{
			{ID: "call_a", Name: "weather", Arguments: `{"city":"Zürich 🏔"}`},
			{ID: "call_b", Name: "weather", Arguments: `{"city":"Oslo"}`},
		},
		FinishReason: agents.FinishToolCalls,
		Usage:        agents.Usage{InputTokens: 40, OutputTokens: 22},
	}
	if !reflect.DeepEqual(resp, wantResp) {
		t.Errorf("response = %+v, want %+v", resp, wantResp)
	}

	r := u.next(t)
	wantTools := []any{
		map[string]any{"type": "function", "function": map[string]any{
			"name": "weather", "description": "Current weather.",
			"parameters": map[string]any{
				"type":       "object",
				"properties": map[string]any{"city": map[string]any{"type": "string", "maxLength": 80.0}},
				"required":   []any{"city"},
			},
		}},
		map[string]any{"type": "function", "function": map[string]any{
			"name":       "now",
			"parameters": map[string]any{"type": "object", "properties": map[string]any{}},
		}},
	}
	if !reflect.DeepEqual(r.Body["tools"], wantTools) {
		t.Errorf("tools =\n%s\nwant\n%s", mustJSON(r.Body["tools"]), mustJSON(wantTools))
	}
	if got := r.Body["tool_choice"]; got != "required" {
		t.Errorf("tool_choice = %v, want required", got)
	}
	if _, ok := r.Header["Authorization"]; ok {
		t.Errorf("Authorization sent without an APIKey: %q", r.Header.Get("Authorization"))
	}
}

// TestConversationEncoding checks a conversation that called tools and
// got their results is sent the way the API expects it back.
func TestConversationEncoding(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		sse(w, text("ok"), finish("stop"), done)
	})
	p := u.provider(openai.Config{})

	_, err := p.Stream(context.Background(), agents.ModelRequest{
		Model:  "gpt-test",
		System: "You are Atrium's helper.",
		Messages: []agents.ModelMessage{
			{Role: agents.RoleUser, Content: "Weather in Zürich and Oslo? 🌦"},
			{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{
				{ID: "call_a", Name: "weather", Arguments: `{"city":"Zürich"}`},
				{ID: "call_b", Name: "now", Arguments: ""},
			}},
			{Role: agents.RoleTool, ToolCallID: "call_a", ToolName: "weather", Content: `{"temp":21,"sky":"☀️"}`},
			{Role: agents.RoleTool, ToolCallID: "call_b", ToolName: "now", Content: "clock unavailable", IsError: true},
			{Role: agents.RoleAssistant, Content: "Zürich is sunny; I could not tell the time."},
			{Role: agents.RoleSystem, Content: "Answer in French from now on."},
			{Role: agents.RoleUser, Content: "Merci"},
		},
		Tools:      []agents.ToolSpec{{Name: "weather"}, {Name: "now"}},
		ToolChoice: "auto",
	}, func(agents.Delta) error { return nil })
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}

	var want []any
	if err := json.Unmarshal([]byte(`[
		{"role": "system", "content": "You are Atrium's helper."},
		{"role": "user", "content": "Weather in Zürich and Oslo? 🌦"},
		{"role": "assistant", "tool_calls": [
			{"id": "call_a", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Zürich\"}"}},
			{"id": "call_b", "type": "function", "function": {"name": "now", "arguments": "{}"}}
		]},
		{"role": "tool", "tool_call_id": "call_a", "content": "{\"temp\":21,\"sky\":\"☀️\"}"},
		{"role": "tool", "tool_call_id": "call_b", "content": "Error: clock unavailable"},
		{"role": "assistant", "content": "Zürich is sunny; I could not tell the time."},
		{"role": "system", "content": "Answer in French from now on."},
		{"role": "user", "content": "Merci"}
	]`), &want); err != nil {
		t.Fatal(err)
	}
	r := u.next(t)
	if !reflect.DeepEqual(r.Body["messages"], want) {
		t.Errorf("messages =\n%s\nwant\n%s", mustJSON(r.Body["messages"]), mustJSON(want))
	}
	if got := r.Body["tool_choice"]; got != "auto" {
		t.Errorf("tool_choice = %v, want auto", got)
	}
}

func TestFinishReasons(t *testing.T) {
	t.Parallel()
	// The model's name says how the fake model finishes.
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		reason, _ := body["model"].(string)
		events := []string{text("so")}
		if strings.HasSuffix(reason, "+call") {
			reason = strings.TrimSuffix(reason, "+call")
			events = append(events, call(0, "call_1", "now", "{}"))
		}
		sse(w, append(events, finish(reason), done)...)
	})
	p := u.provider(openai.Config{})
	for _, tc := range []struct{ reason, want string }{
		{"stop", agents.FinishStop},
		{"length", agents.FinishLength},
		{"content_filter", agents.FinishFilter},
		{"tool_calls+call", agents.FinishToolCalls},
		{"function_call+call", agents.FinishToolCalls},
		// Older Ollama says "stop" after calling tools.
		{"stop+call", agents.FinishToolCalls},
		{"eos", agents.FinishStop},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			resp, err := p.Stream(context.Background(), agents.ModelRequest{Model: tc.reason}, func(agents.Delta) error { return nil })
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			if resp.FinishReason != tc.want {
				t.Errorf("FinishReason = %q, want %q", resp.FinishReason, tc.want)
			}
		})
	}
}

// TestStreamCut checks a stream that stops before the model finished is an
// error, not a short answer.
func TestStreamCut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter, r *http.Request, _ map[string]any)
	}{
		{"closed", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			// A clean end of the body, without finish_reason or [DONE].
			sse(w, text("The answer is"), text(" forty"))
		}},
		{"dropped", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
			// The connection dies mid-body, mid-event.
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n")
			fmt.Fprintf(buf, "data: %s\n\ndata: %s\n\ndata: {\"id\":\"chatcmpl-1\",\"cho", text("The answer is"), text(" forty"))
			buf.Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := serve(t, tc.handle)
			p := u.provider(openai.Config{})
			var deltas []agents.Delta
			_, err := p.Stream(context.Background(), agents.ModelRequest{Model: "gpt-test"}, collect(&deltas))
			me := modelError(t, err)
			if me.Provider != "openai" || !strings.Contains(me.Message, "before the model finished") {
				t.Errorf("ModelError = %+v, want openai's \"before the model finished\"", me)
			}
			if want := []agents.Delta{{Text: "The answer is"}, {Text: " forty"}}; !reflect.DeepEqual(deltas, want) {
				t.Errorf("deltas = %+v, want %+v", deltas, want)
			}
		})
	}
}

func TestStreamErrorEvent(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		sse(w, text("Partial"),
			`{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}`)
		// Whatever follows must not turn it into a success.
		sse(w, finish("stop"), done)
	})
	p := u.provider(openai.Config{})

	var deltas []agents.Delta
	_, err := p.Stream(context.Background(), agents.ModelRequest{Model: "gpt-test"}, collect(&deltas))
	me := modelError(t, err)
	if me.Status != 0 || me.Code != "server_error" || !strings.HasPrefix(me.Message, "The server had an error") {
		t.Errorf("ModelError = %+v, want server_error with the server's message", me)
	}
	if len(deltas) != 1 {
		t.Errorf("deltas = %+v, want the one before the error", deltas)
	}
}

// hold answers with the given events and then keeps the stream open
// until the client goes; it reports the client's going on left.
func hold(u **upstream, left chan<- struct{}, events ...string) func(http.ResponseWriter, *http.Request, map[string]any) {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		if len(events) > 0 {
			sse(w, events...)
		}
		select {
		case <-r.Context().Done():
			left <- struct{}{}
		case <-(*u).gone:
		}
	}
}

// waitFor fails the test unless ch delivers soon.
func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not happen", what)
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		events []string
	}{
		{"before headers", nil},
		{"mid-stream", []string{text("thinking")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			left := make(chan struct{}, 1)
			var u *upstream
			u = serve(t, hold(&u, left, tc.events...))
			p := u.provider(openai.Config{IdleTimeout: time.Second})

			// A deadline of its own, so a provider that never times out
			// fails the test instead of hanging it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := p.Stream(ctx, agents.ModelRequest{Model: "gpt-test"}, func(agents.Delta) error { return nil })
			me := modelError(t, err)
			var timeout interface{ Timeout() bool }
			if me.Code != "timeout" || !errors.As(err, &timeout) || !timeout.Timeout() {
				t.Errorf("error = %v (%+v), want a timeout", err, me)
			}
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v looks like the caller's context ended", err)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("took %s to notice a 1s idle timeout", took)
			}
			waitFor(t, left, "the upstream seeing the request cancelled")
		})
	}
}

func TestCallTimeout(t *testing.T) {
	t.Parallel()
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		// A model that never stops talking, never idle for long.
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				sse(w, text("blah "))
			case <-r.Context().Done():
				return
			}
		}
	})
	p := u.provider(openai.Config{Timeout: 300 * time.Millisecond, IdleTimeout: 5 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := p.Stream(ctx, agents.ModelRequest{Model: "gpt-test"}, func(agents.Delta) error { return nil })
	me := modelError(t, err)
	if me.Code != "timeout" || !strings.Contains(me.Message, "did not finish within 300ms") {
		t.Errorf("ModelError = %+v, want the call's timeout", me)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	left := make(chan struct{}, 1)
	var u *upstream
	u = serve(t, hold(&u, left, text("Once upon")))
	p := u.provider(openai.Config{})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan struct{}, 1)
	result := make(chan error, 1)
	go func() {
		_, err := p.Stream(ctx, agents.ModelRequest{Model: "gpt-test"}, func(agents.Delta) error {
			first <- struct{}{}
			return nil
		})
		result <- err
	}()
	waitFor(t, first, "the first delta")
	cancel()
	select {
	case err := <-result:
		if err != context.Canceled {
			t.Errorf("Stream error = %v, want context.Canceled itself", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stream did not return after ctx was cancelled")
	}
	waitFor(t, left, "the upstream seeing the request cancelled")
}

func TestEmitError(t *testing.T) {
	t.Parallel()
	left := make(chan struct{}, 1)
	var u *upstream
	u = serve(t, hold(&u, left, text("one"), text("two")))
	p := u.provider(openai.Config{})

	errFull := errors.New("watchers gone")
	calls := 0
	_, err := p.Stream(context.Background(), agents.ModelRequest{Model: "gpt-test"}, func(agents.Delta) error {
		calls++
		return errFull
	})
	if err != errFull {
		t.Errorf("Stream error = %v, want emit's error itself", err)
	}
	if calls != 1 {
		t.Errorf("emit called %d times after failing", calls)
	}
	waitFor(t, left, "the upstream seeing the request dropped")
}

// TestNoAmbientCredentials checks a key meant for api.openai.com in the
// environment never reaches another server.
func TestNoAmbientCredentials(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-leaked")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	u := serve(t, func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		sse(w, text("hi"), finish("stop"), done)
	})
	p := u.provider(openai.Config{})
	if _, err := p.Stream(context.Background(), agents.ModelRequest{Model: "llama3"}, func(agents.Delta) error { return nil }); err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if got := u.next(t).Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
}

func TestBadRequest(t *testing.T) {
	t.Parallel()
	p := openai.New(openai.Config{BaseURL: "http://127.0.0.1:1/v1"})
	for _, req := range []agents.ModelRequest{
		{Model: "m", Messages: []agents.ModelMessage{{Role: "narrator", Content: "x"}}},
		{Model: "m", Tools: []agents.ToolSpec{{Name: "t", Parameters: json.RawMessage(`["not", "an", "object"]`)}}},
	} {
		if _, err := p.Stream(context.Background(), req, func(agents.Delta) error { return nil }); err == nil {
			t.Errorf("Stream(%+v) succeeded; want an error", req)
		}
	}
}

// FuzzStream serves arbitrary bytes as the upstream's answer: Stream must
// neither panic nor hang, and must either fail or return a whole answer.
func FuzzStream(f *testing.F) {
	f.Add(200, []byte("data: "+text("hi")+"\n\ndata: "+finish("stop")+"\n\ndata: [DONE]\n\n"))
	f.Add(200, []byte("data: "+call(0, "c", "f", `{"a":`)+"\n\ndata: "+call(3, "", "", "1}")+"\n\ndata: "+finish("tool_calls")+"\n\n"))
	f.Add(200, []byte("data: {\"error\":{\"message\":\"x\",\"code\":12}}\n\n"))
	f.Add(200, []byte("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"id\":\"a\"},{\"id\":\"b\"}]},\"finish_reason\":\"stop\"}]}\n\n"))
	f.Add(200, []byte("event: x\ndata: [1,2\n\n: comment\n\n"))
	f.Add(400, []byte(`{"error":{"message":"bad","code":"x","param":"max_tokens"}}`))
	f.Add(500, []byte(`[{"error":"nested"}]`))
	f.Add(502, []byte("\xff\xfe<html>"))
	f.Add(200, []byte(`{"choices":[{"index":0,"message":{"content":"hi","tool_calls":[{"id":"a","function":{"name":"f","arguments":{}}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":1}}`))

	var payload atomic.Pointer[[]byte]
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := *payload.Load()
		if bytes.HasPrefix(body, []byte("{")) {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/event-stream")
		}
		w.WriteHeader(int(status.Load()))
		w.Write(body)
	}))
	defer srv.Close()
	p := openai.New(openai.Config{BaseURL: srv.URL + "/v1", MaxRetries: -1, Timeout: 10 * time.Second})

	f.Fuzz(func(t *testing.T, code int, body []byte) {
		if code < 200 || code > 599 {
			code = 200 + (code%400+400)%400
		}
		status.Store(int32(code))
		payload.Store(&body)
		req := agents.ModelRequest{Model: "m", MaxTokens: 5}
		for _, ask := range []func() (agents.ModelResponse, error){
			func() (agents.ModelResponse, error) {
				return p.Stream(context.Background(), req, func(agents.Delta) error { return nil })
			},
			func() (agents.ModelResponse, error) { return p.Complete(context.Background(), req) },
		} {
			resp, err := ask()
			if err != nil {
				if _, ok := agents.AsModelError(err); !ok {
					t.Fatalf("error %v does not wrap a ModelError", err)
				}
				continue
			}
			switch resp.FinishReason {
			case agents.FinishStop, agents.FinishToolCalls, agents.FinishLength, agents.FinishFilter:
			default:
				t.Fatalf("FinishReason = %q", resp.FinishReason)
			}
		}
	})
}

// TestBadToolCallIndex checks a tool call index no server should send is
// the model's error, streamed or not, and nothing is emitted for it:
// callers size tables by the index.
func TestBadToolCallIndex(t *testing.T) {
	t.Parallel()
	many := make([]any, agents.MaxToolCalls+1)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprintf("call_%d", i), "type": "function", "function": map[string]any{"name": "f", "arguments": "{}"}}
	}
	u := serve(t, func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		switch body["model"] {
		case "negative":
			sse(w, call(0, "call_a", "f", "{}"), call(-1, "call_b", "g", "{}"), finish("tool_calls"), done)
		case "huge":
			sse(w, call(1<<40, "call_a", "f", "{}"), finish("tool_calls"), done)
		case "too-many":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, completion(map[string]any{"role": "assistant", "tool_calls": many}, "tool_calls", nil))
		}
	})
	p := u.provider(openai.Config{})
	for _, model := range []string{"negative", "huge"} {
		var deltas []agents.Delta
		_, err := p.Stream(context.Background(), agents.ModelRequest{Model: model}, collect(&deltas))
		if me := modelError(t, err); !strings.Contains(me.Error(), "tool call index") {
			t.Errorf("%s: error %q, want one naming the tool call index", model, me.Error())
		}
		for _, d := range deltas {
			if tc := d.ToolCall; tc != nil && (tc.Index < 0 || tc.Index >= agents.MaxToolCalls) {
				t.Errorf("%s: emitted %+v", model, tc)
			}
		}
	}
	_, err := p.Complete(context.Background(), agents.ModelRequest{Model: "too-many"})
	if me := modelError(t, err); !strings.Contains(me.Error(), "tool call index 256") {
		t.Errorf("too-many: error %q, want one naming tool call index 256", me.Error())
	}
}
