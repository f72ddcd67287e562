package main

// Printing the openai scenario's figures, a block per measurement, and
// judging them against its targets.

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets of the openai scenario.
const (
	oaiAddedTarget = 500 * time.Microsecond // p99 Atrium adds: a request's latency, a stream's first token
	oaiRateTarget  = 5000.0                 // requests/s through Atrium
)

func (r *openaiResult) verdict() verdict {
	v := verdict{target: "openai targets", pass: true}
	var why []string
	for _, m := range r.measures {
		if mv := m.verdict(); mv.target != "" && !mv.pass {
			v.pass = false
			why = append(why, m.name+": "+mv.why)
		}
	}
	if r.unauthorized > 0 {
		v.pass = false
		why = append(why, fmt.Sprintf("%d upstream requests without the upstream's key", r.unauthorized))
	}
	v.why = strings.Join(why, "; ")
	return v
}

func (m *oaiMeasure) verdict() verdict {
	var v verdict
	var why []string
	added := func(what string, d, a *histogram) {
		switch {
		case d.n.Load() == 0 || a.n.Load() == 0:
			why = append(why, "nothing timed")
		case a.quantile(0.99)-d.quantile(0.99) > oaiAddedTarget:
			why = append(why, fmt.Sprintf("%s p99 added %s is over", what, msSigned(a.quantile(0.99)-d.quantile(0.99))))
		}
	}
	switch m.name {
	case measureLatency:
		v.target = fmt.Sprintf("p99 added <= %s, no errors", msFine(oaiAddedTarget))
		added("latency", &m.direct.total, &m.atrium.total)
	case measureThroughput:
		v.target = fmt.Sprintf(">= %.0f requests/s through atrium, no errors", oaiRateTarget)
		if r := m.atrium.rate(); r < oaiRateTarget {
			why = append(why, fmt.Sprintf("%.0f/s is %.0f%% short", r, (1-r/oaiRateTarget)*100))
		}
	case measureStreams:
		v.target = fmt.Sprintf("time to first token p99 added <= %s, no errors", msFine(oaiAddedTarget))
		added("time to first token", &m.direct.ttft, &m.atrium.ttft)
	default:
		return v
	}
	if e, d := m.atrium.errors.Load(), m.direct.errors.Load(); e > 0 || d > 0 {
		why = append(why, fmt.Sprintf("%d errors through atrium, %d straight", e, d))
	}
	v.pass, v.why = len(why) == 0, strings.Join(why, "; ")
	return v
}

func (r *openaiResult) print(w io.Writer) {
	for _, m := range r.measures {
		m.print(w, r.spec)
	}
	fmt.Fprintf(w, "  openai: model=%s auth=%s tool_calls=%d upstream_unauthorized=%d\n", r.spec.model, r.auth, r.spec.toolCalls, r.unauthorized)
	fmt.Fprintf(w, "  %s\n", r.verdict())
}

func (m *oaiMeasure) print(w io.Writer, spec openaiSpec) {
	d, a := m.direct, m.atrium
	rate := "all at once"
	if m.rate > 0 {
		rate = fmt.Sprintf("%g/s", m.rate)
	}
	head := fmt.Sprintf("openai %s concurrency=%d stream=%t tokens=%d mock_latency=%v", m.name, m.workers, m.stream, spec.tokens, m.latency)
	errs := fmt.Sprintf("errors=%d (straight %d)", a.errors.Load(), d.errors.Load())
	mem := fmt.Sprintf("server_rss=%s server_cpu=%s", mib(a.serverRSSKiB), pct(a.serverCPU))
	switch m.name {
	case measureLatency:
		fmt.Fprintf(w, "%s: added p50=%s p99=%s straight p50=%s p99=%s through_atrium p50=%s p99=%s %s %s\n",
			head, added(&d.total, &a.total, 0.5), added(&d.total, &a.total, 0.99),
			msFine(d.total.quantile(0.5)), msFine(d.total.quantile(0.99)), msFine(a.total.quantile(0.5)), msFine(a.total.quantile(0.99)), errs, mem)
		fmt.Fprintf(w, "  requests=%d straight + %d through atrium, taking turns, in %v; max straight=%s through_atrium=%s\n",
			d.requests.Load(), a.requests.Load(), a.window.Round(time.Millisecond), msFine(d.total.maximum()), msFine(a.total.maximum()))
	case measureThroughput:
		fmt.Fprintf(w, "%s: through_atrium=%.0f/s straight=%.0f/s p50=%s p99=%s (straight p50=%s p99=%s) %s %s\n",
			head, a.rate(), d.rate(), ms(a.total.quantile(0.5)), ms(a.total.quantile(0.99)),
			ms(d.total.quantile(0.5)), ms(d.total.quantile(0.99)), errs, mem)
		fmt.Fprintf(w, "  requests=%d through atrium in %v, %d straight in %v; max through_atrium=%s straight=%s\n",
			a.requests.Load(), a.window.Round(time.Millisecond), d.requests.Load(), d.window.Round(time.Millisecond), ms(a.total.maximum()), ms(d.total.maximum()))
	case measureStreams:
		fmt.Fprintf(w, "%s rate=%s: ttft added p50=%s p99=%s chunk added p50=%s p99=%s %s %s\n",
			head, rate, added(&d.ttft, &a.ttft, 0.5), added(&d.ttft, &a.ttft, 0.99),
			added(&d.age, &a.age, 0.5), added(&d.age, &a.age, 0.99), errs, mem)
		fmt.Fprintf(w, "  time to first token: straight p50=%s p99=%s, through_atrium p50=%s p99=%s\n",
			msFine(d.ttft.quantile(0.5)), msFine(d.ttft.quantile(0.99)), msFine(a.ttft.quantile(0.5)), msFine(a.ttft.quantile(0.99)))
		fmt.Fprintf(w, "  chunk latency (mock's write to the client's read): straight p50=%s p99=%s, through_atrium p50=%s p99=%s max=%s\n",
			msFine(d.age.quantile(0.5)), msFine(d.age.quantile(0.99)), msFine(a.age.quantile(0.5)), msFine(a.age.quantile(0.99)), msFine(a.age.maximum()))
		fmt.Fprintf(w, "  inter-chunk gap: straight p50=%s p99=%s, through_atrium p50=%s p99=%s (added p50=%s p99=%s)\n",
			msFine(d.gap.quantile(0.5)), msFine(d.gap.quantile(0.99)), msFine(a.gap.quantile(0.5)), msFine(a.gap.quantile(0.99)),
			added(&d.gap, &a.gap, 0.5), added(&d.gap, &a.gap, 0.99))
		fmt.Fprintf(w, "  streams=%d through atrium (%.0f/s, %d content chunks) in %v, %d straight (%d chunks) in %v\n",
			a.requests.Load(), a.rate(), a.chunks.Load(), a.window.Round(time.Millisecond), d.requests.Load(), d.chunks.Load(), d.window.Round(time.Millisecond))
	}
	if sent := a.sent.Load(); sent > 0 {
		fmt.Fprintf(w, "  upstream: %.2f requests and %.2f new connections per request through atrium; checked in full: %d through atrium, %d straight\n",
			float64(a.upstreamReqs)/float64(sent), float64(a.upstreamConns)/float64(sent), a.checked.Load(), d.checked.Load())
	}
	what := "the atrium side"
	if m.name == measureLatency {
		what = "both sides (taking turns)"
	}
	fmt.Fprintf(w, "  cpu over %s: %s\n", what, cpuLine(a.serverCPU, a.loadCPU, a.machineCPU))
	if m.name != measureLatency {
		fmt.Fprintf(w, "  cpu over the straight side: %s\n", cpuLine(d.serverCPU, d.loadCPU, d.machineCPU))
	}
	for _, e := range []struct {
		side string
		s    *oaiSide
	}{{"through atrium", a}, {"straight", d}} {
		if e.s.firstErr != nil {
			fmt.Fprintf(w, "  first error %s: %v\n", e.side, e.s.firstErr)
		}
	}
	fmt.Fprintf(w, "  %s\n", m.verdict())
}

// added is the q-quantile of a less that of d: what Atrium adds, as a
// difference of quantiles (not the quantile of differences).
func added(d, a *histogram, q float64) string {
	if d.n.Load() == 0 || a.n.Load() == 0 {
		return "n/a"
	}
	return msSigned(a.quantile(q) - d.quantile(q))
}

// msFine shows a duration in milliseconds to the microsecond.
func msFine(d time.Duration) string {
	return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
}

func msSigned(d time.Duration) string {
	return fmt.Sprintf("%+.3fms", float64(d)/float64(time.Millisecond))
}
