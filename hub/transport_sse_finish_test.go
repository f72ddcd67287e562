package hub

import (
	"errors"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// blockingWriter is a ResponseWriter whose Write blocks until its write
// deadline is set, as a socket's write to a client that reads nothing does.
type blockingWriter struct {
	header   http.Header
	entered  chan struct{} // gets a value when a Write starts
	deadline chan struct{} // closed by the first SetWriteDeadline
	once     sync.Once
	writes   atomic.Int32
}

func (b *blockingWriter) Header() http.Header { return b.header }
func (b *blockingWriter) WriteHeader(int)     {}
func (b *blockingWriter) Flush()              {}

func (b *blockingWriter) Write(p []byte) (int, error) {
	b.writes.Add(1)
	b.entered <- struct{}{}
	<-b.deadline
	return 0, os.ErrDeadlineExceeded
}

func (b *blockingWriter) SetWriteDeadline(d time.Time) error {
	if !d.IsZero() && d.Before(time.Now().Add(time.Second)) {
		b.once.Do(func() { close(b.deadline) })
	}
	return nil
}

// TestSSEFinishWaitsForTheWriteInProgress checks that once the handler's
// finish returns, no write to its response is running or will start:
// net/http reuses the response's buffers after the handler returns.
func TestSSEFinishWaitsForTheWriteInProgress(t *testing.T) {
	w := &blockingWriter{header: http.Header{}, entered: make(chan struct{}, 1), deadline: make(chan struct{})}
	tr := &sseTransport{w: w, rc: http.NewResponseController(w), done: make(chan struct{})}
	tr.out = newOutbox(16, tr.write)
	if !tr.out.push([]byte("data: 1\n\n")) {
		t.Fatal("push refused")
	}
	<-w.entered // the outbox's writer is inside Write, blocked
	tr.finish()
	select {
	case <-w.deadline:
	default:
		t.Fatal("finish returned without cutting the blocked write short")
	}
	if err := tr.write([][]byte{[]byte("data: 2\n\n")}); !errors.Is(err, errSSEEnded) {
		t.Errorf("write after finish = %v, want errSSEEnded", err)
	}
	if tr.out.push([]byte("data: 3\n\n")) {
		t.Error("push after finish was taken")
	}
	if n := w.writes.Load(); n != 1 {
		t.Errorf("%d writes reached the response, want 1", n)
	}
}
