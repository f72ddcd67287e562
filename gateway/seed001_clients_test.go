package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/atrium-hq/atrium/gateway"
)

// TestOpenAIGoClient drives the OpenAI-compatible API with OpenAI's
// official Go SDK, pointed at seed 001's base URL.
func TestOpenAIGoClient(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	client := openai.NewClient(option.WithBaseURL(e.srv.URL+"/v1/api/"), option.WithAPIKey(e.userKey), option.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hi := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("hi")}

	resp, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: fakeText, Messages: hi, Temperature: openai.Float(0.2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != "Hello world" || resp.Choices[0].FinishReason != "stop" || resp.Usage.TotalTokens != 13 || resp.Model != fakeText {
		t.Errorf("completion = %s", resp.RawJSON())
	}

	// Streamed, with the SDK's accumulator.
	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: fakeText, Messages: hi,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}})
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != "Hello world" || acc.Usage.TotalTokens != 13 {
		t.Errorf("accumulated = %+v, usage %+v", acc.Choices, acc.Usage)
	}

	// Tools, both ways.
	tools := []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_weather", Description: openai.String("Weather of a city"),
			Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}}),
		openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{Name: "get_time"}),
	}
	ask := []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather and time in Paris?")}
	resp, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: fakeTools, Messages: ask, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Choices[0].Message.ToolCalls
	if len(calls) != 2 || calls[0].ID != "call_a" || calls[0].Function.Name != "get_weather" || calls[0].Function.Arguments != `{"city":"Paris"}` || resp.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("tool calls = %s", resp.RawJSON())
	}
	stream = client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: fakeTools, Messages: ask, Tools: tools})
	acc = openai.ChatCompletionAccumulator{}
	var finished []string
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc.Name+" "+tc.Arguments)
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{`get_weather {"city":"Paris"}`, `get_time {}`}; !slices.Equal(finished, want) {
		t.Errorf("streamed tool calls = %q, want %q", finished, want)
	}

	// The results go back, and the model answers.
	ask = append(ask, acc.Choices[0].Message.ToParam(),
		openai.ToolMessage("sunny", acc.Choices[0].Message.ToolCalls[0].ID),
		openai.ToolMessage("noon", acc.Choices[0].Message.ToolCalls[1].ID))
	resp, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: fakeTools, Messages: ask, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "It is sunny in Paris." {
		t.Errorf("answer = %s", resp.RawJSON())
	}

	// Legacy completions.
	comp, err := client.Completions.New(ctx, openai.CompletionNewParams{Model: fakeText, Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(comp.Choices) != 1 || comp.Choices[0].Text != "Hello world" {
		t.Errorf("completion = %s", comp.RawJSON())
	}

	// Models.
	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(page.Data, func(m openai.Model) bool { return m.ID == fakeText }) {
		t.Errorf("models = %s", page.RawJSON())
	}
	if m, err := client.Models.Get(ctx, fakeText); err != nil || m.ID != fakeText {
		t.Errorf("model = %v, %v", m, err)
	}

	// Errors come back as the SDK's typed errors.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "gpt-17", Messages: hi})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Type != "invalid_request" {
		t.Errorf("unknown model: %v", err)
	}
	// A stream cut by the upstream fails, rather than ending quietly.
	stream = client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: fakeCut, Messages: hi})
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Error("a cut stream ended without an error")
	}
}

// nodeScript returns the path of testdata/openai/client.mjs, skipping the
// test when node is not installed and failing it when the npm packages are
// not (make test installs them).
func nodeScript(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		if os.Getenv("ATRIUM_TEST_REQUIRE_PROGRAMS") == "1" {
			t.Fatal("node is not installed, and ATRIUM_TEST_REQUIRE_PROGRAMS=1")
		}
		t.Skip("node is not installed: the official openai npm client and the Vercel AI SDK are not tested")
	}
	dir, _ := filepath.Abs("testdata/openai")
	for _, pkg := range []string{"openai", "ai", "@ai-sdk/openai"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			t.Fatalf("npm package %s is not installed: run `npm ci --prefix %s` (make test does)", pkg, dir)
		}
	}
	return filepath.Join(dir, "client.mjs")
}

// runNodeClients runs script (client.mjs) with cfg and returns the JSON
// object it prints.
func runNodeClients(t *testing.T, script string, cfg map[string]any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = append(os.Environ(), "ATRIUM_OPENAI_TEST="+string(raw))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node client failed: %v\nstdout: %s\nstderr: %s", err, out, stderr.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node client output is not JSON: %v\n%s", err, out)
	}
	t.Logf("node clients: %s", out)
	return got
}

// TestOpenAINodeClients drives the API with the official openai npm
// package and the Vercel AI SDK, as seed 001's examples use them; the
// script prints what it got as JSON.
func TestOpenAINodeClients(t *testing.T) {
	t.Parallel()
	script := nodeScript(t)
	e := newOAIEnv(t, gateway.Config{})
	got := runNodeClients(t, script, map[string]any{"base_url": e.srv.URL + "/v1/api", "api_key": e.userKey})
	for key, want := range map[string]any{
		"openai_text":         "Hello world",
		"openai_stream_text":  "Hello world",
		"openai_stream_usage": 13.0,
		"openai_tool_calls":   `get_weather {"city":"Paris"}; get_time {}`,
		"openai_stream_tools": `get_weather {"city":"Paris"}; get_time {}`,
		"openai_models":       true,
		"openai_404":          "404 model_not_found",
		"openai_cut_failed":   true,
		"ai_generate_text":    "Hello world",
		"ai_stream_text":      "Hello world",
		"ai_tool_calls":       `get_weather {"city":"Paris"}; get_time {}`,
		"ai_stream_tools":     `get_weather {"city":"Paris"}; get_time {}`,

		// The Responses API (seed001_responses.go).
		"openai_responses_text":               "Hello world",
		"openai_responses_previous":           "Hello world",
		"openai_responses_stream_text":        "Hello world",
		"openai_responses_stream_usage":       13.0,
		"openai_responses_helper_text":        "Hello world",
		"openai_responses_tool_calls":         `get_weather {"city":"Paris"}; get_time {}`,
		"openai_responses_stream_tools":       `get_weather {"city":"Paris"}; get_time {}`,
		"openai_responses_tool_answer":        "It is sunny in Paris.",
		"openai_responses_404":                "404 model_not_found",
		"openai_responses_cut_failed":         true,
		"ai_responses_generate_text":          "Hello world",
		"ai_responses_stream_text":            "Hello world",
		"ai_responses_stream_usage":           13.0,
		"ai_responses_tool_calls":             `get_weather {"city":"Paris"}; get_time {}`,
		"ai_responses_stream_tools":           `get_weather {"city":"Paris"}; get_time {}`,
		"ai_responses_tool_round_trip":        "2 steps: It is sunny in Paris.",
		"ai_responses_stream_tool_round_trip": "2 steps: It is sunny in Paris.",
		"ai_responses_multi_turn":             "Hello world",
		"ai_responses_item_reference_sent":    true,
		"ai_responses_cut_error":              true,
	} {
		if got[key] != want {
			t.Errorf("%s = %#v, want %#v", key, got[key], want)
		}
	}

	// The conversations continued by reference reached the model whole:
	// the AI SDK's item_reference and the openai client's
	// previous_response_id were resolved.
	wantConversations := map[string][]any{
		"item_reference": {
			map[string]any{"role": "user", "content": "Hi"},
			map[string]any{"role": "assistant", "content": "Hello world"},
			map[string]any{"role": "user", "content": "And again?"},
		},
		"previous_response_id": {
			map[string]any{"role": "user", "content": "Hello!"},
			map[string]any{"role": "assistant", "content": "Hello world"},
			map[string]any{"role": "user", "content": "Again"},
		},
	}
	for len(wantConversations) > 0 {
		var up map[string]any
		select {
		case up = <-e.up.reqs:
		default:
			t.Fatalf("the upstream never got these conversations: %v", wantConversations)
		}
		for what, msgs := range wantConversations {
			if reflect.DeepEqual(up["messages"], msgs) {
				delete(wantConversations, what)
			}
		}
	}
}

// TestOpenAINodeClientsWithAnAgent drives an agent as the model with the
// official openai npm package and the Vercel AI SDK: answered, streamed,
// listed among the models, and named by its request id.
func TestOpenAINodeClientsWithAnAgent(t *testing.T) {
	t.Parallel()
	script := nodeScript(t)
	e := newRunningEnv(t)
	owner, _ := e.user(t, "node-agent@x.io")
	agent, _ := e.publishedAgent(t, owner, `{}`)
	got := runNodeClients(t, script, map[string]any{"base_url": e.srv.URL + "/v1/api", "api_key": owner, "agent": agent})
	for _, key := range []string{"agent_text", "agent_stream_text", "agent_ai_generate_text", "agent_ai_stream_text"} {
		if s, _ := got[key].(string); !strings.HasPrefix(s, "This is the echo model") {
			t.Errorf("%s = %v, want the agent's (echo) answer", key, got[key])
		}
	}
	if got["agent_listed"] != true {
		t.Errorf("agent_listed = %v: GET /models does not list the caller's agent", got["agent_listed"])
	}
	if id, _ := got["agent_id"].(string); !strings.HasPrefix(id, "chatcmpl-") || len(id) <= len("chatcmpl-") {
		t.Errorf("agent_id = %v, want chatcmpl-<request id>", got["agent_id"])
	}
}
