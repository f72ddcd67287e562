package main

// The openai scenario: what Atrium's OpenAI-compatible API adds to an
// upstream's latency. The same load goes straight to the mock upstream
// and through Atrium (whose OPENAI_BASE_URL is the mock), in the same run,
// and the client-observed figures of the two are compared.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Measurements of the openai scenario.
const (
	measureLatency    = "latency"
	measureThroughput = "throughput"
	measureStreams    = "streams"
)

// openaiMeasures are all of them, in the order they run.
var openaiMeasures = []string{measureLatency, measureThroughput, measureStreams}

// openaiSpec says what the openai scenario does.
type openaiSpec struct {
	model string // a catalogue model served by the "openai" upstream
	// latency is the mock's time to the first byte in the throughput and
	// streams measurements; the latency measurement uses none, so that
	// timer jitter does not drown what Atrium adds.
	latency   time.Duration
	tokens    int     // content tokens in each answer
	rate      float64 // streamed tokens per second (streams measurement)
	toolCalls int     // tool calls in each answer (the requests offer a tool)
	// concurrency is the requests in flight in the throughput measurement;
	// streams the streams in flight in the streams measurement.
	concurrency int
	streams     int
	// duration is how long each side (straight to the mock, through
	// Atrium) of each measurement is measured; requests, when > 0, caps
	// its measured requests.
	duration time.Duration
	requests int
	// warmup runs before each side is measured (and the streams' ramp,
	// one answer's time, whichever is longer).
	warmup   time.Duration
	measures []string
	// jwt authenticates with the login JWT rather than a user API key
	// (which costs Atrium a database query a request).
	jwt bool
}

// answerTime is how long the mock takes to stream one answer.
func (spec openaiSpec) answerTime() time.Duration {
	d := spec.latency
	if n := spec.tokens + spec.toolCalls*mockCallPieces; spec.rate > 0 && n > 1 {
		d += time.Duration(float64(n-1) / spec.rate * float64(time.Second))
	}
	return d
}

// shape is the answer every request should get.
func (spec openaiSpec) shape(stream bool) oaiShape {
	return oaiShape{tokens: spec.tokens, toolCalls: spec.toolCalls, usage: stream}
}

// oaiSide is what one side of a measurement saw: straight to the mock or
// through Atrium. The counters and histograms are written by the side's
// workers at once.
type oaiSide struct {
	sent     atomic.Uint64 // requests sent, the warm-up's too
	requests atomic.Uint64 // measured requests that succeeded
	errors   atomic.Uint64 // measured requests that failed
	checked  atomic.Uint64 // answers checked in full
	chunks   atomic.Uint64 // streams: content chunks received

	mu       sync.Mutex // guards firstErr
	firstErr error

	total histogram // not streamed: whole request, send to last byte
	ttft  histogram // streams: send to the first content chunk
	age   histogram // streams: each token's stamp (mock's write) to its arrival
	gap   histogram // streams: between a stream's content chunks

	// Set when the side ends.
	window        time.Duration
	upstreamReqs  uint64 // requests the mock answered for this side
	upstreamConns uint64 // connections the mock accepted meanwhile (all sides')
	serverCPU     float64
	loadCPU       float64
	machineCPU    float64
	serverRSSKiB  int64
}

func newOAISide() *oaiSide {
	return &oaiSide{serverCPU: -1, loadCPU: -1, machineCPU: -1, serverRSSKiB: -1}
}

func (s *oaiSide) fail(err error) {
	s.errors.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.firstErr == nil {
		s.firstErr = err
	}
}

func (s *oaiSide) rate() float64 {
	if s.window <= 0 {
		return 0
	}
	return float64(s.requests.Load()) / s.window.Seconds()
}

// first and chunk make a side a streamObserver.
func (s *oaiSide) first(ttft time.Duration) { s.ttft.record(ttft) }

func (s *oaiSide) chunk(_ time.Time, ages []time.Duration, gap time.Duration) {
	s.chunks.Add(1)
	for _, a := range ages {
		s.age.record(a)
	}
	if gap >= 0 {
		s.gap.record(gap)
	}
}

// oaiMeasure is one measurement: its two sides.
type oaiMeasure struct {
	name           string
	stream         bool
	workers        int
	latency        time.Duration // the mock's
	rate           float64       // the mock's, 0: all at once
	direct, atrium *oaiSide
}

// sides runs m's side straight to the mock, then its side through Atrium.
func (m *oaiMeasure) sides(direct, atrium *oaiClient, run func(what string, cl *oaiClient) *oaiSide) {
	m.direct = run("straight", direct)
	m.atrium = run("through atrium", atrium)
}

// openaiResult is what the openai scenario measured.
type openaiResult struct {
	spec     openaiSpec
	auth     string // how requests to Atrium authenticated
	measures []*oaiMeasure
	// unauthorized counts upstream requests that bore the wrong key.
	unauthorized uint64
}

// openaiEnv is the environment that points a server at mock, with
// credits enough for any run (each request is charged).
func openaiEnv(mock *mockOpenAI) []string {
	return []string{"OPENAI_BASE_URL=" + mock.url + "/v1", "OPENAI_API_KEY=" + mock.key, "ATRIUM_FREE_CREDITS=1000000000"}
}

// runOpenAI runs spec's measurements against srv, whose openai upstream
// is mock.
func runOpenAI(ctx context.Context, srv *server, mock *mockOpenAI, spec openaiSpec, progress func(string, ...any)) (*openaiResult, error) {
	a := newAPI(srv.base)
	key, auth, err := openaiKey(ctx, a, spec.jwt)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	res := &openaiResult{spec: spec, auth: auth}
	conns := max(spec.concurrency, spec.streams, 1)
	direct := newOAIClient(mock.url+"/v1", mock.key, conns)
	atrium := newOAIClient(srv.base+"/v1", key, conns)
	defer direct.closeIdle()
	defer atrium.closeIdle()
	cfg := mockConfig{model: spec.model, tokens: spec.tokens, toolCalls: spec.toolCalls}
	tools := spec.toolCalls > 0

	// One request each way first: a server without the endpoint (or
	// without the model) fails here, with its answer.
	mock.set(cfg)
	var buf bytes.Buffer
	body := oaiRequestBody(spec.model, false, tools)
	if err := direct.complete(ctx, body, &buf, spec.shape(false), true); err != nil {
		return nil, fmt.Errorf("the mock upstream: %w", err)
	}
	if err := atrium.complete(ctx, body, &buf, spec.shape(false), true); err != nil {
		return nil, fmt.Errorf("POST /v1/chat/completions through atrium: %w", err)
	}
	unauthorized := mock.unauthorized.Load()

	for _, name := range spec.measures {
		var m *oaiMeasure
		var err error
		switch name {
		case measureLatency:
			mock.set(cfg)
			progress("openai latency: 1 request at a time, alternately straight and through atrium, %v each", spec.duration)
			m, err = measureAlternating(ctx, srv, mock, direct, atrium, spec)
		case measureThroughput:
			c := cfg
			c.latency = spec.latency
			mock.set(c)
			m = &oaiMeasure{name: name, workers: spec.concurrency, latency: c.latency}
			body := oaiRequestBody(spec.model, false, tools)
			m.sides(direct, atrium, func(what string, cl *oaiClient) *oaiSide {
				progress("openai throughput: %d requests in flight %s, %v", spec.concurrency, what, spec.duration)
				return runSide(ctx, srv, mock, spec, spec.concurrency, spec.warmup, 0, func(ctx context.Context, w *oaiWorker, s *oaiSide, full bool) error {
					t0 := time.Now()
					err := cl.complete(ctx, body, &w.buf, spec.shape(false), full)
					if err == nil && s != nil {
						s.total.record(time.Since(t0))
					}
					return err
				})
			})
		case measureStreams:
			c := cfg
			c.latency, c.rate = spec.latency, spec.rate
			mock.set(c)
			m = &oaiMeasure{name: name, stream: true, workers: spec.streams, latency: c.latency, rate: c.rate}
			body := oaiRequestBody(spec.model, true, tools)
			ramp := spec.answerTime()
			m.sides(direct, atrium, func(what string, cl *oaiClient) *oaiSide {
				progress("openai streams: %d streams of %d tokens at %g/s %s, %v", spec.streams, spec.tokens, spec.rate, what, spec.duration)
				return runSide(ctx, srv, mock, spec, spec.streams, max(spec.warmup, ramp), ramp, func(ctx context.Context, w *oaiWorker, s *oaiSide, full bool) error {
					var obs streamObserver
					if s != nil {
						obs = s
					}
					return cl.stream(ctx, body, w.rd, spec.shape(true), full, obs)
				})
			})
		default:
			return nil, fmt.Errorf("no measurement %q", name)
		}
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res.measures = append(res.measures, m)
	}
	res.unauthorized = mock.unauthorized.Load() - unauthorized
	return res, nil
}

// openaiKey registers a user and makes it a user API key; its login JWT
// when jwt, or when that fails (then auth says why).
func openaiKey(ctx context.Context, a *api, jwtOnly bool) (key, auth string, err error) {
	var rnd [6]byte
	rand.Read(rnd[:])
	jwt, err := a.user(ctx, "lt-openai-"+hex.EncodeToString(rnd[:])+"@example.com", "loadtest-password-1")
	if err != nil {
		return "", "", err
	}
	if jwtOnly {
		return jwt, "login JWT", nil
	}
	var out struct {
		Key string `json:"key"`
	}
	err = a.call(ctx, "POST", "/api/keys/", jwt, map[string]string{"name": "bench"}, &out)
	switch {
	case err != nil:
		return jwt, fmt.Sprintf("login JWT (no user API key: %v)", err), nil
	case out.Key == "":
		return jwt, "login JWT (POST /api/keys/ answered no key)", nil
	}
	prefix := out.Key
	if i := bytes.IndexByte([]byte(prefix), '_'); i >= 0 {
		prefix = prefix[:i+1] + "…"
	}
	return out.Key, "user API key " + prefix, nil
}

// oaiWorker is one worker's reusable buffers.
type oaiWorker struct {
	buf bytes.Buffer
	rd  *bufio.Reader
}

// fullEvery is how often an answer is decoded and checked in full (and
// the first of every side is).
const fullEvery = 64

// runSide runs workers that each send one request after another with do
// for warmup plus spec.duration (or until spec.requests are measured).
// Requests sent after the warm-up are measured: do gets s for them (nil
// during the warm-up). Worker i starts i/workers of stagger late, so that
// streams do not all start and end together.
func runSide(ctx context.Context, srv *server, mock *mockOpenAI, spec openaiSpec, workers int, warmup, stagger time.Duration,
	do func(ctx context.Context, w *oaiWorker, s *oaiSide, full bool) error) *oaiSide {
	s := newOAISide()
	reqs, conns := mock.requests.Load(), mock.conns.Load()
	cpu, self, machine := startCPU(srv.pid), startCPU(os.Getpid()), startMachineCPU()
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(spec.duration)
	var tickets atomic.Int64
	parallel(workers, workers, func(i int) {
		w := &oaiWorker{rd: bufio.NewReaderSize(nil, 16<<10)}
		if stagger > 0 {
			select {
			case <-time.After(stagger * time.Duration(i) / time.Duration(workers)):
			case <-ctx.Done():
				return
			}
		}
		for ctx.Err() == nil {
			now := time.Now()
			if !now.Before(end) {
				return
			}
			if now.Before(measureFrom) {
				s.sent.Add(1)
				do(ctx, w, nil, false)
				continue
			}
			n := tickets.Add(1)
			if spec.requests > 0 && n > int64(spec.requests) {
				return
			}
			s.sent.Add(1)
			full := n == 1 || n%fullEvery == 0
			if err := do(ctx, w, s, full); err != nil {
				if ctx.Err() == nil {
					s.fail(err)
				}
				continue
			}
			s.requests.Add(1)
			if full {
				s.checked.Add(1)
			}
		}
	})
	s.window = min(time.Since(measureFrom), spec.duration)
	s.serverCPU, s.loadCPU, s.machineCPU = cpu.percent(), self.percent(), machine.percent()
	if srv.pid > 0 {
		if rss, err := rssKiB(srv.pid); err == nil {
			s.serverRSSKiB = rss
		}
	}
	s.upstreamReqs, s.upstreamConns = mock.requests.Load()-reqs, mock.conns.Load()-conns
	return s
}

// measureAlternating is the latency measurement: one request at a time,
// non-streamed, alternately straight to the mock and through Atrium (which
// goes first alternates too), so that both sides see the same machine.
func measureAlternating(ctx context.Context, srv *server, mock *mockOpenAI, direct, atrium *oaiClient, spec openaiSpec) (*oaiMeasure, error) {
	m := &oaiMeasure{name: measureLatency, workers: 1, direct: newOAISide(), atrium: newOAISide()}
	body := oaiRequestBody(spec.model, false, spec.toolCalls > 0)
	var buf bytes.Buffer
	one := func(cl *oaiClient, s *oaiSide, measured, full bool) {
		t0 := time.Now()
		err := cl.complete(ctx, body, &buf, spec.shape(false), full)
		d := time.Since(t0)
		if measured {
			s.sent.Add(1)
		}
		switch {
		case !measured:
		case err != nil:
			if ctx.Err() == nil {
				s.fail(err)
			}
		default:
			s.requests.Add(1)
			s.total.record(d)
			if full {
				s.checked.Add(1)
			}
		}
	}
	for t := time.Now().Add(spec.warmup); time.Now().Before(t) && ctx.Err() == nil; {
		one(direct, m.direct, false, false)
		one(atrium, m.atrium, false, false)
	}
	reqs, conns := mock.requests.Load(), mock.conns.Load()
	cpu, self, machine := startCPU(srv.pid), startCPU(os.Getpid()), startMachineCPU()
	start := time.Now()
	end := start.Add(2 * spec.duration)
	for i := 0; time.Now().Before(end) && ctx.Err() == nil; i++ {
		if spec.requests > 0 && i >= spec.requests {
			break
		}
		full := i == 0 || i%fullEvery == 0
		sides := []*oaiSide{m.direct, m.atrium}
		clients := []*oaiClient{direct, atrium}
		if i%2 == 1 {
			slices.Reverse(sides)
			slices.Reverse(clients)
		}
		for j := range sides {
			one(clients[j], sides[j], true, full)
		}
	}
	el := time.Since(start)
	for _, s := range []*oaiSide{m.direct, m.atrium} {
		s.window = el // shared: the two sides take turns
		s.serverCPU, s.loadCPU, s.machineCPU = cpu.percent(), self.percent(), machine.percent()
		s.upstreamConns = mock.conns.Load() - conns
	}
	m.direct.upstreamReqs = m.direct.sent.Load()
	m.atrium.upstreamReqs = mock.requests.Load() - reqs - m.direct.upstreamReqs
	if srv.pid > 0 {
		if rss, err := rssKiB(srv.pid); err == nil {
			m.atrium.serverRSSKiB = rss
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if m.direct.requests.Load() == 0 && m.atrium.requests.Load() == 0 {
		return nil, errors.New("latency: no request succeeded")
	}
	return m, nil
}
