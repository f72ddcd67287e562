package main

// Flags, and running the chosen scenarios each against its own server.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	scenario    string
	transport   string
	n           int
	watchers    int
	chats       int
	perChat     int
	runs        int
	tokens      int
	rate        float64
	concurrency int
	settle      time.Duration
	sendQueue   int
	check       bool
	serverURL   string
	pid         int
	bin         string
	keep        bool
	timeout     time.Duration
	quiet       bool
	cpuProfile  string
	stagger     bool

	// The openai scenario.
	openaiLatency  time.Duration
	openaiTokens   int
	openaiRate     float64
	openaiTools    int
	openaiStreams  int
	openaiModel    string
	openaiMock     string
	openaiMeasures string
	duration       time.Duration
	requests       int
	warmup         time.Duration
	openaiAuth     string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scenario, "scenario", "all", "idle, fanout, chats, openai, or all (which leaves openai out)")
	fs.StringVar(&o.transport, "transport", transportWS, "ws, sio or sse: how watchers connect (senders use ws for sse)")
	fs.IntVar(&o.n, "n", 10000, "idle: connections to open")
	fs.IntVar(&o.watchers, "watchers", 2000, "fanout: watchers of the one chat")
	fs.IntVar(&o.chats, "chats", 0, "chats: chats streaming at once (default 500); idle: chats the connections spread over (default 1)")
	fs.IntVar(&o.perChat, "per-chat", 4, "chats: watchers per chat")
	fs.IntVar(&o.runs, "runs", 0, "messages sent one after another in each chat (default 5 for fanout, 3 for chats)")
	fs.IntVar(&o.tokens, "tokens", 0, "tokens in each echo answer, ATRIUM_ECHO_TOKENS (default 100 for fanout, 40 for chats)")
	fs.Float64Var(&o.rate, "rate", 0, "echo tokens per second, ATRIUM_ECHO_RATE (default 50 for fanout, 20 for chats)")
	fs.IntVar(&o.concurrency, "concurrency", 200, "connections opened at once; openai: requests in flight in the throughput measurement")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "pause after connecting, before measuring or sending")
	fs.IntVar(&o.sendQueue, "send-queue", 0, "ATRIUM_SEND_QUEUE for the server started (0: its default)")
	fs.BoolVar(&o.check, "check", false, "exit with status 1 when a target is missed")
	fs.StringVar(&o.serverURL, "server", "", "use the Atrium at this URL (http://host:port) instead of starting one")
	fs.IntVar(&o.pid, "pid", 0, "with -server: the server's process id, for its RSS and CPU")
	fs.StringVar(&o.bin, "bin", "", "atrium binary to start (default: build ./cmd/atrium of this module)")
	fs.BoolVar(&o.keep, "keep", false, "keep each started server's data directory and log")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.BoolVar(&o.quiet, "q", false, "no progress lines on stderr")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write the load generator's own CPU profile to this file")
	fs.BoolVar(&o.stagger, "stagger", true, "chats: start the chats' first messages spread over one answer's duration (false: all at the same instant)")
	fs.DurationVar(&o.openaiLatency, "openai-latency", 20*time.Millisecond, "openai: the mock upstream's time to first byte (throughput and streams; latency uses none)")
	fs.IntVar(&o.openaiTokens, "openai-tokens", 20, "openai: content tokens in each answer")
	fs.Float64Var(&o.openaiRate, "openai-rate", 20, "openai: streamed tokens per second of each stream")
	fs.IntVar(&o.openaiTools, "openai-tools", 0, "openai: tool calls after the content of each answer (the requests then offer a tool)")
	fs.IntVar(&o.openaiStreams, "openai-streams", 512, "openai: streams in flight in the streams measurement")
	fs.StringVar(&o.openaiModel, "openai-model", "gpt-4o-mini", "openai: the catalogue model asked for")
	fs.StringVar(&o.openaiMock, "openai-mock", "127.0.0.1:0", "openai: address of the mock upstream (with -server, start that server with OPENAI_BASE_URL=http://<this>/v1)")
	fs.StringVar(&o.openaiMeasures, "openai-measure", strings.Join(openaiMeasures, ","), "openai: the measurements to run, of "+strings.Join(openaiMeasures, ","))
	fs.DurationVar(&o.duration, "duration", 6*time.Second, "openai: how long each side (straight, through atrium) of each measurement is measured")
	fs.IntVar(&o.requests, "requests", 0, "openai: when > 0, at most this many measured requests per side")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "openai: requests sent before each side is measured")
	fs.StringVar(&o.openaiAuth, "openai-auth", "key", "openai: key (a user API key, atk_…) or jwt (the login token) as the bearer")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: loadtest [flags]\n\n"+
			"Starts Atrium (or uses -server) and measures it: idle connections' memory,\n"+
			"one chat fanned out to many watchers, many chats streaming at once, and\n"+
			"what its OpenAI-compatible API adds to an upstream's latency.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch o.scenario {
	case "idle", "fanout", "chats", "openai", "all":
	default:
		return o, fmt.Errorf("-scenario %q: want idle, fanout, chats, openai or all", o.scenario)
	}
	for _, m := range strings.Split(o.openaiMeasures, ",") {
		if !slices.Contains(openaiMeasures, m) {
			return o, fmt.Errorf("-openai-measure %q: want some of %s", m, strings.Join(openaiMeasures, ","))
		}
	}
	if o.openaiAuth != "key" && o.openaiAuth != "jwt" {
		return o, fmt.Errorf("-openai-auth %q: want key or jwt", o.openaiAuth)
	}
	if o.openaiTokens < 0 || o.openaiTools < 0 || o.openaiStreams < 1 || o.openaiRate < 0 || o.openaiLatency < 0 || o.duration <= 0 || o.requests < 0 || o.warmup < 0 {
		return o, errors.New("-openai-* counts, rates and durations must be positive (and -duration more than 0)")
	}
	switch o.transport {
	case transportWS, transportSIO, transportSSE:
	default:
		return o, fmt.Errorf("-transport %q: want ws, sio or sse", o.transport)
	}
	if o.n < 1 || o.watchers < 1 || o.perChat < 1 || o.chats < 0 || o.runs < 0 || o.tokens < 0 || o.concurrency < 1 {
		return o, errors.New("counts must be positive")
	}
	if o.pid != 0 && o.serverURL == "" {
		return o, errors.New("-pid goes with -server")
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadtest: -cpuprofile:", err)
			os.Exit(2)
		}
		defer f.Close()
	}
	code := run(ctx, o, os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	cancel()
	stop()
	os.Exit(code)
}

// job is one scenario to run, with the server settings it needs.
type job struct {
	name string
	cfg  serverConfig
	run  func(ctx context.Context, srv *server) (verdict, error)
	sio  bool // needs /socket.io/
}

// run runs the scenarios of o, printing one block each to stdout. It
// returns the exit status: 0, 1 when -check and a target was missed, 2 on
// an error.
func run(ctx context.Context, o options, stdout, stderr io.Writer) int {
	progress := func(format string, args ...any) {
		if !o.quiet {
			fmt.Fprintf(stderr, "# "+format+"\n", args...)
		}
	}
	if lim, err := raiseFileLimit(); err != nil {
		fmt.Fprintln(stderr, "loadtest: raise the open-file limit:", err)
	} else {
		progress("open-file limit %d", lim)
	}

	var jobs []job
	idle := func(transport string) job {
		spec := idleSpec{transport: transport, n: o.n, chats: orDefault(o.chats, 1), concurrency: o.concurrency, settle: o.settle}
		return job{
			name: "idle " + transport,
			cfg:  serverConfig{echoRate: 20, echoTokens: 40, sendQueue: o.sendQueue},
			sio:  transport == transportSIO,
			run: func(ctx context.Context, srv *server) (verdict, error) {
				r, err := runIdle(ctx, srv, spec, progress)
				if err != nil {
					return verdict{}, err
				}
				r.print(stdout)
				return r.verdict(), nil
			},
		}
	}
	stream := func(spec streamSpec) job {
		runners := 0
		if spec.chats > 256 {
			runners = spec.chats // every chat's run at once
		}
		return job{
			name: spec.name + " " + spec.transport,
			cfg:  serverConfig{echoRate: spec.rate, echoTokens: spec.tokens, sendQueue: o.sendQueue, runners: runners},
			sio:  spec.transport == transportSIO,
			run: func(ctx context.Context, srv *server) (verdict, error) {
				r, err := runStream(ctx, srv, spec, progress)
				if err != nil {
					return verdict{}, err
				}
				r.print(stdout)
				return r.verdict(), nil
			},
		}
	}
	fanout := streamSpec{
		name: "fanout", transport: o.transport, chats: 1, perChat: o.watchers,
		runs: orDefault(o.runs, 5), tokens: orDefault(o.tokens, 100), rate: orDefaultF(o.rate, 50),
		concurrency: o.concurrency, settle: o.settle,
	}
	chats := streamSpec{
		name: "chats", transport: o.transport, chats: orDefault(o.chats, 500), perChat: o.perChat,
		runs: orDefault(o.runs, 3), tokens: orDefault(o.tokens, 40), rate: orDefaultF(o.rate, 20),
		concurrency: o.concurrency, settle: o.settle, stagger: o.stagger,
	}
	switch o.scenario {
	case "idle":
		jobs = append(jobs, idle(o.transport))
	case "fanout":
		jobs = append(jobs, stream(fanout))
	case "chats":
		jobs = append(jobs, stream(chats))
	case "openai":
		// The mock upstream must listen before the server starts.
		key := "sk-loadtest-mock"
		if o.serverURL != "" {
			key = "" // a server we did not start has whatever key it has
		}
		mock, err := startMockOpenAI(o.openaiMock, key, mockConfig{model: o.openaiModel})
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
		defer mock.close()
		progress("openai: mock upstream at %s/v1", mock.url)
		spec := openaiSpec{
			model: o.openaiModel, latency: o.openaiLatency, tokens: o.openaiTokens, rate: o.openaiRate, toolCalls: o.openaiTools,
			concurrency: o.concurrency, streams: o.openaiStreams, duration: o.duration, requests: o.requests, warmup: o.warmup,
			measures: strings.Split(o.openaiMeasures, ","), jwt: o.openaiAuth == "jwt",
		}
		jobs = append(jobs, job{
			name: "openai",
			cfg:  serverConfig{echoRate: 20, echoTokens: 40, env: openaiEnv(mock)},
			run: func(ctx context.Context, srv *server) (verdict, error) {
				r, err := runOpenAI(ctx, srv, mock, spec, progress)
				if err != nil {
					return verdict{}, err
				}
				r.print(stdout)
				return r.verdict(), nil
			},
		})
	case "all":
		// Not openai: it measures another surface, and adds a minute.
		jobs = append(jobs, idle(transportWS), idle(transportSIO), idle(transportSSE), stream(fanout), stream(chats))
	}

	bin := o.bin
	if o.serverURL == "" && bin == "" {
		dir, err := os.MkdirTemp("", "atrium-loadtest-bin-")
		if err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
		defer os.RemoveAll(dir)
		progress("building ./cmd/atrium")
		if bin, err = buildServer(ctx, dir); err != nil {
			fmt.Fprintln(stderr, "loadtest:", err)
			return 2
		}
	}

	code := 0
	for _, j := range jobs {
		if ctx.Err() != nil {
			fmt.Fprintln(stderr, "loadtest:", ctx.Err())
			return 2
		}
		v, err := runJob(ctx, o, bin, j, progress, stdout)
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "%s: ERROR: %v\n", j.name, err)
			code = 2
		case v.target != "" && !v.pass && o.check && code == 0:
			code = 1
		}
	}
	return code
}

// errNoSocketIO skips a Socket.IO scenario on a server without it.
var errNoSocketIO = errors.New("the server does not serve Socket.IO at /socket.io/")

// runJob starts a server for j (or uses -server), runs j and stops the
// server.
func runJob(ctx context.Context, o options, bin string, j job, progress func(string, ...any), stdout io.Writer) (verdict, error) {
	var srv *server
	if o.serverURL != "" {
		srv = attachServer(o.serverURL, o.pid)
		if o.pid > 0 {
			cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", o.pid))
			if err != nil {
				return verdict{}, fmt.Errorf("-pid %d: %w", o.pid, err)
			}
			if !strings.Contains(string(cmd), "atrium") {
				progress("warning: -pid %d runs %q, not atrium: its RSS and CPU are not the server's", o.pid, strings.ReplaceAll(string(cmd), "\x00", " "))
			}
		}
	} else {
		var err error
		progress("%s: starting atrium (echo %d tokens at %g/s)", j.name, j.cfg.echoTokens, j.cfg.echoRate)
		if srv, err = startServer(ctx, bin, j.cfg); err != nil {
			return verdict{}, err
		}
		srv.keep = o.keep
		defer srv.stop()
		progress("%s: atrium pid %d at %s", j.name, srv.pid, srv.base)
	}
	if j.sio && !newAPI(srv.base).servesSocketIO(ctx) {
		if o.scenario == "all" {
			fmt.Fprintf(stdout, "%s: skipped: %v\n", j.name, errNoSocketIO)
			return verdict{}, nil
		}
		return verdict{}, errNoSocketIO
	}
	v, err := j.run(ctx, srv)
	if err == nil && !srv.alive() {
		err = fmt.Errorf("the server exited during the scenario: %s", srv.logTail())
	}
	if err != nil && srv.cmd != nil && o.keep {
		err = fmt.Errorf("%w (server log: %s)", err, strings.TrimSuffix(srv.dir, "/")+"/server.log")
	}
	return v, err
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

func orDefaultF(v, def float64) float64 {
	if v > 0 {
		return v
	}
	return def
}
