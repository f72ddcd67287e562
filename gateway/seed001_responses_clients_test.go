package gateway_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/atrium-hq/atrium/gateway"
)

// TestOpenAIGoResponses drives the Responses API with OpenAI's official Go
// SDK, pointed at seed 001's base URL. (The openai npm package and the AI
// SDK drive it in TestOpenAINodeClients.)
func TestOpenAIGoResponses(t *testing.T) {
	t.Parallel()
	e := newOAIEnv(t, gateway.Config{})
	client := openai.NewClient(option.WithBaseURL(e.srv.URL+"/v1/api/"), option.WithAPIKey(e.userKey), option.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hi := responses.ResponseNewParams{Model: fakeText, Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("hi")}, Instructions: openai.String("Be brief.")}

	resp, err := client.Responses.New(ctx, hi)
	if err != nil {
		t.Fatal(err)
	}
	if resp.OutputText() != "Hello world" || resp.Status != responses.ResponseStatusCompleted || resp.Usage.TotalTokens != 13 || resp.Model != fakeText {
		t.Errorf("response = %s", resp.RawJSON())
	}
	next := hi
	next.PreviousResponseID = openai.String(resp.ID)
	if again, err := client.Responses.New(ctx, next); err != nil || again.OutputText() != "Hello world" || again.PreviousResponseID != resp.ID {
		t.Errorf("continued response = %v, %v", again, err)
	}

	// Streamed.
	stream := client.Responses.NewStreaming(ctx, hi)
	var text string
	var final responses.Response
	for stream.Next() {
		switch ev := stream.Current(); ev.Type {
		case "response.output_text.delta":
			text += ev.Delta
		case "response.completed":
			final = ev.Response
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if text != "Hello world" || final.OutputText() != "Hello world" || final.Usage.TotalTokens != 13 {
		t.Errorf("streamed %q, final %s", text, final.RawJSON())
	}

	// Tools, both ways.
	tools := []responses.ToolUnionParam{
		responses.ToolParamOfFunction("get_weather", map[string]any{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}}, false),
		responses.ToolParamOfFunction("get_time", map[string]any{"type": "object", "properties": map[string]any{}}, false),
	}
	ask := responses.ResponseInputParam{responses.ResponseInputItemParamOfMessage("Weather and time in Paris?", responses.EasyInputMessageRoleUser)}
	withTools := responses.ResponseNewParams{Model: fakeTools, Input: responses.ResponseNewParamsInputUnion{OfInputItemList: ask}, Tools: tools}
	resp, err = client.Responses.New(ctx, withTools)
	if err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, o := range resp.Output {
		if fc := o.AsFunctionCall(); o.Type == "function_call" {
			calls = append(calls, fc.CallID+" "+fc.Name+" "+fc.Arguments)
		}
	}
	want := []string{`call_a get_weather {"city":"Paris"}`, `call_b get_time {}`}
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
	stream = client.Responses.NewStreaming(ctx, withTools)
	calls = nil
	for stream.Next() {
		if ev := stream.Current(); ev.Type == "response.output_item.done" && ev.Item.Type == "function_call" {
			fc := ev.Item.AsFunctionCall()
			calls = append(calls, fc.CallID+" "+fc.Name+" "+fc.Arguments)
		}
	}
	if err := stream.Err(); err != nil || !slices.Equal(calls, want) {
		t.Errorf("streamed calls = %q (%v), want %q", calls, err, want)
	}

	// The calls go back with their outputs, and the model answers.
	input := ask
	for _, o := range resp.Output {
		call := o.AsFunctionCall()
		fc := call.ToParam()
		out := responses.ResponseInputItemParamOfFunctionCallOutput("sunny")
		out.OfFunctionCallOutput.CallID = openai.String(call.CallID)
		input = append(input, responses.ResponseInputItemUnionParam{OfFunctionCall: &fc}, out)
	}
	withTools.Input = responses.ResponseNewParamsInputUnion{OfInputItemList: input}
	if resp, err = client.Responses.New(ctx, withTools); err != nil || resp.OutputText() != "It is sunny in Paris." {
		t.Errorf("answer = %v, %v", resp, err)
	}

	// Errors come back as the SDK's typed errors; a cut stream fails.
	_, err = client.Responses.New(ctx, responses.ResponseNewParams{Model: "gpt-17", Input: hi.Input})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" {
		t.Errorf("unknown model: %v", err)
	}
	stream = client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: fakeCut, Input: hi.Input})
	for stream.Next() {
	}
	if stream.Err() == nil {
		t.Error("a cut stream ended without an error")
	}
}
