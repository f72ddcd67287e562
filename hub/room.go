package hub

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/atrium-hq/atrium/persistence/bus"
)

// room is one chat (or one workspace: every chat in it) watched by clients
// of this node. It receives the live events of its filter from NATS, keeps
// the recent ones for resuming clients, and hands each to its members.
//
// A chat room orders events by their chat sequence number; a workspace room
// by their cursor in the chat log. Either way a member is given only events
// whose key is above the last one it was given, so replay and live events
// meet without gap or duplicate.
type room struct {
	h      *Hub
	filter string
	chat   bool
	sub    *nats.Subscription
	refs   int // guarded by h.mu

	mu     sync.Mutex // guards the following fields
	recent []bus.Entry
	// recentBytes is the size of recent's events' data.
	recentBytes int
	members     map[*member]struct{}
	// writers write to the members of a big room (fanWrite); nil until
	// the room first has more than inlineMembers.
	writers [fanWriters]chan fanItem
	joined  int            // members ever joined: they take turns at the writers
	closed  bool           // nobody watches: the writers are stopped
	writing sync.WaitGroup // the writers, until they have written all
}

// member is one client in one room.
type member struct {
	c *client
	r *room
	// The following are guarded by r.mu.
	ready    bool        // replay done: events go straight to the client
	pending  []bus.Entry // live events that arrived during the replay
	after    uint64      // the key of the last event given to the client
	overflow bool        // pending grew past the send queue
	writer   int         // which of the room's writers writes to it
}

func newRoom(h *Hub, filter string, chat bool) *room {
	return &room{h: h, filter: filter, chat: chat, members: make(map[*member]struct{})}
}

func (r *room) key(e bus.Entry) uint64 {
	if r.chat {
		return e.Seq
	}
	return e.Cursor
}

// receive is the NATS callback: one goroutine per room, in log order.
func (r *room) receive(e bus.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.recent); n > 0 {
		last := r.recent[n-1]
		if r.key(e) <= r.key(last) {
			return // already have it (filled in below)
		}
		if r.chat && e.Seq > last.Seq+1 {
			// NATS dropped live events (this node fell behind): read the
			// missing ones from the log so nobody sees a gap.
			r.fill(last, e)
		}
	}
	r.deliver(e)
}

// fill delivers the events between last and next from the chat log.
func (r *room) fill(last, next bus.Entry) {
	ctx, cancel := context.WithTimeout(r.h.ctx, 10*time.Second)
	defer cancel()
	err := r.h.log.Read(ctx, r.filter, last.Cursor+1, next.Cursor-1, func(e bus.Entry) error {
		r.deliver(e)
		return nil
	})
	if err != nil {
		r.h.logger.Warn("fill gap in live events", "filter", r.filter, "from", last.Seq, "to", next.Seq, "err", err)
	}
}

// inlineMembers is the most members a room writes to itself. Larger
// rooms hand the writes to fanWriters goroutines, each writing to its
// share of the members in a row: a hand-off per writer and event, not per
// member and event (2,000 watchers of a chat at 50 deltas/s were 100,000
// goroutine wake-ups a second), while the writes still spread over the
// cores.
const (
	inlineMembers = 16
	fanWriters    = 8
	fanQueue      = 1024 // events waiting per writer
)

// fanItem is one event for some of a room's members.
type fanItem struct {
	out     *outEvent
	members []*member
}

// deliver records e and gives it to every member. r.mu is held.
func (r *room) deliver(e bus.Entry) {
	r.keep(e)
	k := r.key(e)
	out := newOutEvent(e, k)
	out.inline = true
	// Once a room has writers it keeps them: an event written directly
	// could overtake one still queued for a writer.
	fan := !r.closed && (r.writers[0] != nil || len(r.members) > inlineMembers)
	var batches [fanWriters][]*member
	if fan {
		r.startWriters()
		out.prepare() // the writers share it
	}
	for m := range r.members {
		if k <= m.after {
			continue
		}
		if !m.ready {
			if len(m.pending) >= r.h.cfg.SendQueue {
				m.overflow = true
				continue
			}
			m.pending = append(m.pending, e)
			continue
		}
		m.after = k
		if fan {
			batches[m.writer] = append(batches[m.writer], m)
			continue
		}
		if !m.c.sendEvent(out) {
			m.c.kick(reasonSlowConsumer)
		}
	}
	for i, b := range batches {
		if len(b) > 0 {
			r.writers[i] <- fanItem{out: out, members: b}
		}
	}
}

// startWriters starts the room's writers, once. r.mu is held.
func (r *room) startWriters() {
	if r.writers[0] != nil {
		return
	}
	for i := range r.writers {
		ch := make(chan fanItem, fanQueue)
		r.writers[i] = ch
		r.writing.Go(func() { fanWrite(ch) })
	}
}

// fanWrite writes the events of ch to their members, in order; a member
// always has the same writer, so its events stay in order. The writes
// never block: what a socket does not take waits in the client's queue.
func fanWrite(ch <-chan fanItem) {
	for it := range ch {
		for _, m := range it.members {
			if !m.c.sendEvent(it.out) {
				m.c.kick(reasonSlowConsumer)
			}
		}
	}
}

// close stops the room's writers (when nobody watches any more).
func (r *room) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.writers[0] != nil {
		for _, ch := range r.writers {
			close(ch)
		}
	}
}

// join adds a member that is not ready yet: live events wait in pending.
func (r *room) join(c *client) *member {
	m := &member{c: c, r: r}
	r.mu.Lock()
	m.writer = r.joined % fanWriters
	r.joined++
	r.members[m] = struct{}{}
	r.mu.Unlock()
	return m
}

// keep adds e to the recent events, first dropping the oldest quarter
// (one copy for many events) as long as the room keeps more than
// RecentEvents or RecentBytes. r.mu is held.
func (r *room) keep(e bus.Entry) {
	for n := len(r.recent); n > 0 && (n >= r.h.cfg.RecentEvents || r.recentBytes+len(e.Data) > r.h.cfg.RecentBytes); n = len(r.recent) {
		drop := max(n/4, 1)
		for _, old := range r.recent[:drop] {
			r.recentBytes -= len(old.Data)
		}
		copy(r.recent, r.recent[drop:])
		clear(r.recent[n-drop:]) // let the dropped events' data go
		r.recent = r.recent[:n-drop]
	}
	r.recent = append(r.recent, e)
	r.recentBytes += len(e.Data)
}

// recentAfter returns the kept events with keys in (after, upTo], or false
// if the kept events do not reach back to after+1 (chat rooms only).
func (r *room) recentAfter(after, upTo uint64) ([]bus.Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.chat || len(r.recent) == 0 || r.recent[0].Seq > after+1 {
		return nil, false
	}
	var out []bus.Entry
	for _, e := range r.recent {
		if e.Seq > after && e.Seq <= upTo {
			out = append(out, e)
		}
	}
	if len(out) == 0 || out[len(out)-1].Seq != upTo {
		return nil, false // the live events have not caught up with upTo yet
	}
	return out, true
}

// start makes m ready: it has been given everything up to key after; the
// live events that came meanwhile follow. It reports false if the client
// fell too far behind while replaying.
func (r *room) start(m *member, after uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.overflow {
		return false
	}
	m.after = max(m.after, after)
	for _, e := range m.pending {
		if k := r.key(e); k > m.after {
			m.after = k
			if !m.c.sendEvent(newOutEvent(e, k)) {
				return false
			}
		}
	}
	m.pending = nil
	m.ready = true
	return true
}

// leave removes m.
func (r *room) leave(m *member) {
	r.mu.Lock()
	delete(r.members, m)
	r.mu.Unlock()
	r.h.release(r)
}
