package openai

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
)

// Limits on what is read from a server.
const (
	// maxErrorBody caps how much of an error response is read: enough for
	// any real error message, not enough for a misbehaving server to hurt.
	maxErrorBody = 64 << 10
	// maxAnswerBody caps a whole (not streamed) answer.
	maxAnswerBody = 32 << 20
	// maxEvent caps one event of a stream.
	maxEvent = 8 << 20
	// maxDrain is how much is read past a stream's end so that the
	// connection can be used again, and drainWait how long that may take.
	maxDrain  = 4 << 10
	drainWait = 50 * time.Millisecond
)

// Retry backoff when the server does not say how long to wait, as
// OpenAI's SDKs do it.
const (
	retryBase = 500 * time.Millisecond
	retryMax  = 8 * time.Second
	// retryAfterMax is the longest Retry-After honoured; longer waits
	// back off as if none was given.
	retryAfterMax = 60 * time.Second
)

// call is one Stream or Complete call: its deadlines and what it learnt
// about failures. Everything but the timer's callback runs on the
// caller's goroutine, so the fields need no lock.
type call struct {
	p      *Provider
	parent context.Context
	// ctx is parent plus the call's own timeouts; its cause says which one
	// fired.
	ctx    context.Context
	cancel context.CancelCauseFunc
	// deadline is when Config.Timeout ends the call; zero means never.
	deadline time.Time
	// waiting is whether the call waits on the server, when the idle
	// timeout runs too.
	waiting bool
	// timer, when not nil, ends the call at the deadline or, while
	// waiting, after Config.IdleTimeout: one timer for both (and no
	// context of its own) because every model call pays for them.
	timer *time.Timer
	// failure is the last attempt's HTTP error response, if it had one.
	failure *upstreamError
	// started is whether the last attempt got an answer to read.
	started bool
}

func (p *Provider) newCall(parent context.Context) *call {
	ctx, cancel := context.WithCancelCause(parent)
	c := &call{p: p, parent: parent, ctx: ctx, cancel: cancel}
	if d := p.cfg.Timeout; d > 0 {
		c.deadline = time.Now().Add(d)
	}
	if p.cfg.Timeout > 0 || p.cfg.IdleTimeout > 0 {
		c.timer = time.AfterFunc(time.Hour, c.expire)
		c.arm()
	}
	return c
}

// arm sets the timer for the nearer of the deadline and, while waiting,
// the idle timeout.
func (c *call) arm() {
	if c.timer == nil {
		return
	}
	var d time.Duration = -1
	if !c.deadline.IsZero() {
		d = max(time.Until(c.deadline), 0)
	}
	if idle := c.p.cfg.IdleTimeout; c.waiting && idle > 0 && (d < 0 || idle < d) {
		d = idle
	}
	if d < 0 {
		c.timer.Stop()
		return
	}
	c.timer.Reset(d)
}

// expire ends the call when its timer fires: the deadline or the idle
// timeout, whichever it was.
func (c *call) expire() {
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		c.cancel(&timeoutError{fmt.Sprintf("the model did not finish within %s", c.p.cfg.Timeout)})
		return
	}
	c.cancel(&timeoutError{fmt.Sprintf("the model sent nothing for %s", c.p.cfg.IdleTimeout)})
}

// end releases the call's timer and its request.
func (c *call) end() {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.cancel(nil)
}

// wait arms the idle timeout: the call is now waiting on the server.
func (c *call) wait() {
	c.waiting = true
	c.arm()
}

// waited disarms the idle timeout: the server answered (or failed).
func (c *call) waited() {
	c.waiting = false
	c.arm()
}

// send posts body and returns the server's successful response, whose
// Body reads under the idle timer. It tries again, up to MaxRetries times,
// after connection errors and the statuses worth another try; the errors
// it returns wrap a *agents.ModelError (or are ctx's own).
func (c *call) send(body []byte, stream bool) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		c.failure, c.started = nil, false
		c.wait()
		res, err := c.do(body, stream)
		if err != nil {
			c.waited()
			if attempt < c.p.cfg.MaxRetries && c.ctx.Err() == nil {
				if err := c.pause(backoff(attempt)); err != nil {
					return nil, err
				}
				continue
			}
			return nil, c.fail(err)
		}
		if res.StatusCode < http.StatusBadRequest {
			c.waited()
			c.started = true
			res.Body = &watchedBody{ReadCloser: res.Body, c: c}
			return res, nil
		}
		data, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		c.waited()
		_ = res.Body.Close()
		c.failure = parseError(res.StatusCode, data)
		if attempt < c.p.cfg.MaxRetries && retryable(res) {
			if err := c.pause(retryDelay(res.Header, attempt)); err != nil {
				return nil, err
			}
			continue
		}
		return nil, c.fail(nil)
	}
}

// do makes one attempt at the request.
func (c *call) do(body []byte, stream bool) (*http.Response, error) {
	if d := c.p.direct; d != nil {
		res, err := d.Do(c.ctx, c.p.headers[boolIndex(stream)], body)
		if err != nil {
			return nil, &url.Error{Op: "Post", URL: c.p.url, Err: err}
		}
		return res, nil
	}
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.p.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = c.p.headers[boolIndex(stream)].Clone()
	return c.p.cfg.HTTPClient.Do(req)
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

// pause waits d before another try, or until the call is over.
func (c *call) pause(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-c.ctx.Done():
		return c.fail(c.ctx.Err())
	}
}

// retryable reports whether a failed response is worth another try: the
// server says so, or its status is one that passes.
func retryable(res *http.Response) bool {
	switch res.Header.Get("X-Should-Retry") {
	case "true":
		return true
	case "false":
		return false
	}
	switch res.StatusCode {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return res.StatusCode >= http.StatusInternalServerError
}

// retryDelay is how long to wait before trying again: what the server
// asked (retry-after-ms, Retry-After in seconds or as a date) when that is
// reasonable, the backoff otherwise.
func retryDelay(h http.Header, attempt int) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil {
		if d := time.Duration(ms * float64(time.Millisecond)); d >= 0 && d <= retryAfterMax {
			return d
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			if d := time.Duration(s * float64(time.Second)); d >= 0 && d <= retryAfterMax {
				return d
			}
		} else if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d >= 0 && d <= retryAfterMax {
				return d
			}
		}
	}
	return backoff(attempt)
}

// backoff doubles from retryBase up to retryMax, less up to a quarter at
// random so that clients that failed together do not return together.
func backoff(attempt int) time.Duration {
	d := retryMax
	if attempt < 5 {
		d = min(retryBase<<attempt, retryMax)
	}
	return d - time.Duration(rand.Float64()*0.25*float64(d))
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

// readers recycles the buffers streams are read through.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 16<<10) }}

// stream makes one streamed request and relays its answer.
func (c *call) stream(body []byte, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	res, err := c.send(body, true)
	if err != nil {
		return agents.ModelResponse{}, err
	}
	return c.read(res, emit)
}

// read relays the streamed answer res carries.
func (c *call) read(res *http.Response, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	defer res.Body.Close()
	br := readers.Get().(*bufio.Reader)
	br.Reset(res.Body)
	defer func() {
		br.Reset(nil)
		readers.Put(br)
	}()

	var (
		a     answer
		ch    chunk
		event []byte // the data of the event being read
		long  []byte // a line longer than br's buffer
		done  bool
	)
	for {
		line, err := readLine(br, &long)
		if err != nil && err != io.EOF {
			return agents.ModelResponse{}, c.fail(err)
		}
		end := err == io.EOF
		// A field: only data matters ("event:", "id:", "retry:" and ":"
		// comments carry nothing a chat stream needs).
		if data, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			data = bytes.TrimPrefix(data, []byte(" "))
			if len(event) > 0 {
				event = append(event, '\n')
			}
			if len(event)+len(data) > maxEvent {
				return agents.ModelResponse{}, c.fail(errors.New("an event of the stream is over 8 MiB"))
			}
			event = append(event, data...)
		}
		// A blank line, or the end of the body, ends the event.
		if (len(line) == 0 || end) && len(event) > 0 {
			if bytes.HasPrefix(event, []byte("[DONE]")) {
				done = true
				break
			}
			ch = chunk{Choices: ch.Choices[:0]}
			if err := decodeChunk(event, &ch); err != nil {
				return agents.ModelResponse{}, c.fail(err)
			}
			if len(ch.Error) > 0 && string(ch.Error) != "null" {
				return agents.ModelResponse{}, c.failEvent(ch.Error)
			}
			if err := a.add(&ch, emit); err != nil {
				if bad, ok := errors.AsType[*badCallIndex](err); ok {
					return agents.ModelResponse{}, &agents.ModelError{Provider: c.p.cfg.Name, Message: bad.Error(), Err: bad}
				}
				// emit's own error, as the contract says; closing the body
				// (deferred) drops the connection, which stops the model.
				return agents.ModelResponse{}, err
			}
			event = event[:0]
		}
		if end {
			break
		}
	}
	if !a.finished {
		// "data: [DONE]" and a closed connection both end the stream; only
		// a finish_reason says the model was done.
		if err := c.interrupted(); err != nil {
			return agents.ModelResponse{}, err
		}
		return agents.ModelResponse{}, &agents.ModelError{
			Provider: c.p.cfg.Name,
			Message:  "the stream ended before the model finished",
		}
	}
	if done {
		c.drain(br)
	}
	return a.response(), nil
}

// readLine returns the next line of br without its line ending; a line
// longer than br's buffer is gathered in long. It returns io.EOF with the
// last line when the body ends without a line ending. The line is valid
// until the next call.
func readLine(br *bufio.Reader, long *[]byte) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		buf := append((*long)[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(buf) > maxEvent {
				return nil, errors.New("a line of the stream is over 8 MiB")
			}
			line, err = br.ReadSlice('\n')
			buf = append(buf, line...)
		}
		*long = buf
		line = buf
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, err
}

// drain reads what is left of a stream after its end, a few bytes at
// most (the end of the chunked body), so that the connection goes back
// to the pool: a body closed before its end costs a new connection, and
// its handshake, on the next request. A server that keeps the body open
// is given drainWait.
func (c *call) drain(br *bufio.Reader) {
	t := time.AfterFunc(drainWait, func() { c.cancel(nil) })
	_, _ = io.CopyN(io.Discard, br, maxDrain)
	t.Stop()
}

// fail turns an error that ended a call into Stream's error.
func (c *call) fail(err error) error {
	if e := c.interrupted(); e != nil {
		return e
	}
	me := &agents.ModelError{Provider: c.p.cfg.Name, Err: err}
	var syntax *json.SyntaxError
	switch {
	case c.failure != nil:
		c.failure.fill(me)
	case errors.As(err, &syntax):
		me.Message = "the model sent a malformed chunk: " + err.Error()
	case c.started && err != nil:
		me.Message = "the stream broke before the model finished: " + err.Error()
	}
	return me
}

// failEvent is the error of a stream that carried an error object.
func (c *call) failEvent(raw json.RawMessage) error {
	if e := c.interrupted(); e != nil {
		return e
	}
	me := &agents.ModelError{Provider: c.p.cfg.Name, Err: errors.New("received error while streaming")}
	parseError(0, []byte(`{"error":`+string(raw)+`}`)).fill(me)
	if me.Message == "" {
		me.Message = "the model sent an error"
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
