package agents

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

const cancelPrefix = "atrium.cancel."

func cancelSubject(run RunID) string { return cancelPrefix + string(run) }

// runStops hands stop requests (published on cancelSubject) to the runs this
// runner holds, through one subscription per runner. A subscription per run
// cost two protocol messages and a subscriber goroutine for every run, and
// each Subscribe waited for the connection's lock behind the chat log's
// appends.
type runStops struct {
	mu    sync.Mutex // guards the maps
	runs  map[string]*heldRun
	early map[string]time.Time // stops of runs not (yet) held here
}

// heldRun is one claim of a run by this runner.
type heldRun struct{ cancel context.CancelCauseFunc }

// earlyStopTTL is how long a stop is kept for a run that is not held here:
// the run may have been claimed and not yet be registered, so the stop is
// not lost in between.
const earlyStopTTL = time.Minute

// subscribe starts taking stop requests from conn.
func (s *runStops) subscribe(conn *nats.Conn) (*nats.Subscription, error) {
	sub, err := conn.Subscribe(cancelPrefix+"*", func(m *nats.Msg) {
		s.stop(strings.TrimPrefix(m.Subject, cancelPrefix))
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to stop requests: %w", err)
	}
	if err := conn.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("subscribe to stop requests: %w", err)
	}
	return sub, nil
}

func (s *runStops) stop(run string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.runs[run]; ok {
		h.cancel(errStopped)
		return
	}
	now := time.Now()
	if s.early == nil || len(s.early) >= 10_000 {
		s.early = make(map[string]time.Time)
	}
	for id, at := range s.early {
		if now.Sub(at) > earlyStopTTL {
			delete(s.early, id)
		}
	}
	s.early[run] = now
}

// add registers a run this runner now holds; cancel stops it. An earlier
// claim of the same run held here (a later delivery took it over) is
// cancelled: it could not store its outcome anyway.
func (s *runStops) add(run string, cancel context.CancelCauseFunc) *heldRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.early[run]; ok {
		delete(s.early, run)
		if time.Since(at) <= earlyStopTTL {
			cancel(errStopped)
		}
	}
	if s.runs == nil {
		s.runs = make(map[string]*heldRun)
	}
	if prev, ok := s.runs[run]; ok {
		prev.cancel(errSuperseded)
	}
	h := &heldRun{cancel: cancel}
	s.runs[run] = h
	return h
}

// remove forgets the claim h of a run that ended here, unless a later claim
// replaced it.
func (s *runStops) remove(run string, h *heldRun) {
	s.mu.Lock()
	if s.runs[run] == h {
		delete(s.runs, run)
	}
	s.mu.Unlock()
}
