package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// ErrBodyStalled is the error a request body's Read returns when the
// client sent nothing of it for the idle time LimitBodyIdle allows.
var ErrBodyStalled = errors.New("the request body stalled")

// LimitBodyIdle wraps h so that a request's body must keep arriving: each
// read of it may wait at most idle for the client's next bytes. Without
// it a client could send the headers and half a body and hold its
// connection (and a goroutine) for ever; ReadHeaderTimeout only covers the
// headers. A whole-request ReadTimeout would do it too, but would also cut
// large uploads on slow links and, since net/http's background read
// shares the deadline, cancel long streamed answers; this bounds only the
// silence, and only while the body is being read: the deadline is cleared
// once the body ends, so streaming answers and hijacked connections are
// untouched. Requests without a body pass through as they are.
func LimitBodyIdle(h http.Handler, idle time.Duration) http.Handler {
	if idle <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: idle}
		}
		h.ServeHTTP(w, r)
	})
}

// idleBody is a request body each Read of which has idle to make progress.
type idleBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	idle    time.Duration
	ended   bool // the body ended (or failed): no deadline any more
	stalled bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.stalled {
		return 0, b.stallErr()
	}
	if b.ended {
		return b.ReadCloser.Read(p)
	}
	if b.rc.SetReadDeadline(time.Now().Add(b.idle)) != nil {
		// A writer that cannot set deadlines (not a server's
		// connection): the body is read as it is.
		b.ended = true
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	if err == nil {
		return n, nil
	}
	b.ended = true
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		// The deadline stays: net/http, which drains what is left of a
		// body after the handler, must not wait for the rest either.
		b.stalled = true
		return n, b.stallErr()
	}
	// At the body's end net/http starts reading the connection in the
	// background (to notice a client that goes away); with the deadline
	// left in place that read would time out and cancel the request.
	b.rc.SetReadDeadline(time.Time{})
	return n, err
}

func (b *idleBody) stallErr() error {
	return fmt.Errorf("%w: nothing arrived for %v", ErrBodyStalled, b.idle)
}
