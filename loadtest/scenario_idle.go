package main

// The idle scenario: many connections that only watch, and what each costs
// the server in resident memory.

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// idleSpec says what the idle scenario does.
type idleSpec struct {
	transport   string
	n           int // connections
	chats       int // spread over this many chats
	concurrency int
	settle      time.Duration // pause before measuring RSS again
}

// idleResult is what the idle scenario measured. RSS figures are -1 when
// unknown (a -server without -pid).
type idleResult struct {
	spec            idleSpec
	connected       int
	connectFailures int
	connectErr      error
	connectTime     time.Duration
	dropped         int // connections the server closed while idle
	droppedErr      error

	rssBeforeKiB int64 // before the first connection
	rssHalfKiB   int64 // with the first half connected
	rssAfterKiB  int64 // with all connected
	rssBusyKiB   int64 // then after a burst of garbage (a GC cycle)
	halfAt       int   // connections open at rssHalfKiB
	perConnKiB   float64
	marginalKiB  float64 // (after − half) / (connected − halfAt)
	busyKiB      float64 // (busy − before) / connected
	rssKnown     bool

	// CPU while connecting, in % of one core.
	serverCPU, loadCPU, machineCPU float64
}

func runIdle(ctx context.Context, srv *server, spec idleSpec, progress func(string, ...any)) (*idleResult, error) {
	a := newAPI(srv.base)
	spec.chats = max(min(spec.chats, spec.n), 1)
	fx, err := makeFixture(ctx, a, spec.chats)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res := &idleResult{spec: spec, rssBeforeKiB: -1, rssHalfKiB: -1, rssAfterKiB: -1, rssBusyKiB: -1, rssKnown: srv.pid > 0}
	measure := func(dst *int64, churn bool) {
		if !res.rssKnown {
			return
		}
		if churn {
			a.churn(ctx, 256)
		}
		rss, err := steadyRSS(ctx, srv.pid, 30*time.Second)
		if err != nil {
			res.rssKnown = false
			return
		}
		*dst = rss
	}
	progress("idle: letting the server collect its garbage; waiting for its RSS to settle")
	measure(&res.rssBeforeKiB, true)

	progress("idle: opening %d %s connection(s), %d at a time", spec.n, spec.transport, spec.concurrency)
	watchers := make([]*watcher, spec.n)
	var conns []conn
	defer func() { closeConns(conns) }() // on an early return
	var mu sync.Mutex
	open := func(from, to int) {
		t0 := time.Now()
		parallel(to-from, spec.concurrency, func(k int) {
			i := from + k
			w := &watcher{chat: i % spec.chats}
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			c, _, err := connect(cctx, spec.transport, srv.base, fx.watcherToken, fx.chats[w.chat].id, w)
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
			watchers[i] = w
			conns = append(conns, c)
			res.connected++
			if res.connected%2000 == 0 {
				progress("idle: %d connected", res.connected)
			}
		})
		res.connectTime += time.Since(t0)
	}
	// Half, a measurement (for the marginal cost, free of the baseline's
	// noise), then the rest.
	half := spec.n / 2
	cpu, self, machine := startCPU(srv.pid), startCPU(os.Getpid()), startMachineCPU()
	open(0, half)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.halfAt = res.connected
	measure(&res.rssHalfKiB, false)
	open(half, spec.n)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Over both halves and the measurement between them.
	res.serverCPU, res.loadCPU, res.machineCPU = cpu.percent(), self.percent(), machine.percent()
	progress("idle: %d connected in %v; settling %v", res.connected, res.connectTime.Round(time.Millisecond), spec.settle)
	select {
	case <-time.After(spec.settle):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	measure(&res.rssAfterKiB, false)
	// And once the server has been through a garbage collection cycle
	// with traffic: its heap then sits nearer twice its live size, as it
	// does on a busy server.
	measure(&res.rssBusyKiB, true)
	for _, c := range conns {
		select {
		case <-c.done():
			res.dropped++
			if res.droppedErr == nil {
				res.droppedErr = c.failure()
			}
		default:
		}
	}
	if res.rssKnown && res.connected > 0 {
		res.perConnKiB = float64(res.rssAfterKiB-res.rssBeforeKiB) / float64(res.connected)
		res.busyKiB = float64(res.rssBusyKiB-res.rssBeforeKiB) / float64(res.connected)
		if n := res.connected - res.halfAt; n > 0 {
			res.marginalKiB = float64(res.rssAfterKiB-res.rssHalfKiB) / float64(n)
		}
	}
	progress("idle: closing connections")
	closeConns(conns)
	conns = nil
	return res, nil
}
