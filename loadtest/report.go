package main

// Printing a scenario's figures as one block, and judging them against the
// targets.

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"
)

// Targets.
const (
	idleWSTargetKiB  = 12.0
	idleSIOTargetKiB = 24.0
	p99Target        = 50 * time.Millisecond
)

// verdict is a scenario's judgement against its target.
type verdict struct {
	target string // empty: the scenario has no target
	pass   bool
	why    string // what was missed
}

func (v verdict) String() string {
	switch {
	case v.target == "":
		return "no target"
	case v.pass:
		return "target " + v.target + ": PASS"
	default:
		return "target " + v.target + ": FAIL (" + v.why + ")"
	}
}

func (r *idleResult) verdict() verdict {
	var v verdict
	var limit float64
	switch r.spec.transport {
	case transportWS:
		limit = idleWSTargetKiB
	case transportSIO:
		limit = idleSIOTargetKiB
	default:
		return v
	}
	v.target = fmt.Sprintf("<= %g KiB/conn, all connected", limit)
	var why []string
	if !r.rssKnown {
		why = append(why, "RSS unknown (give -pid)")
	} else if r.perConnKiB > limit {
		why = append(why, fmt.Sprintf("%.1f KiB/conn is %.1f KiB (%.0f%%) over", r.perConnKiB, r.perConnKiB-limit, (r.perConnKiB/limit-1)*100))
	}
	if r.connectFailures > 0 || r.dropped > 0 {
		why = append(why, fmt.Sprintf("%d failed to connect, %d dropped", r.connectFailures, r.dropped))
	}
	v.pass, v.why = len(why) == 0, strings.Join(why, "; ")
	return v
}

func (r *idleResult) print(w io.Writer) {
	s := r.spec
	per, marginal, busy := "n/a", "n/a", "n/a"
	if r.rssKnown {
		per, marginal, busy = kib(r.perConnKiB), kib(r.marginalKiB), kib(r.busyKiB)
	}
	fmt.Fprintf(w, "idle %s n=%d chats=%d: connected=%d failed=%d dropped=%d server_rss_before=%s server_rss_after=%s per_conn=%s\n",
		s.transport, s.n, s.chats, r.connected, r.connectFailures, r.dropped,
		mib(r.rssBeforeKiB), mib(r.rssAfterKiB), per)
	fmt.Fprintf(w, "  marginal=%s (from %d to %d connections; server_rss at %d: %s) after_gc_cycle=%s (server_rss %s)\n",
		marginal, r.halfAt, r.connected, r.halfAt, mib(r.rssHalfKiB), busy, mib(r.rssBusyKiB))
	fmt.Fprintf(w, "  connect_time=%v (%d at a time) settle=%v cpu while connecting: %s\n",
		r.connectTime.Round(time.Millisecond), s.concurrency, s.settle, cpuLine(r.serverCPU, r.loadCPU, r.machineCPU))
	if r.connectErr != nil {
		fmt.Fprintf(w, "  first connect error: %v\n", r.connectErr)
	}
	if r.droppedErr != nil {
		fmt.Fprintf(w, "  first drop: %v\n", r.droppedErr)
	}
	fmt.Fprintf(w, "  %s\n", r.verdict())
}

func (r *streamResult) verdict() verdict {
	v := verdict{target: fmt.Sprintf("p99 <= %v, nothing lost", p99Target)}
	var why []string
	if r.timed == 0 {
		why = append(why, "no event was timed")
	} else if r.p99 > p99Target {
		why = append(why, fmt.Sprintf("p99 %v is %v (%.0f%%) over", ms(r.p99), ms(r.p99-p99Target), (float64(r.p99)/float64(p99Target)-1)*100))
	}
	if r.lost > 0 || r.dup > 0 || r.missingCompleted > 0 {
		why = append(why, fmt.Sprintf("lost=%d dup=%d missing_completed=%d", r.lost, r.dup, r.missingCompleted))
	}
	if r.disconnects > 0 || r.connectFailures > 0 {
		why = append(why, fmt.Sprintf("%d disconnected, %d failed to connect", r.disconnects, r.connectFailures))
	}
	if r.runsFailed > 0 || r.sendErrs > 0 {
		why = append(why, fmt.Sprintf("%d runs failed, %d sends failed", r.runsFailed, r.sendErrs))
	}
	v.pass, v.why = len(why) == 0, strings.Join(why, "; ")
	return v
}

func (r *streamResult) print(w io.Writer) {
	s := r.spec
	shape := fmt.Sprintf("watchers=%d", s.perChat)
	if s.name != "fanout" || s.chats != 1 {
		shape = fmt.Sprintf("chats=%d per_chat=%d", s.chats, s.perChat)
	}
	rate := 0.0
	if r.window > 0 {
		rate = float64(r.delivered) / r.window.Seconds()
	}
	fmt.Fprintf(w, "%s %s %s rate=%g/s: delivered=%.0f/s p50=%v p99=%v max=%v lost=%d dup=%d server_rss=%s server_cpu=%s\n",
		s.name, s.transport, shape, s.rate, rate, ms(r.p50), ms(r.p99), ms(r.max), r.lost, r.dup,
		mib(r.serverRSSKiB), pct(r.serverCPU))
	stagger := ""
	if s.stagger && s.chats > 1 {
		stagger = fmt.Sprintf(" (starts staggered over %v)", s.answerTime())
	}
	fmt.Fprintf(w, "  runs=%d×%d%s tokens=%d completed=%d failed=%d timed_events=%d delivered_events=%d window=%v deltas_per_run=%.1f\n",
		s.chats, s.runs, stagger, s.tokens, r.runsCompleted, r.runsFailed, r.timed, r.delivered, r.window.Round(time.Millisecond), r.deltasPerRun)
	fmt.Fprintf(w, "  missing_completed=%d disconnects=%d connect_failures=%d bad_frames=%d connect_time=%v\n",
		r.missingCompleted, r.disconnects, r.connectFailures, r.bad, r.connectTime.Round(time.Millisecond))
	fmt.Fprintf(w, "  cpu over the window: %s\n", cpuLine(r.serverCPU, r.loadCPU, r.machineCPU))
	for _, e := range []struct {
		what string
		err  error
	}{{"connect error", r.connectErr}, {"disconnect", r.disconnectErr}, {"send error", r.sendErr}} {
		if e.err != nil {
			fmt.Fprintf(w, "  first %s: %v\n", e.what, e.err)
		}
	}
	if r.negative > 0 {
		fmt.Fprintf(w, "  note: %d events arrived before their ts (clock step?), counted as 0 ms\n", r.negative)
	}
	fmt.Fprintf(w, "  %s\n", r.verdict())
}

// cpuLine shows CPU use in % of one core, and what other processes took.
func cpuLine(server, load, machine float64) string {
	other := -1.0
	if machine >= 0 && server >= 0 && load >= 0 {
		other = max(machine-server-load, 0)
	}
	return fmt.Sprintf("server=%s loadgen=%s other_processes=%s machine=%s of %d%% (%% of one core)",
		pct(server), pct(load), pct(other), pct(machine), runtime.NumCPU()*100)
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

func mib(kib int64) string {
	if kib < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1fMiB", float64(kib)/1024)
}

func kib(k float64) string { return fmt.Sprintf("%.2fKiB/conn", k) }

func pct(p float64) string {
	if p < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", p)
}
