package main

// What a connection checks and measures about the events it receives: a
// watcher checks that its chat's events come in sequence, once each, and
// times the streamed ones; a sender hears when its runs end. A chat's first
// watcher is usually its sender too (ends set), as the person who asks
// watches the answer.

import (
	"sync/atomic"
	"time"
)

// watcher is the sink of one watching connection.
type watcher struct {
	hist      *histogram     // shared; nil: no timing (idle connections)
	delivered *atomic.Uint64 // shared count of chat events delivered (nil: none kept)
	chat      int            // index of its chat in the scenario
	conn      conn
	// ends, when set, hears the ends of runs: this watcher is its chat's
	// sender.
	ends chan runEnd

	// lastSeq is the last seq received in order; the sender reads it to
	// know when every watcher has seen a run's end.
	lastSeq atomic.Uint64

	// Written by the connection's reader goroutine only; read after done.
	next      uint64 // the seq expected next; 0 before the join
	lost      uint64 // seqs skipped
	dup       uint64 // seqs received again
	bad       uint64 // frames that were not an envelope
	deltas    uint64
	completed uint64
	events    uint64
}

func (w *watcher) joined(seq uint64) {
	w.next = seq + 1
	w.lastSeq.Store(seq)
}

func (w *watcher) event(b []byte, now time.Time) {
	e, ok := parseEnvelope(b)
	if !ok {
		w.bad++
		return
	}
	switch {
	case w.next == 0: // no join ack before it: cannot happen, but start here
	case e.seq < w.next:
		w.dup++
		return
	case e.seq > w.next:
		w.lost += e.seq - w.next
	}
	w.next = e.seq + 1
	w.lastSeq.Store(e.seq)
	w.events++
	if w.ends != nil && e.kind.terminal() {
		select {
		case w.ends <- runEnd{runID: string(e.runID), seq: e.seq, kind: e.kind}:
		default: // nobody listens any more (the scenario gave up on the chat)
		}
	}
	switch e.kind {
	case kindDelta:
		w.deltas++
		w.timeIt(now, e.ts)
	case kindCompleted:
		w.completed++
		w.timeIt(now, e.ts)
	case kindMessage, kindStarted:
		if w.delivered != nil {
			w.delivered.Add(1)
		}
	}
}

func (w *watcher) timeIt(now, ts time.Time) {
	if w.delivered != nil {
		w.delivered.Add(1)
	}
	if w.hist != nil {
		w.hist.record(now.Sub(ts))
	}
}

// runEnd is a run's last event, as a sender saw it.
type runEnd struct {
	runID string
	seq   uint64
	kind  kind
}

// sender is a chat's sending connection and where the ends of its runs
// arrive. Its connection is the chat's first watcher's, or (watchers on
// SSE, which cannot send) a /ws connection of its own whose sink only
// listens for the ends.
type sender struct {
	conn conn
	ends chan runEnd
}

func (s *sender) joined(uint64) {}

func (s *sender) event(b []byte, _ time.Time) {
	e, ok := parseEnvelope(b)
	if ok && e.kind.terminal() {
		select {
		case s.ends <- runEnd{runID: string(e.runID), seq: e.seq, kind: e.kind}:
		default: // nobody listens any more (the scenario gave up on the chat)
		}
	}
}
