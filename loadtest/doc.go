// Command loadtest is Atrium's load generator. It talks to Atrium only over
// the network (REST, /ws, SSE and Socket.IO), exactly as clients do, and
// imports nothing of Atrium's own packages.
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
//	fanout   one chat, -watchers watchers and one sender; the echo agent
//	         streams -tokens tokens at -rate tokens/s, -runs times in a row.
//	chats    -chats chats with -per-chat watchers each and a sender per
//	         chat, all streaming at once.
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
//
// Examples:
//
//	go run ./loadtest -scenario idle -transport ws -n 10000
//	go run ./loadtest -scenario fanout -watchers 2000 -rate 50 -runs 5
//	go run ./loadtest -scenario chats -chats 500 -per-chat 4 -check
//	make loadtest LOADTEST_ARGS='-scenario all -check'
package main
