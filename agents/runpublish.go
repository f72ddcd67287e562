package agents

import (
	"context"
	"strings"
	"sync"

	"github.com/atrium-hq/atrium/workspaces"
)

// runPublisher publishes a run's events in order without holding up the
// model: text gathers while the previous event is being appended, and goes
// out as one run.delta (tokens are coalesced); other events keep their
// place between the texts.
type runPublisher struct {
	ctx    context.Context
	events *Events
	ws     workspaces.WorkspaceID
	chat   workspaces.ChatID
	run    string

	wake chan struct{}
	done chan struct{}

	mu     sync.Mutex // guards the following fields
	items  []pubItem
	err    error
	closed bool
}

// pubItem is an event waiting to be published; typ "" is run.delta text.
type pubItem struct {
	typ  EventType
	text strings.Builder
	data any
}

func newRunPublisher(ctx context.Context, events *Events, ws workspaces.WorkspaceID, chat workspaces.ChatID, run string) *runPublisher {
	p := &runPublisher{ctx: context.WithoutCancel(ctx), events: events, ws: ws, chat: chat, run: run,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	go p.loop()
	return p
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
		p.items = append(p.items, pubItem{})
		p.items[len(p.items)-1].text.WriteString(s)
	}
	p.signal()
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
	p.signal()
	return nil
}

func (p *runPublisher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// close publishes what is queued and returns the first publishing error.
// It may be called more than once.
func (p *runPublisher) close() error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		p.signal()
	}
	p.mu.Unlock()
	<-p.done
	return p.err
}

func (p *runPublisher) loop() {
	defer close(p.done)
	for range p.wake {
		p.mu.Lock()
		items, closed := p.items, p.closed
		p.items = nil
		p.mu.Unlock()
		for i := range items {
			it := &items[i]
			typ, data := it.typ, it.data
			if typ == "" {
				typ, data = EventRunDelta, map[string]string{"text": it.text.String()}
			}
			if _, err := p.events.Publish(p.ctx, p.ws, p.chat, typ, p.run, data); err != nil {
				p.mu.Lock()
				if p.err == nil {
					p.err = err
				}
				p.mu.Unlock()
				break
			}
		}
		if closed {
			p.mu.Lock()
			stop := len(p.items) == 0 || p.err != nil
			p.mu.Unlock()
			if stop {
				return
			}
			p.signal()
		}
	}
}
