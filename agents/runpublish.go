package agents

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

// runPublisher publishes a run's events in order without holding up the
// model: text gathers while the previous event is being appended, and goes
// out as one run.delta (tokens are coalesced); other events keep their
// place between the texts. It has no goroutine of its own: the model's
// goroutine starts an append when none is in flight, and the chat log's
// acknowledgement starts the next one.
type runPublisher struct {
	ctx    context.Context
	events *Events
	ws     workspaces.WorkspaceID
	chat   workspaces.ChatID
	run    string
	done   chan struct{} // closed once closed and nothing is left to send

	mu       sync.Mutex // guards the following fields
	items    []pubItem
	sending  bool // an append is in flight
	err      error
	closed   bool
	finished bool
}

// pubItem is an event waiting to be published; typ "" is run.delta text,
// and at is when its first token came (the delta's ts: how long its
// tokens waited to go out is part of their delivery time).
type pubItem struct {
	typ  EventType
	text strings.Builder
	data any
	at   time.Time
}

func newRunPublisher(ctx context.Context, events *Events, ws workspaces.WorkspaceID, chat workspaces.ChatID, run string) *runPublisher {
	return &runPublisher{ctx: context.WithoutCancel(ctx), events: events, ws: ws, chat: chat, run: run, done: make(chan struct{})}
}

// text queues a piece of the answer.
func (p *runPublisher) text(s string) error {
	if s == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	if n := len(p.items); n > 0 && p.items[n-1].typ == "" {
		p.items[n-1].text.WriteString(s)
	} else {
		p.items = append(p.items, pubItem{at: p.events.now()})
		p.items[len(p.items)-1].text.WriteString(s)
	}
	p.next()
	return nil
}

// event queues an event of type typ.
func (p *runPublisher) event(typ EventType, data any) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.items = append(p.items, pubItem{typ: typ, data: data})
	p.next()
	return nil
}

// next starts appending the first queued event unless an append is in
// flight, and finishes the publisher once it is closed and done. p.mu is
// held.
func (p *runPublisher) next() {
	if !p.sending && p.err == nil && len(p.items) > 0 {
		it := &p.items[0]
		typ, data, at := it.typ, it.data, it.at
		if typ == "" {
			typ, data = EventRunDelta, map[string]string{"text": it.text.String()}
		}
		p.items[0] = pubItem{}
		p.items = p.items[1:]
		if len(p.items) == 0 {
			p.items = nil // reuse no backing array that still holds a builder
		}
		if err := p.events.PublishAsync(p.ctx, p.ws, p.chat, typ, p.run, data, at, p.published); err != nil {
			p.err = err
		} else {
			p.sending = true
		}
	}
	if p.closed && !p.sending && (len(p.items) == 0 || p.err != nil) && !p.finished {
		p.finished = true
		close(p.done)
	}
}

// published is the chat log's answer to the append in flight.
func (p *runPublisher) published(_ uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sending = false
	if err != nil && p.err == nil {
		p.err = err
	}
	p.next()
}

// close waits until what is queued is published and returns the first
// publishing error. It may be called more than once.
func (p *runPublisher) close() error {
	p.mu.Lock()
	p.closed = true
	p.next()
	p.mu.Unlock()
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
