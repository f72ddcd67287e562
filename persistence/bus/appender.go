package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrClosed means the connection to NATS was closed before an append was
// acknowledged.
var ErrClosed = errors.New("nats: chat log closed")

// ErrAppendTimeout means JetStream did not acknowledge an append in time. The
// event may or may not have been stored; the chat's head is read again before
// its next append.
var ErrAppendTimeout = errors.New("nats: chat log append not acknowledged in time")

const (
	appendTimeout = 10 * time.Second
	// maxInFlight bounds the appends awaiting their acknowledgement, and so
	// the acknowledgements that can arrive at once: NATS drops messages a
	// channel subscription has no room for.
	maxInFlight = 8192
	// maxHeads bounds the heads remembered of idle chats.
	maxHeads = 100_000
)

// appender sends every append of this process from one goroutine. A chat has
// at most one append in flight (its next number and the header that guards
// it depend on the previous one's acknowledgement); different chats have
// theirs in flight together. Callers do not wait on the connection's lock:
// with hundreds of busy chats each publishing and waiting for its own
// acknowledgement, they queued on that lock behind one another and behind
// the connection's writes, which was most of an append's time under load.
// Acknowledgements come back on one channel subscription, which the
// connection's reader fills directly.
type appender struct {
	log   *ChatLog
	conn  *nats.Conn
	inbox string // reply subjects are inbox + a token
	acks  chan *nats.Msg
	heads chan headResult
	stop  <-chan struct{}

	mu     sync.Mutex // guards in and closed
	in     []*appendReq
	closed bool
	wake   chan struct{}

	// Owned by the run goroutine.
	chats   map[string]*chatQueue
	flight  map[string]*appendReq // reply subject → the append it answers
	blocked []*chatQueue          // chats waiting for room in flight
	token   uint64
}

// appendReq is one append, or (build nil) a request to forget a chat's head.
type appendReq struct {
	ctx     context.Context
	subject string
	build   func(seq uint64) ([]byte, error)
	done    func(Entry, error)

	tries int
	seq   uint64
	data  []byte
	reply string
	sent  time.Time
}

// chatQueue is the appends of one chat, in the order they were asked for.
type chatQueue struct {
	subject string
	head    chatHead
	known   bool // head is the chat's last event as far as this process knows
	loading bool // head is being read from the log
	blocked bool // in appender.blocked
	busy    *appendReq
	waiting []*appendReq
}

type headResult struct {
	subject string
	head    chatHead
	err     error
}

func newAppender(l *ChatLog, conn *nats.Conn, stop <-chan struct{}) (*appender, error) {
	a := &appender{
		log: l, conn: conn, inbox: conn.NewInbox() + ".",
		acks: make(chan *nats.Msg, maxInFlight), heads: make(chan headResult, 64), stop: stop,
		wake: make(chan struct{}, 1), chats: make(map[string]*chatQueue), flight: make(map[string]*appendReq),
	}
	if _, err := conn.ChanSubscribe(a.inbox+"*", a.acks); err != nil {
		return nil, fmt.Errorf("nats: chat log acknowledgements: %w", err)
	}
	go a.run()
	return a, nil
}

// submit queues r. Its done is called once, on the appender's goroutine (or
// on a goroutine of its own when the appender has stopped), so submit never
// calls it before returning.
func (a *appender) submit(r *appendReq) {
	a.mu.Lock()
	if !a.closed {
		select {
		case <-a.stop: // the run goroutine may not have seen it yet
			a.closed = true
		default:
		}
	}
	if a.closed {
		a.mu.Unlock()
		if r.done != nil {
			go r.done(Entry{}, ErrClosed)
		}
		return
	}
	a.in = append(a.in, r)
	a.mu.Unlock()
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *appender) run() {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-a.wake:
		case m := <-a.acks:
			a.ack(m)
			for more := true; more; {
				select {
				case m := <-a.acks:
					a.ack(m)
				default:
					more = false
				}
			}
		case h := <-a.heads:
			a.loaded(h)
		case now := <-tick.C:
			a.expire(now)
		case <-a.stop:
			a.mu.Lock()
			a.closed = true
			a.mu.Unlock()
			a.take()
			a.fail(ErrClosed)
			return
		}
		// Acknowledgements call done, which may append again at once.
		a.take()
	}
}

// take moves the submitted appends to their chats' queues.
func (a *appender) take() {
	a.mu.Lock()
	in := a.in
	a.in = nil
	a.mu.Unlock()
	for _, r := range in {
		q := a.chats[r.subject]
		if r.build == nil { // forget
			if q != nil {
				q.known = false
			}
			continue
		}
		if q == nil {
			if len(a.chats) >= maxHeads {
				a.forgetIdle()
			}
			q = &chatQueue{subject: r.subject}
			a.chats[r.subject] = q
		}
		q.waiting = append(q.waiting, r)
		a.send(q)
	}
}

// send publishes the next append of q, unless one is in flight or its head
// must be read first.
func (a *appender) send(q *chatQueue) {
	for q.busy == nil && len(q.waiting) > 0 {
		if !q.known {
			a.load(q)
			return
		}
		if len(a.flight) >= maxInFlight {
			if !q.blocked {
				q.blocked = true
				a.blocked = append(a.blocked, q)
			}
			return
		}
		r := q.waiting[0]
		q.waiting[0] = nil
		q.waiting = q.waiting[1:]
		if err := r.ctx.Err(); err != nil {
			r.done(Entry{}, err)
			continue
		}
		seq := q.head.seq + 1
		data, err := r.build(seq)
		if err != nil {
			r.done(Entry{}, err)
			continue
		}
		a.token++
		r.seq, r.data, r.reply, r.sent = seq, data, a.inbox+strconv.FormatUint(a.token, 36), time.Now()
		msg := &nats.Msg{Subject: r.subject, Reply: r.reply, Data: data, Header: nats.Header{
			seqHeader:                           {strconv.FormatUint(seq, 10)},
			jetstream.ExpectedLastSubjSeqHeader: {strconv.FormatUint(q.head.cursor, 10)},
		}}
		if err := a.conn.PublishMsg(msg); err != nil {
			r.done(Entry{}, fmt.Errorf("nats: append to %s: %w", r.subject, err))
			continue
		}
		q.busy = r
		a.flight[r.reply] = r
	}
	if len(q.waiting) == 0 {
		q.waiting = nil // let the backing array go
	}
}

// pubAck is JetStream's answer to a publish.
type pubAck struct {
	Error *jetstream.APIError `json:"error,omitempty"`
	Seq   uint64              `json:"seq"`
}

func (a *appender) ack(m *nats.Msg) {
	r := a.flight[m.Subject]
	if r == nil {
		return // answered after it timed out
	}
	delete(a.flight, m.Subject)
	q := a.chats[r.subject]
	q.busy = nil
	var pa pubAck
	err := ackError(m, &pa)
	switch {
	case err == nil:
		q.head, q.known = chatHead{seq: r.seq, cursor: pa.Seq}, true
		r.done(Entry{Subject: r.subject, Seq: r.seq, Cursor: pa.Seq, Data: r.data}, nil)
	case isWrongLast(err):
		// Another node appended first: read the head again and renumber.
		q.known = false
		if r.tries++; r.tries >= maxAppendTry {
			r.done(Entry{}, ErrConflict)
		} else {
			q.waiting = append([]*appendReq{r}, q.waiting...)
		}
	default:
		r.done(Entry{}, fmt.Errorf("nats: append to %s: %w", r.subject, err))
	}
	a.send(q)
	a.unblock()
}

func ackError(m *nats.Msg, pa *pubAck) error {
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		return jetstream.ErrNoStreamResponse
	}
	if err := json.Unmarshal(m.Data, pa); err != nil {
		return fmt.Errorf("bad acknowledgement: %w", err)
	}
	if pa.Error != nil {
		return pa.Error
	}
	if pa.Seq == 0 {
		return errors.New("acknowledgement without a sequence")
	}
	return nil
}

// unblock sends the appends that waited for room in flight.
func (a *appender) unblock() {
	for len(a.blocked) > 0 && len(a.flight) < maxInFlight {
		q := a.blocked[0]
		a.blocked[0] = nil
		a.blocked = a.blocked[1:]
		q.blocked = false
		a.send(q)
	}
}

// load reads the head of q's chat from the log, off this goroutine.
func (a *appender) load(q *chatQueue) {
	if q.loading {
		return
	}
	q.loading = true
	go func(subject string) {
		ctx, cancel := context.WithTimeout(context.Background(), appendTimeout)
		defer cancel()
		last, _, err := a.log.Last(ctx, subject) // zero for a new chat
		select {
		case a.heads <- headResult{subject: subject, head: chatHead{seq: last.Seq, cursor: last.Cursor}, err: err}:
		case <-a.stop:
		}
	}(q.subject)
}

func (a *appender) loaded(h headResult) {
	q := a.chats[h.subject]
	q.loading = false
	if h.err != nil {
		waiting := q.waiting
		q.waiting = nil
		for _, r := range waiting {
			r.done(Entry{}, h.err)
		}
		return
	}
	q.head, q.known = h.head, true
	a.send(q)
}

// expire fails the appends JetStream has not answered in time.
func (a *appender) expire(now time.Time) {
	for reply, r := range a.flight {
		if now.Sub(r.sent) < appendTimeout {
			continue
		}
		delete(a.flight, reply)
		q := a.chats[r.subject]
		q.busy, q.known = nil, false // it may have been stored
		r.done(Entry{}, ErrAppendTimeout)
		a.send(q)
	}
	a.unblock()
}

// forgetIdle drops the heads of chats with nothing queued.
func (a *appender) forgetIdle() {
	for s, q := range a.chats {
		if q.busy == nil && !q.loading && !q.blocked && len(q.waiting) == 0 {
			delete(a.chats, s)
		}
	}
}

// fail ends every queued and unanswered append with err.
func (a *appender) fail(err error) {
	for _, q := range a.chats {
		if q.busy != nil {
			q.busy.done(Entry{}, err)
			q.busy = nil
		}
		for _, r := range q.waiting {
			r.done(Entry{}, err)
		}
		q.waiting = nil
	}
	clear(a.flight)
}
