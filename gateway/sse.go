package gateway

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// defaultStreamPing is Config.StreamPing's default.
const defaultStreamPing = 10 * time.Second

// streamPing returns the idle time after which a stream sends ": ping".
func (s *server) streamPing() time.Duration {
	if s.cfg.StreamPing > 0 {
		return s.cfg.StreamPing
	}
	return defaultStreamPing
}

// pingLine is a server-sent events comment: clients skip it, proxies see
// bytes and keep the connection open.
const pingLine = ": ping\n\n"

// sseStream is the transport of every streamed response: OpenAI's chunks
// and Responses events (completionStream), seed 001's chat API and seed
// 003's streams. It sends ": ping" whenever the stream has been idle for
// the ping interval, before the first piece too (an agent may run tools
// for a while), so proxies do not cut it.
//
// The status and headers go with the first write, or with open: a
// stream that waits for its first piece can still fail with its own
// HTTP status, and a ping makes it a 200.
//
// The handler, choices on their own goroutines and the ping timer all
// write, so every write holds mu.
type sseStream struct {
	w           http.ResponseWriter
	flusher     http.Flusher
	contentType string
	// ping is the idle time before a ping; zero sends none.
	ping  time.Duration
	timer *time.Timer

	mu sync.Mutex // guards the following fields, and writes to w
	// started is whether the status and headers are sent.
	started bool
	// closed is set when the stream's content is done: the timer must not
	// write after that.
	closed bool
	// err is the first write error: the client has gone.
	err error
	// last is when the stream last sent anything (or was opened).
	last time.Time
	// buf is the event being built, for writers that build it in place.
	buf []byte
}

// newSSEStream returns a stream of contentType on w, pinging after ping
// of silence (zero: never, for a body where a comment would be content).
// close must be called before the handler returns.
func newSSEStream(w http.ResponseWriter, contentType string, ping time.Duration) *sseStream {
	c := &sseStream{w: w, contentType: contentType, ping: ping, last: time.Now(), buf: make([]byte, 0, 512)}
	// The flusher is found once, not per write as http.ResponseController
	// would.
	for rw := w; rw != nil; {
		if f, ok := rw.(http.Flusher); ok {
			c.flusher = f
			break
		}
		u, ok := rw.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		rw = u.Unwrap()
	}
	if ping > 0 {
		// Under mu: the first tick may come before AfterFunc returns.
		c.mu.Lock()
		c.timer = time.AfterFunc(ping, c.tick)
		c.mu.Unlock()
	}
	return c
}

// Started reports whether the response's status is sent: after that,
// errors go in the stream.
func (c *sseStream) Started() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// clientGone reports whether a write to the client failed.
func (c *sseStream) clientGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

// close stops the pings; once it returns, none is being written. The
// handler may still write the stream's end after it.
func (c *sseStream) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
}

// tick sends ": ping" when the stream has been idle for the ping interval,
// and sets the timer for the next check.
func (c *sseStream) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.err != nil {
		return
	}
	next := c.ping
	if idle := time.Since(c.last); idle < c.ping {
		next = c.ping - idle
	} else {
		c.buf = append(c.buf[:0], pingLine...)
		c.send()
	}
	c.timer.Reset(next)
}

// open sends the status and headers now, for streams that answer 200
// before their first piece.
func (c *sseStream) open() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeLocked(nil)
}

// write sends p.
func (c *sseStream) write(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeLocked(p)
}

// event sends v as one "data: <JSON>" event.
func (c *sseStream) event(v any) error {
	b, _ := json.Marshal(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf[:0], "data: "...)
	c.buf = append(c.buf, b...)
	c.buf = append(c.buf, "\n\n"...)
	return c.send()
}

// send writes c.buf. c.mu is held.
func (c *sseStream) send() error { return c.writeLocked(c.buf) }

// writeLocked writes p, sending the headers first if they are not sent
// yet, and flushes. c.mu is held.
func (c *sseStream) writeLocked(p []byte) error {
	if c.err != nil {
		return c.err
	}
	if !c.started {
		h := c.w.Header()
		h.Set("Content-Type", c.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no") // nginx would hold the stream back
		c.w.WriteHeader(http.StatusOK)
		c.started = true
	}
	if len(p) > 0 {
		if _, err := c.w.Write(p); err != nil {
			c.err = err
			return err
		}
	}
	if c.flusher != nil {
		c.flusher.Flush()
	}
	c.last = time.Now()
	return nil
}
