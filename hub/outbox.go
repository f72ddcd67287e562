package hub

import (
	"math"
	"sync"
)

// outbox is a client's bounded send queue. Producers never block: push
// fails when the queue is full, and the caller disconnects the client. A
// transport drains it from one goroutine at a time, started only while there
// is something to send, so an idle connection costs no writer goroutine.
type outbox struct {
	limit int
	drain func([][]byte) error // writes frames in order; an error closes the outbox
	// try, when set, writes what it can of a frame at once without
	// blocking. A frame pushed to an empty, idle queue goes out through
	// it on the caller's goroutine: most frames need no writer goroutine,
	// and no hand-off that waits for the scheduler.
	try func([]byte) (int, error)

	mu       sync.Mutex // guards the following fields
	frames   [][]byte
	draining bool
	closed   bool
}

func newOutbox(limit int, drain func([][]byte) error) *outbox {
	return &outbox{limit: limit, drain: drain}
}

// push queues frame; it reports false if the queue is full or closed.
func (o *outbox) push(frame []byte) bool { return o.add(frame, o.limit, false) }

// pushInline is push, writing the frame at once on the caller's goroutine
// when the queue is idle and the socket takes it. For a few clients per
// caller only: writing to thousands in a row is slower than handing each
// to its own writer.
func (o *outbox) pushInline(frame []byte) bool { return o.add(frame, o.limit, true) }

// pushMust queues frame even past the limit (control frames and bounded
// replays). It reports false if closed.
// It writes inline like pushInline.
func (o *outbox) pushMust(frame []byte) bool { return o.add(frame, math.MaxInt, true) }

// pushReply queues a frame that answers the client (an ack, a pong) past the
// limit, up to twice it: a client that sends and never reads must not grow
// the queue without end. It reports false if the queue is full or closed;
// the caller then disconnects the client. It writes inline like pushInline.
func (o *outbox) pushReply(frame []byte) bool { return o.add(frame, 2*o.limit, true) }

// add queues frame unless the queue holds most frames already.
func (o *outbox) add(frame []byte, most int, inline bool) bool {
	o.mu.Lock()
	if o.closed || len(o.frames) >= most {
		o.mu.Unlock()
		return false
	}
	if inline && o.try != nil && !o.draining && len(o.frames) == 0 {
		o.draining = true // the right to write is ours while we try
		o.mu.Unlock()
		n, err := o.try(frame)
		o.mu.Lock()
		if err != nil {
			o.closed, o.frames, o.draining = true, nil, false
			o.mu.Unlock()
			return false
		}
		if n < len(frame) { // the rest goes first, before what came meanwhile
			o.frames = append([][]byte{frame[n:]}, o.frames...)
		}
		if len(o.frames) == 0 || o.closed {
			o.draining = false
			o.mu.Unlock()
			return true
		}
		o.mu.Unlock()
		go o.run()
		return true
	}
	o.frames = append(o.frames, frame)
	start := !o.draining
	o.draining = true
	o.mu.Unlock()
	if start {
		go o.run()
	}
	return true
}

func (o *outbox) run() {
	for {
		o.mu.Lock()
		batch := o.frames
		o.frames = nil
		if len(batch) == 0 || o.closed {
			o.draining = false
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()
		if err := o.drain(batch); err != nil {
			o.close()
			return
		}
	}
}

// close drops what is queued and refuses more.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.frames = nil
	o.mu.Unlock()
}

// len is how many frames wait.
func (o *outbox) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.frames)
}
