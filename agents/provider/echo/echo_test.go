package echo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/agents/provider/echo"
)

func stream(t *testing.T, p *echo.Provider, ctx context.Context, text string) ([]string, error) {
	t.Helper()
	var got []string
	resp, err := p.Stream(ctx, agents.ModelRequest{Model: echo.Name, Messages: []agents.ModelMessage{
		{Role: "user", Content: "earlier"}, {Role: "assistant", Content: "answer"}, {Role: "user", Content: text},
	}}, func(d agents.Delta) error { got = append(got, d.Text); return nil })
	if err == nil && resp.Text != strings.Join(got, "") {
		t.Fatalf("response %q is not what was streamed", resp.Text)
	}
	return got, err
}

func TestEchoSaysWhatItIsAndRepeatsTheLastMessage(t *testing.T) {
	p := echo.New(echo.Config{Tokens: 30, Rate: -1})
	got, err := stream(t, p, context.Background(), "bonjour tout le monde")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(got, "")
	if len(got) != 30 || !strings.HasPrefix(text, "This is the echo model") || !strings.Contains(text, "not an AI") {
		t.Fatalf("%d tokens: %q", len(got), text)
	}
	if !strings.Contains(text, "You said: bonjour tout le monde bonjour") {
		t.Fatalf("the message is not repeated: %q", text)
	}
	again, _ := stream(t, p, context.Background(), "bonjour tout le monde")
	if strings.Join(again, "") != text {
		t.Fatal("the echo model is not deterministic")
	}
	// The default is about 40 tokens.
	if n := len(echo.New(echo.Config{}).Answer("x")); n != 40 {
		t.Fatalf("default answer has %d tokens", n)
	}
}

func TestEchoStreamsAtItsRateAndStopsWhenCancelled(t *testing.T) {
	p := echo.New(echo.Config{Tokens: 1000, Rate: 100})
	ctx, cancel := context.WithCancel(context.Background())
	var n int
	start := time.Now()
	_, err := p.Stream(ctx, agents.ModelRequest{Messages: []agents.ModelMessage{{Role: "user", Content: "x"}}}, func(agents.Delta) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 10 {
		t.Fatalf("after cancel: %d tokens, err %v", n, err)
	}
	// Ten tokens at 100/s take about 100 ms; a generous bound keeps this stable.
	if el := time.Since(start); el < 90*time.Millisecond {
		t.Fatalf("10 tokens at 100/s took %v", el)
	}
}

func TestEchoCallsAToolWhenToldAndRepeatsItsResult(t *testing.T) {
	p := echo.New(echo.Config{Tokens: 20, Rate: -1})
	tools := []agents.ToolSpec{{Name: "lookup", Description: "looks up"}}
	req := agents.ModelRequest{Tools: tools, Messages: []agents.ModelMessage{{Role: agents.RoleUser, Content: `/tool lookup {"q":"x"}`}}}
	var deltas []agents.Delta
	resp, err := p.Stream(context.Background(), req, func(d agents.Delta) error { deltas = append(deltas, d); return nil })
	if err != nil || resp.FinishReason != agents.FinishToolCalls || len(resp.ToolCalls) != 1 {
		t.Fatalf("%+v %v", resp, err)
	}
	call := resp.ToolCalls[0]
	if call.Name != "lookup" || call.Arguments != `{"q":"x"}` || call.ID == "" || len(deltas) != 1 || deltas[0].ToolCall.Name != "lookup" {
		t.Fatalf("%+v %+v", call, deltas)
	}
	// A tool it is not offered is just text.
	req.Tools = nil
	if resp, _ := p.Stream(context.Background(), req, func(agents.Delta) error { return nil }); len(resp.ToolCalls) != 0 {
		t.Fatal("called a tool it was not offered")
	}
	req.Tools = tools
	req.Messages = append(req.Messages,
		agents.ModelMessage{Role: agents.RoleAssistant, ToolCalls: []agents.ToolCall{call}},
		agents.ModelMessage{Role: agents.RoleTool, ToolCallID: call.ID, ToolName: "lookup", Content: "42"})
	resp, err = p.Stream(context.Background(), req, func(agents.Delta) error { return nil })
	if err != nil || resp.FinishReason != agents.FinishStop || !strings.Contains(resp.Text, "lookup returned 42") {
		t.Fatalf("%+v %v", resp, err)
	}
}

func TestEchoCallsSeveralToolsOneLineEach(t *testing.T) {
	p := echo.New(echo.Config{Rate: -1})
	tools := []agents.ToolSpec{{Name: "a"}, {Name: "b"}}
	req := agents.ModelRequest{Tools: tools, Messages: []agents.ModelMessage{{Role: agents.RoleUser,
		Content: "please:\n/tool a {\"x\":1}\n/tool nope {}\n/tool b"}}}
	var deltas []agents.Delta
	resp, err := p.Stream(context.Background(), req, func(d agents.Delta) error { deltas = append(deltas, d); return nil })
	if err != nil || len(resp.ToolCalls) != 2 || len(deltas) != 2 {
		t.Fatalf("%+v %v", resp, err)
	}
	a, b := resp.ToolCalls[0], resp.ToolCalls[1]
	if a.Name != "a" || a.Arguments != `{"x":1}` || b.Name != "b" || b.Arguments != "{}" || a.ID == b.ID || deltas[1].ToolCall.Index != 1 {
		t.Fatalf("calls %+v %+v, deltas %+v", a, b, deltas)
	}
}
