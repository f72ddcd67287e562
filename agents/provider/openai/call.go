package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/atrium-hq/atrium/agents"
)

// maxErrorBody caps how much of an error response is read: enough for any
// real error message, not enough for a misbehaving server to hurt.
const maxErrorBody = 64 << 10

// call is one Stream call: its deadlines and what it learnt about failures.
// Everything but the idle timer's callback runs on the Stream caller's
// goroutine (the SDK runs middleware and reads bodies there), so the fields
// need no lock.
type call struct {
	p      *Provider
	parent context.Context
	// ctx is parent plus the call's own timeouts; its cause says which one
	// fired.
	ctx    context.Context
	cancel context.CancelFunc
	// idle, when not nil, cancels ctx when armed for longer than
	// p.cfg.IdleTimeout; it is armed only while waiting on the server.
	idle *time.Timer
	// failure is the last attempt's HTTP error response, if it had one.
	failure *upstreamError
	// started is whether the last attempt got a stream to read.
	started bool
	// body is that stream: taken from the SDK, which would decode every
	// chunk into its full types, for the lean decoding of chunk.go.
	body *http.Response
}

func (p *Provider) newCall(parent context.Context) *call {
	ctx, stop := parent, context.CancelFunc(func() {})
	if d := p.cfg.Timeout; d > 0 {
		ctx, stop = context.WithTimeoutCause(parent, d,
			&timeoutError{fmt.Sprintf("the model did not finish within %s", d)})
	}
	ctx, cancel := context.WithCancelCause(ctx)
	c := &call{p: p, parent: parent, ctx: ctx, cancel: func() { cancel(nil); stop() }}
	if d := p.cfg.IdleTimeout; d > 0 {
		// A cause, so that every way the call can end is read from one
		// place, context.Cause.
		c.idle = time.AfterFunc(d, func() {
			cancel(&timeoutError{fmt.Sprintf("the model sent nothing for %s", d)})
		})
		c.idle.Stop()
	}
	return c
}

// end releases the call's timers and its request.
func (c *call) end() {
	if c.idle != nil {
		c.idle.Stop()
	}
	c.cancel()
}

// wait arms the idle timer: the call is now waiting on the server.
func (c *call) wait() {
	if c.idle != nil {
		c.idle.Reset(c.p.cfg.IdleTimeout)
	}
}

// waited disarms the idle timer: the server answered (or failed).
func (c *call) waited() {
	if c.idle != nil {
		c.idle.Stop()
	}
}

// stream makes one request (with the SDK's retries) and streams its answer.
func (c *call) stream(params openai.ChatCompletionNewParams, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	// The SDK makes the request (with its retries) and meets the errors;
	// the middleware hands the answer's body over to us, leaving the SDK
	// an empty stream.
	s := c.p.chat.NewStreaming(c.ctx, params, option.WithMiddleware(c.middleware))
	for s.Next() {
	}
	s.Close()
	if err := s.Err(); err != nil {
		return agents.ModelResponse{}, c.fail(err)
	}
	if c.body == nil {
		return agents.ModelResponse{}, c.fail(errors.New("no answer"))
	}
	defer c.body.Body.Close()

	var a answer
	dec := ssestream.NewDecoder(c.body)
	for dec.Next() {
		ev := dec.Event()
		if bytes.HasPrefix(ev.Data, []byte("[DONE]")) {
			break
		}
		var ch chunk
		if err := decodeChunk(ev.Data, &ch); err != nil {
			return agents.ModelResponse{}, c.fail(err)
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			return agents.ModelResponse{}, c.fail(&ssestream.StreamError{Message: "received error while streaming", Event: ev})
		}
		if err := a.add(&ch, emit); err != nil {
			// emit's own error, as the contract says; closing the body
			// (deferred) drops the connection, which stops the model.
			return agents.ModelResponse{}, err
		}
	}
	if err := dec.Err(); err != nil {
		return agents.ModelResponse{}, c.fail(err)
	}
	if !a.finished {
		// The SDK ends the same way on "data: [DONE]" and on a closed
		// connection; only a finish_reason says the model was done.
		if err := c.interrupted(); err != nil {
			return agents.ModelResponse{}, err
		}
		return agents.ModelResponse{}, &agents.ModelError{
			Provider: c.p.cfg.Name,
			Message:  "the stream ended before the model finished",
		}
	}
	return a.response(), nil
}

// middleware runs around each attempt of a request. It keeps the idle
// timer armed while the attempt waits on the server, and reads error
// responses itself: the SDK understands only OpenAI's own shape (a plain
// text body loses its text, {"error": "..."} becomes a JSON decoding
// error) and drops the fields it does not know.
func (c *call) middleware(req *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	c.failure, c.started = nil, false
	if c.body != nil {
		c.body.Body.Close()
		c.body = nil
	}
	c.wait()
	res, err := next(req)
	if err != nil || res == nil {
		c.waited()
		return res, err
	}
	if res.StatusCode >= http.StatusBadRequest {
		body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		c.waited()
		_ = res.Body.Close()
		c.failure = parseError(res.StatusCode, body)
		res.Body = io.NopCloser(bytes.NewReader(body))
		return res, nil
	}
	c.waited()
	c.started = true
	body := *res
	body.Body = &watchedBody{ReadCloser: res.Body, c: c}
	c.body = &body
	res.Body = http.NoBody
	return res, nil
}

// watchedBody is a response body whose reads run under the idle timer.
type watchedBody struct {
	io.ReadCloser
	c *call
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.c.wait()
	defer b.c.waited()
	return b.ReadCloser.Read(p)
}

// fail turns the error the SDK ended a stream with into Stream's error.
func (c *call) fail(err error) error {
	if e := c.interrupted(); e != nil {
		return e
	}
	me := &agents.ModelError{Provider: c.p.cfg.Name, Err: err}
	var se *ssestream.StreamError
	var syntax *json.SyntaxError
	switch {
	case c.failure != nil:
		c.failure.fill(me)
	case errors.As(err, &se):
		parseError(0, se.Event.Data).fill(me)
		if me.Message == "" {
			me.Message = "the model sent an error"
		}
	case errors.As(err, &syntax):
		me.Message = "the model sent a malformed chunk: " + err.Error()
	case c.started:
		me.Message = "the stream broke before the model finished: " + err.Error()
	}
	return me
}

// interrupted returns, when the call's context is done, the error that
// says why: ctx's own error when the caller gave up (the contract wants it
// as is), a timeout otherwise.
func (c *call) interrupted() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if c.ctx.Err() == nil {
		return nil
	}
	cause := context.Cause(c.ctx)
	var te *timeoutError
	if errors.As(cause, &te) {
		return &agents.ModelError{
			Provider: c.p.cfg.Name,
			Code:     "timeout",
			Message:  te.msg,
			Err:      te,
		}
	}
	return cause
}

// timeoutError is why a call ran out of time.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string { return e.msg }

// Timeout reports true, as net.Error's does, so callers can tell a
// timeout from other failures without knowing this package.
func (e *timeoutError) Timeout() bool { return true }
