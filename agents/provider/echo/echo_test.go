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
	err := p.Stream(ctx, agents.ModelRequest{Model: echo.Name, Messages: []agents.ModelMessage{
		{Role: "user", Content: "earlier"}, {Role: "assistant", Content: "answer"}, {Role: "user", Content: text},
	}}, func(tok string) error { got = append(got, tok); return nil })
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
	err := p.Stream(ctx, agents.ModelRequest{Messages: []agents.ModelMessage{{Role: "user", Content: "x"}}}, func(string) error {
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
