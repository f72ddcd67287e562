package bedrock_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/bedrock"
)

func TestStreamText(t *testing.T) {
	t.Parallel()
	f := newFake(t, script(
		messageStart(),
		text(0, "Hel"), text(0, "lo"), text(0, ", world"),
		blockStop(0),
		messageStop("end_turn"),
		metadata(10, 5),
	))
	var rec recorder
	req := hello()
	req.System = "Be brief."
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}

	want := agents.ModelResponse{Text: "Hello, world", FinishReason: agents.FinishStop, Usage: agents.Usage{InputTokens: 10, OutputTokens: 5}}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	wantDeltas := []agents.Delta{{Text: "Hel"}, {Text: "lo"}, {Text: ", world"}}
	if !reflect.DeepEqual(rec.deltas, wantDeltas) {
		t.Errorf("deltas = %+v, want %+v", rec.deltas, wantDeltas)
	}

	r := f.request(t)
	if r.Model != req.Model {
		t.Errorf("model in path = %q, want %q", r.Model, req.Model)
	}
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") || !strings.Contains(auth, "Credential=AKIDTEST/") || !strings.Contains(auth, "/us-west-2/bedrock/aws4_request") {
		t.Errorf("Authorization = %q, want a SigV4 signature by AKIDTEST for bedrock in us-west-2", auth)
	}
	if got := path(t, r.Body, "system", 0, "text"); got != "Be brief." {
		t.Errorf("system = %v", got)
	}
	if got := path(t, r.Body, "messages", 0, "content", 0, "text"); got != "Hi" {
		t.Errorf("first message = %v", got)
	}
	if _, ok := r.Body["toolConfig"]; ok {
		t.Errorf("toolConfig sent without tools: %s", r.Raw)
	}
}

func TestStreamToolCalls(t *testing.T) {
	t.Parallel()
	f := newFake(t, script(
		messageStart(),
		text(0, "Let me look."),
		blockStop(0),
		toolStart(1, "t1", "lookup"),
		toolInput(1, `{"q":`), toolInput(1, `"wea`), toolInput(1, `ther"}`),
		blockStop(1),
		// A tool without parameters streams no input at all.
		toolStart(2, "t2", "now"),
		blockStop(2),
		messageStop("tool_use"),
		metadata(30, 12),
	))
	var rec recorder
	req := hello()
	req.Tools = []agents.ToolSpec{{Name: "lookup", Parameters: []byte(`{"type":"object","properties":{"q":{"type":"string"}}}`)}, {Name: "now"}}
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}

	want := agents.ModelResponse{
		Text: "Let me look.",
		ToolCalls: []agents.ToolCall{
			{ID: "t1", Name: "lookup", Arguments: `{"q":"weather"}`},
			{ID: "t2", Name: "now", Arguments: "{}"},
		},
		FinishReason: agents.FinishToolCalls,
		Usage:        agents.Usage{InputTokens: 30, OutputTokens: 12},
	}
	if !reflect.DeepEqual(resp, want) {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	wantDeltas := []agents.Delta{
		{Text: "Let me look."},
		{ToolCall: &agents.ToolCallDelta{Index: 0, ID: "t1", Name: "lookup"}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `{"q":`}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `"wea`}},
		{ToolCall: &agents.ToolCallDelta{Index: 0, Arguments: `ther"}`}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, ID: "t2", Name: "now"}},
		{ToolCall: &agents.ToolCallDelta{Index: 1, Arguments: "{}"}},
	}
	if !reflect.DeepEqual(rec.deltas, wantDeltas) {
		t.Errorf("deltas:\n got %s\nwant %s", deltasString(rec.deltas), deltasString(wantDeltas))
	}
}

func TestStreamToolCallWithoutBlockStop(t *testing.T) {
	t.Parallel()
	// The answer must still be whole if a stream skips contentBlockStop.
	f := newFake(t, script(messageStart(), toolStart(0, "t1", "now"), messageStop("tool_use")))
	var rec recorder
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if want := []agents.ToolCall{{ID: "t1", Name: "now", Arguments: "{}"}}; !reflect.DeepEqual(resp.ToolCalls, want) {
		t.Errorf("tool calls = %+v, want %+v", resp.ToolCalls, want)
	}
	if n := len(rec.deltas); n != 2 || rec.deltas[1].ToolCall.Arguments != "{}" {
		t.Errorf("deltas = %s, want the start and {}", deltasString(rec.deltas))
	}
}

func TestStopReasons(t *testing.T) {
	t.Parallel()
	for reason, want := range map[string]string{
		"end_turn":                      agents.FinishStop,
		"stop_sequence":                 agents.FinishStop,
		"tool_use":                      agents.FinishToolCalls,
		"max_tokens":                    agents.FinishLength,
		"model_context_window_exceeded": agents.FinishLength,
		"content_filtered":              agents.FinishFilter,
		"guardrail_intervened":          agents.FinishFilter,
		"malformed_model_output":        agents.FinishStop,
	} {
		t.Run(reason, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, script(messageStart(), text(0, "x"), messageStop(reason), metadata(1, 1)))
			resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), (&recorder{}).emit)
			if err != nil {
				t.Fatal(err)
			}
			if resp.FinishReason != want {
				t.Errorf("finish reason = %q, want %q", resp.FinishReason, want)
			}
		})
	}
}

func TestStreamWithoutMetadata(t *testing.T) {
	t.Parallel()
	// Usage is optional: a stream that stopped is an answer without it.
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), hello(), (&recorder{}).emit)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "ok" || resp.Usage != (agents.Usage{}) {
		t.Errorf("response = %+v", resp)
	}
}

func TestEmojiRoundTrip(t *testing.T) {
	t.Parallel()
	const said = "héllo 👋🏽 世界 👨‍👩‍👧"
	f := newFake(t, script(
		messageStart(),
		text(0, "👋🏽"), text(0, " 世界 "), text(0, "👨‍👩‍👧"),
		toolStart(1, "t1", "echo"),
		toolInput(1, `{"s":"🎉`), toolInput(1, `ü"}`),
		messageStop("tool_use"),
	))
	var rec recorder
	req := hello()
	req.Messages[0].Content = said
	req.Tools = []agents.ToolSpec{{Name: "echo", Description: "Repeats ✨"}}
	resp, err := f.provider(bedrock.Config{}).Stream(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if want := "👋🏽 世界 👨‍👩‍👧"; resp.Text != want || rec.text() != want {
		t.Errorf("text = %q, emitted %q, want %q", resp.Text, rec.text(), want)
	}
	if got := resp.ToolCalls[0].Arguments; got != `{"s":"🎉ü"}` {
		t.Errorf("arguments = %q", got)
	}
	r := f.request(t)
	if got := path(t, r.Body, "messages", 0, "content", 0, "text"); got != said {
		t.Errorf("sent %q, want %q", got, said)
	}
	if got := path(t, r.Body, "toolConfig", "tools", 0, "toolSpec", "description"); got != "Repeats ✨" {
		t.Errorf("sent description %q", got)
	}
}

func TestNewLoadsTheDefaultChain(t *testing.T) {
	// Not parallel: it sets the process environment.
	f := newFake(t, script(messageStart(), text(0, "ok"), messageStop("end_turn")))
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "eu-central-1")

	p, err := bedrock.New(context.Background(), bedrock.Config{Endpoint: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(context.Background(), hello(), (&recorder{}).emit); err != nil {
		t.Fatal(err)
	}
	auth := f.request(t).Header.Get("Authorization")
	if !strings.Contains(auth, "Credential=AKIDENV/") || !strings.Contains(auth, "/eu-central-1/bedrock/aws4_request") {
		t.Errorf("Authorization = %q, want the environment's key and region", auth)
	}
}

func TestNewWithoutRegion(t *testing.T) {
	isolateAWSEnv(t)
	_, err := bedrock.New(context.Background(), bedrock.Config{})
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Fatalf("err = %v, want a missing region error", err)
	}
	// An explicit region is enough; credentials are only needed per call.
	if _, err := bedrock.New(context.Background(), bedrock.Config{Region: "us-east-1"}); err != nil {
		t.Fatal(err)
	}
}

// isolateAWSEnv hides the machine's AWS settings from the default chain.
func isolateAWSEnv(t *testing.T) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_BEDROCK_RUNTIME"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// deltasString shows deltas readably, tool call pointers included.
func deltasString(ds []agents.Delta) string {
	var b strings.Builder
	for _, d := range ds {
		if d.ToolCall != nil {
			b.WriteString(strings.TrimSpace(jsonText(d.ToolCall)) + " ")
			continue
		}
		b.WriteString(jsonText(d.Text) + " ")
	}
	return b.String()
}
