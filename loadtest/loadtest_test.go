package main

import (
	"bufio"
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNoAtriumImports keeps the load generator honest: it may reach Atrium
// only over the network.
func TestNoAtriumImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files: %v", err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/atrium-hq/atrium" || strings.HasPrefix(p, "github.com/atrium-hq/atrium/") {
				t.Errorf("%s imports %s: the load generator talks to Atrium only over the network", f, p)
			}
		}
	}
}

func TestParseEnvelope(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	fast := `{"seq":42,"chat_id":"c1","workspace_id":"w1","type":"run.delta","run_id":"r9","data":{"text":" \"ts\":\"x\""},"ts":"2026-01-02T03:04:05.123456789Z"}`
	slow := `{"type":"run.completed","ts":"2026-01-02T03:04:05.123456789Z","seq":7,"run_id":"r9","data":{}}`
	for _, c := range []struct {
		in   string
		seq  uint64
		kind kind
	}{{fast, 42, kindDelta}, {slow, 7, kindCompleted}} {
		e, ok := parseEnvelope([]byte(c.in))
		if !ok || e.seq != c.seq || e.kind != c.kind || string(e.runID) != "r9" || !e.ts.Equal(ts) {
			t.Errorf("parseEnvelope(%s) = %+v, %v", c.in, e, ok)
		}
	}
	if _, ok := parseEnvelope([]byte(`{"type":"joined"}`)); ok {
		t.Error("an object without seq parsed as an envelope")
	}
}

func TestHistogram(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		if d := got - c.want; d < -c.want/500 || d > c.want/500 {
			t.Errorf("quantile(%v) = %v, want %v ± 0.2%%", c.q, got, c.want)
		}
	}
	if h.maximum() != time.Second {
		t.Errorf("maximum = %v", h.maximum())
	}
}

// TestScenarios runs every scenario at a tiny size against a freshly built
// server and wants every event delivered exactly once.
func TestScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts atrium")
	}
	if _, err := raiseFileLimit(); err != nil {
		t.Log("raise the open-file limit:", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := buildServer(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(ctx, bin, serverConfig{echoRate: 200, echoTokens: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	progress := func(format string, args ...any) { t.Logf(format, args...) }
	transports := []string{transportWS, transportSSE, transportSIO}
	hasSIO := newAPI(srv.base).servesSocketIO(ctx)

	for _, tr := range transports {
		t.Run("idle/"+tr, func(t *testing.T) {
			if tr == transportSIO && !hasSIO {
				t.Fatal("the server does not serve /socket.io/")
			}
			s := srv
			if tr != transportWS {
				s = attachServer(srv.base, 0) // RSS once is enough: it takes seconds
			}
			r, err := runIdle(ctx, s, idleSpec{transport: tr, n: 5, chats: 2, concurrency: 5}, progress)
			if err != nil {
				t.Fatal(err)
			}
			if r.connected != 5 || r.dropped != 0 {
				t.Errorf("connected %d, dropped %d; want 5, 0 (first error: %v)", r.connected, r.dropped, r.connectErr)
			}
			if tr == transportWS && (!r.rssKnown || r.rssAfterKiB <= 0) {
				t.Errorf("no RSS figures: %+v", r)
			}
		})
		for _, spec := range []streamSpec{
			{name: "fanout", chats: 1, perChat: 5},
			{name: "chats", chats: 3, perChat: 2},
		} {
			t.Run(spec.name+"/"+tr, func(t *testing.T) {
				if tr == transportSIO && !hasSIO {
					t.Fatal("the server does not serve /socket.io/")
				}
				spec.transport, spec.runs, spec.tokens, spec.rate = tr, 2, 20, 200
				spec.concurrency, spec.settle = 10, 100*time.Millisecond
				r, err := runStream(ctx, srv, spec, progress)
				if err != nil {
					t.Fatal(err)
				}
				var b strings.Builder
				r.print(&b)
				t.Log("\n" + b.String())
				if r.lost != 0 || r.dup != 0 || r.missingCompleted != 0 || r.disconnects != 0 || r.connectFailures != 0 || r.bad != 0 {
					t.Errorf("lost=%d dup=%d missing_completed=%d disconnects=%d connect_failures=%d bad=%d; want all 0",
						r.lost, r.dup, r.missingCompleted, r.disconnects, r.connectFailures, r.bad)
				}
				if want := spec.chats * spec.runs; r.runsCompleted != want || r.timed == 0 {
					t.Errorf("%d runs completed, %d events timed; want %d runs and some events", r.runsCompleted, r.timed, want)
				}
			})
		}
	}
	if !srv.alive() {
		t.Fatalf("the server died: %s", srv.logTail())
	}
}

// TestOpenAIMock checks the mock upstream's answers with the client's
// checks, streamed and not, with and without tool calls.
func TestOpenAIMock(t *testing.T) {
	t.Parallel()
	mock, err := startMockOpenAI("127.0.0.1:0", "sk-test", mockConfig{model: "gpt-4o-mini", tokens: 4, rate: 2000, toolCalls: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mock.close)
	ctx := context.Background()
	c := newOAIClient(mock.url+"/v1", "sk-test", 2)
	var buf bytes.Buffer
	rd := bufio.NewReader(nil)
	for _, tools := range []bool{false, true} {
		want := oaiShape{tokens: 4}
		if tools {
			want.toolCalls = 2
		}
		if err := c.complete(ctx, oaiRequestBody("gpt-4o-mini", false, tools), &buf, want, true); err != nil {
			t.Errorf("tools=%t: not streamed: %v", tools, err)
		}
		want.usage = true
		var obs countObserver
		if err := c.stream(ctx, oaiRequestBody("gpt-4o-mini", true, tools), rd, want, true, &obs); err != nil {
			t.Errorf("tools=%t: streamed: %v", tools, err)
		}
		if obs.firsts != 1 || obs.tokens != 4 {
			t.Errorf("tools=%t: observed %d first chunks and %d tokens, want 1 and 4", tools, obs.firsts, obs.tokens)
		}
	}
	bad := newOAIClient(mock.url+"/v1", "sk-wrong", 1)
	if err := bad.complete(ctx, oaiRequestBody("gpt-4o-mini", false, false), &buf, oaiShape{tokens: 4}, true); err == nil || mock.unauthorized.Load() != 1 {
		t.Errorf("a wrong key: err %v, %d unauthorized", err, mock.unauthorized.Load())
	}
	for _, c := range []struct {
		body string
		want bool
	}{{`{"stream":true}`, true}, {`{"stream" : true}`, true}, {`{"stream":false}`, false}, {`{"content":"\"stream\":true"}`, false}, {`{}`, false}} {
		if got := jsonTrue([]byte(c.body), `"stream"`); got != c.want {
			t.Errorf("jsonTrue(%s) = %t", c.body, got)
		}
	}
}

type countObserver struct{ firsts, tokens int }

func (o *countObserver) first(time.Duration) { o.firsts++ }

func (o *countObserver) chunk(_ time.Time, ages []time.Duration, _ time.Duration) {
	o.tokens += len(ages)
}

// TestOpenAISmoke runs the openai scenario at a tiny size (a few requests
// two at a time, with a tool call) against a freshly built server and
// wants no errors. Timing targets are not asserted: they mean something
// only at full size on a quiet machine.
func TestOpenAISmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts atrium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	mock, err := startMockOpenAI("127.0.0.1:0", "sk-loadtest-mock", mockConfig{model: "gpt-4o-mini"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(mock.close)
	bin, err := buildServer(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := startServer(ctx, bin, serverConfig{echoRate: 20, echoTokens: 40, env: openaiEnv(mock)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.stop)
	spec := openaiSpec{
		model: "gpt-4o-mini", latency: time.Millisecond, tokens: 5, rate: 1000, toolCalls: 1,
		concurrency: 2, streams: 2, duration: time.Minute, requests: 6, measures: openaiMeasures,
	}
	r, err := runOpenAI(ctx, srv, mock, spec, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	r.print(&b)
	t.Log("\n" + b.String())
	if len(r.measures) != len(openaiMeasures) {
		t.Fatalf("%d measurements, want %d", len(r.measures), len(openaiMeasures))
	}
	for _, m := range r.measures {
		for _, side := range []struct {
			name string
			s    *oaiSide
		}{{"straight", m.direct}, {"through atrium", m.atrium}} {
			s := side.s
			if n, e := s.requests.Load(), s.errors.Load(); n != uint64(spec.requests) || e != 0 || s.checked.Load() == 0 {
				t.Errorf("%s %s: %d requests, %d errors (first: %v), %d checked; want %d, 0, some", m.name, side.name, n, e, s.firstErr, s.checked.Load(), spec.requests)
			}
			if m.stream && (s.ttft.n.Load() == 0 || s.age.n.Load() == 0) {
				t.Errorf("%s %s: nothing timed", m.name, side.name)
			}
		}
	}
	if r.unauthorized != 0 || mock.refused.Load() != 0 {
		t.Errorf("the mock saw %d requests without its key, %d to other paths", r.unauthorized, mock.refused.Load())
	}
	if !srv.alive() {
		t.Fatalf("the server died: %s", srv.logTail())
	}
}
