package main

// The streaming scenarios: fanout (one chat, many watchers) and chats (many
// chats, a few watchers each, all streaming at once). Both send messages
// to the echo agent and measure how its answer reaches every watcher.

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// streamSpec says what a streaming scenario does.
type streamSpec struct {
	name        string // "fanout" or "chats"
	transport   string // of the watchers; senders use ws when this is sse
	chats       int
	perChat     int // watchers per chat
	runs        int // messages sent one after another in each chat
	tokens      int // the echo answer's length (for the report and timeouts)
	rate        float64
	concurrency int           // connections opened at once
	settle      time.Duration // pause between connecting and sending
	// stagger spreads the chats' first messages over one answer's
	// duration, so runs start and end at different times, as in real use;
	// all chats still stream at once after the first answer.
	stagger bool
}

// streamResult is what a streaming scenario measured.
type streamResult struct {
	spec streamSpec

	connectFailures int
	connectErr      error // the first one
	connectTime     time.Duration
	window          time.Duration // first send to the last run's end seen by all
	delivered       uint64        // chat events delivered to watchers in the window
	timed           uint64        // run.delta and run.completed timed
	p50, p99, max   time.Duration
	negative        uint64 // events received "before" their ts

	lost, dup, bad   uint64
	missingCompleted uint64 // run.completed a watcher never got
	disconnects      int    // watchers the server dropped
	disconnectErr    error
	runsCompleted    int // runs that ended with run.completed
	runsFailed       int // runs that failed, were cancelled, or never ended
	sendErrs         int
	sendErr          error
	deltasPerRun     float64 // run.delta per run per watcher (tokens coalesce)

	serverRSSKiB int64   // -1: unknown
	serverCPU    float64 // % of one core over the window; -1: unknown
	loadCPU      float64 // the load generator's own
	machineCPU   float64 // every process's: the rest is other work on the machine
}

// chatRun is one chat of a streaming scenario.
type chatRun struct {
	fx       chatFixture
	watchers []*watcher
	sender   *sender

	// Written by the chat's run loop, read after it ends.
	finalSeq  uint64 // seq of the last run's end
	completed int
	failed    int
	sendErrs  int
	sendErr   error
}

func runStream(ctx context.Context, srv *server, spec streamSpec, progress func(string, ...any)) (*streamResult, error) {
	a := newAPI(srv.base)
	progress("%s: creating %d chat(s)", spec.name, spec.chats)
	fx, err := makeFixture(ctx, a, spec.chats)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res := &streamResult{spec: spec, serverRSSKiB: -1, serverCPU: -1}
	hist := new(histogram)
	var delivered atomic.Uint64

	// A chat's first watcher is the owner, who sends the chat's messages
	// (the person who asks watches the answer too), unless watchers use
	// SSE, which cannot send: then each chat has a /ws sender besides.
	ownSender := spec.transport != transportSSE
	chats := make([]*chatRun, spec.chats)
	var all []*watcher
	for c := range chats {
		chats[c] = &chatRun{fx: fx.chats[c]}
		for i := range spec.perChat {
			w := &watcher{hist: hist, delivered: &delivered, chat: c}
			if i == 0 && ownSender {
				w.ends = make(chan runEnd, 4*spec.runs+64)
			}
			chats[c].watchers = append(chats[c].watchers, w)
			all = append(all, w)
		}
	}

	// Watchers first, then a sender per chat if they cannot send.
	progress("%s: connecting %d %s watcher(s), %d at a time", spec.name, len(all), spec.transport, spec.concurrency)
	var mu sync.Mutex
	t0 := time.Now()
	parallel(len(all), spec.concurrency, func(i int) {
		w := all[i]
		token := fx.watcherToken
		if w.ends != nil {
			token = fx.ownerToken
		}
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		c, _, err := connect(cctx, spec.transport, srv.base, token, chats[w.chat].fx.id, w)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			res.connectFailures++
			if res.connectErr == nil {
				res.connectErr = err
			}
			return
		}
		w.conn = c
		if w.ends != nil {
			chats[w.chat].sender = &sender{conn: c, ends: w.ends}
		}
	})
	res.connectTime = time.Since(t0)
	var senderErr error
	if ownSender {
		for _, ch := range chats {
			if ch.sender == nil && senderErr == nil {
				senderErr = fmt.Errorf("sender: %w", res.connectErr)
			}
		}
	} else {
		parallel(len(chats), spec.concurrency, func(i int) {
			s := &sender{ends: make(chan runEnd, 4*spec.runs+64)}
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			c, _, err := connect(cctx, transportWS, srv.base, fx.ownerToken, chats[i].fx.id, s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if senderErr == nil {
					senderErr = fmt.Errorf("sender: %w", err)
				}
				return
			}
			s.conn = c
			chats[i].sender = s
		})
	}
	defer closeAll(chats)
	if senderErr != nil {
		return nil, senderErr
	}
	if res.connectFailures == len(all) {
		return nil, fmt.Errorf("no watcher could connect: %w", res.connectErr)
	}
	progress("%s: %d watcher(s) connected in %v; settling %v", spec.name, len(all)-res.connectFailures, res.connectTime.Round(time.Millisecond), spec.settle)
	select {
	case <-time.After(spec.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	progress("%s: streaming %d run(s) of %d tokens at %g tokens/s in %d chat(s)", spec.name, spec.runs, spec.tokens, spec.rate, spec.chats)
	cpu, self, machine := startCPU(srv.pid), startCPU(os.Getpid()), startMachineCPU()
	before := delivered.Load()
	start := time.Now()
	parallel(len(chats), len(chats), func(i int) {
		if spec.stagger && len(chats) > 1 {
			select {
			case <-time.After(spec.answerTime() * time.Duration(i) / time.Duration(len(chats))):
			case <-ctx.Done():
				return
			}
		}
		chats[i].run(ctx, spec)
	})
	res.window = time.Since(start)
	res.delivered = delivered.Load() - before
	res.serverCPU, res.loadCPU, res.machineCPU = cpu.percent(), self.percent(), machine.percent()
	if srv.pid > 0 {
		if rss, err := rssKiB(srv.pid); err == nil {
			res.serverRSSKiB = rss
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	progress("%s: closing connections", spec.name)
	closeAll(chats)
	var deltas uint64
	for _, ch := range chats {
		res.runsCompleted += ch.completed
		res.runsFailed += ch.failed
		res.sendErrs += ch.sendErrs
		if res.sendErr == nil {
			res.sendErr = ch.sendErr
		}
		for _, w := range ch.watchers {
			if w.conn == nil {
				continue
			}
			res.lost += w.lost
			res.dup += w.dup
			res.bad += w.bad
			if last := w.lastSeq.Load(); last < ch.finalSeq {
				res.lost += ch.finalSeq - last // the end of the stream never came
			}
			if uint64(ch.completed) > w.completed {
				res.missingCompleted += uint64(ch.completed) - w.completed
			}
			if err := w.conn.failure(); err != nil {
				res.disconnects++
				if res.disconnectErr == nil {
					res.disconnectErr = err
				}
			}
			deltas += w.deltas
		}
	}
	if n := (len(all) - res.connectFailures) * (res.runsCompleted / max(len(chats), 1)); n > 0 {
		res.deltasPerRun = float64(deltas) / float64(n)
	}
	res.timed = hist.n.Load()
	res.p50, res.p99, res.max = hist.quantile(0.50), hist.quantile(0.99), hist.maximum()
	res.negative = hist.negative.Load()
	return res, nil
}

// answerTime is how long the echo agent takes to stream one answer.
func (spec streamSpec) answerTime() time.Duration {
	return time.Duration(float64(spec.tokens) / max(spec.rate, 1) * float64(time.Second))
}

// run sends spec.runs messages one after another, each once the previous
// answer has reached every watcher (or it is clear that it will not).
func (ch *chatRun) run(ctx context.Context, spec streamSpec) {
	runTime := spec.answerTime()
	for r := range spec.runs {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		content := fmt.Sprintf("load test message %d", r)
		clientID := fmt.Sprintf("lt-%d-%d", r, time.Now().UnixNano())
		runs, err := ch.sender.conn.send(sctx, ch.fx.id, ch.fx.messageString, content, clientID)
		cancel()
		if err == nil && len(runs) == 0 {
			err = fmt.Errorf("the message started no run (is the echo agent attached?)")
		}
		if err != nil {
			ch.sendErrs++
			if ch.sendErr == nil {
				ch.sendErr = err
			}
			return
		}
		// Wait for the end of every run the message started.
		want := map[string]bool{}
		for _, id := range runs {
			want[id] = true
		}
		deadline := time.After(3*runTime + 30*time.Second)
		for len(want) > 0 {
			select {
			case e := <-ch.sender.ends:
				if !want[e.runID] {
					continue
				}
				delete(want, e.runID)
				ch.finalSeq = max(ch.finalSeq, e.seq)
				if e.kind == kindCompleted {
					ch.completed++
				} else {
					ch.failed++
				}
			case <-deadline:
				ch.failed += len(want)
				return
			case <-ctx.Done():
				return
			}
		}
		ch.waitWatchers(ctx, ch.finalSeq, 10*time.Second)
	}
}

// waitWatchers waits until every connected watcher has received seq, or
// for at most d.
func (ch *chatRun) waitWatchers(ctx context.Context, seq uint64, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		behind := false
		for _, w := range ch.watchers {
			if w.conn == nil {
				continue
			}
			select {
			case <-w.conn.done():
				continue // gone: its losses are counted later
			default:
			}
			if w.lastSeq.Load() < seq {
				behind = true
				break
			}
		}
		if !behind {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// closeAll closes every connection of chats, 200 at a time; closing twice
// is harmless.
func closeAll(chats []*chatRun) {
	var conns []conn
	for _, ch := range chats {
		for _, w := range ch.watchers {
			if w.conn != nil {
				conns = append(conns, w.conn)
			}
		}
		if ch.sender != nil && ch.sender.conn != nil && len(ch.watchers) > 0 && ch.sender.conn != ch.watchers[0].conn {
			conns = append(conns, ch.sender.conn)
		}
	}
	closeConns(conns)
}

// closeConns closes conns, 200 at a time.
func closeConns(conns []conn) {
	parallel(len(conns), 200, func(i int) { conns[i].close() })
}
