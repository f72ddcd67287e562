// Command loadtest is Atrium's load generator. It talks to Atrium only over
// the network (REST, /ws, SSE, Socket.IO and the OpenAI-compatible API),
// exactly as clients do, and imports nothing of Atrium's own packages.
//
// By default it builds ./cmd/atrium, starts `atrium serve` on a random
// loopback port with a fresh data directory for each scenario, sets the echo
// model's rate and length through ATRIUM_ECHO_RATE / ATRIUM_ECHO_TOKENS,
// reads the server's memory (VmRSS) and CPU time from /proc/<pid>, and stops
// the server afterwards. With -server it uses a server that is already
// running instead (give -pid for its memory and CPU).
//
// Scenarios (-scenario):
//
//	idle     open -n connections over -transport (ws, sio or sse), each
//	         joined to a chat, and report the server's RSS per connection.
//	fanout   one chat, -watchers watchers, the first of them the sender;
//	         the echo agent streams -tokens tokens at -rate tokens/s, -runs
//	         times in a row.
//	chats    -chats chats with -per-chat watchers each, the first of each
//	         chat its sender, all streaming at once. (Watchers on SSE
//	         cannot send: each chat then has a /ws sender besides.)
//	openai   what the OpenAI-compatible API (POST /v1/chat/completions)
//	         adds to an upstream's latency; see below. Not in all: it
//	         measures another surface and takes about a minute.
//	all      idle (ws, sio when served, sse), fanout and chats.
//
// Idle memory: the server's VmRSS is read once it is steady (four
// half-second samples within 512 KiB), before the first connection (after
// making the server allocate and drop a few hundred MiB of request bodies,
// so the setup's garbage, mostly password hashing, is collected), with
// half the connections open, and with all open; per_conn is
// (after − before) / connections and marginal the cost of the second half.
// after_gc_cycle repeats the reading after another burst of garbage: a busy
// server's heap sits nearer twice its live size.
//
// For every run.delta and run.completed a watcher receives, the delivery
// latency is its receive time minus the envelope's ts (set when the server
// published the event). Losses are gaps in a watcher's sequence numbers
// (and events after its last one that it never got); duplicates are
// sequence numbers it saw twice. CPU is in percent of one core, over the
// streaming window, for the server, the load generator and everything else
// on the machine (the load generator shares the server's cores, and other
// work on the machine skews the figures; the report shows how much). With
// -check the exit status is 1 when a target is missed (2 on an error):
//
//	idle ws   ≤ 12 KiB of server RSS per connection
//	idle sio  ≤ 24 KiB of server RSS per connection
//	fanout    p99 ≤ 50 ms, nothing lost, duplicated or disconnected
//	chats     p99 ≤ 50 ms, nothing lost, duplicated or disconnected
//	openai    latency: p99 added ≤ 0.5 ms; throughput: ≥ 5,000 requests/s
//	          through Atrium; streams: time to first token p99 added
//	          ≤ 0.5 ms; no errors in any
//
// The openai scenario runs a mock OpenAI-compatible upstream in the load
// generator's own process (on -openai-mock, 127.0.0.1:0 by default),
// starts Atrium with OPENAI_BASE_URL pointing at it (and an OPENAI_API_KEY
// the mock checks), registers a user and makes it a user API key (POST
// /api/keys/; the login JWT with -openai-auth jwt, or when that fails),
// and asks for -openai-model. Every measurement sends the same requests
// straight to the mock and through Atrium, in the same run, and reports
// the client-observed figures of both and what Atrium adds (the
// difference of the two sides' quantiles). The mock answers in OpenAI's wire format from answers
// encoded once: -openai-tokens content tokens, then -openai-tools tool
// calls when the request offers a tool, a usage chunk when
// stream_options.include_usage asks. It waits -openai-latency before the
// first byte and streams -openai-rate pieces a second; a non-streamed
// answer comes when a stream's last piece would. Each content token is a
// space and 19 digits, the time the mock wrote it, so a client can tell
// each chunk's latency. The client keeps its connections alive, checks
// every answer with a few byte searches and decodes one in 64 in full.
//
//	latency     one non-streamed request at a time, straight and through
//	            Atrium taking turns, for twice -duration; the mock answers
//	            at once (no latency, so timer jitter does not hide what
//	            Atrium adds).
//	throughput  -concurrency non-streamed requests in flight against a
//	            mock with -openai-latency, -duration each side; requests/s
//	            through Atrium and straight (what the load generator and
//	            mock manage on this machine), and errors.
//	streams     -openai-streams streams in flight (512), started spread over
//	            one answer's time, -duration each side: time to first
//	            token, chunk latency (each token's write by the mock to its
//	            read by the client) and the gap between chunks.
//
// Each side starts with -warmup of requests that are not measured;
// -requests caps the measured ones. The report also says how many
// upstream requests and new upstream connections each request through
// Atrium caused: Atrium's upstream client should keep its connections.
// The mock shares the load generator's CPU (loadgen in the report).
//
// Examples:
//
//	go run ./loadtest -scenario idle -transport ws -n 10000
//	go run ./loadtest -scenario fanout -watchers 2000 -rate 50 -runs 5
//	go run ./loadtest -scenario chats -chats 500 -per-chat 4 -check
//	go run ./loadtest -scenario openai -concurrency 300 -duration 10s
//	go run ./loadtest -scenario openai -openai-measure streams -openai-rate 50 -openai-tools 1
//	make loadtest LOADTEST_ARGS='-scenario all -check'
package main
