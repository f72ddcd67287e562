// Package echo is Atrium's built-in test model. It needs no network and no
// weights: it answers every message by saying what it is and repeating the
// message, streamed word by word at a steady rate, so Atrium runs and its
// tests pass offline while behaving, for watchers, like a real model.
package echo

import (
	"context"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// Name is the model name that selects the echo model.
const Name = "echo"

// intro is how every echo answer starts, so nobody mistakes it for an AI.
const intro = "This is the echo model, Atrium's built-in test model; it is not an AI and only repeats your message. You said:"

// Config sets how the echo model streams. The zero value streams about 40
// tokens at 20 tokens per second, about two seconds per answer.
type Config struct {
	// Tokens is how many tokens (words) an answer has. The message is
	// repeated to fill it, or cut to fit. Zero means 40.
	Tokens int
	// Rate is tokens per second. Zero means 20; negative means as fast as
	// possible.
	Rate float64
}

// Provider is the echo model.
type Provider struct{ cfg Config }

var _ agents.Provider = (*Provider)(nil)

// New returns the echo model.
func New(cfg Config) *Provider {
	if cfg.Tokens <= 0 {
		cfg.Tokens = 40
	}
	if cfg.Rate == 0 {
		cfg.Rate = 20
	}
	return &Provider{cfg: cfg}
}

// Answer returns the tokens of the answer to text, deterministically.
func (p *Provider) Answer(text string) []string {
	words := strings.Fields(intro)
	said := strings.Fields(text)
	if len(said) == 0 {
		said = []string{"(nothing)"}
	}
	for i := 0; len(words) < p.cfg.Tokens; i++ {
		words = append(words, said[i%len(said)])
	}
	words = words[:p.cfg.Tokens]
	out := make([]string, len(words))
	for i, w := range words {
		if i > 0 {
			w = " " + w
		}
		out[i] = w
	}
	return out
}

// Stream emits the answer to the last user message, one token per tick.
func (p *Provider) Stream(ctx context.Context, req agents.ModelRequest, emit func(string) error) error {
	var last string
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == "user" {
			last = req.Messages[i].Content
			break
		}
	}
	tokens := p.Answer(last)
	var tick <-chan time.Time
	if p.cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / p.cfg.Rate))
		defer t.Stop()
		tick = t.C
	}
	for _, tok := range tokens {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else if err := ctx.Err(); err != nil {
			return err
		}
		if err := emit(tok); err != nil {
			return err
		}
	}
	return nil
}
