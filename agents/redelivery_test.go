package agents_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// flakyQueue is a run queue whose enqueues fail while fail is set, as when
// NATS is away between storing a message and queueing its runs.
type flakyQueue struct {
	q    agents.RunQueue
	fail atomic.Bool
}

func (f *flakyQueue) Enqueue(ctx context.Context, agent, id string, data []byte) error {
	if f.fail.Load() {
		return errors.New("nats: no responders available for request")
	}
	return f.q.Enqueue(ctx, agent, id, data)
}

// redeliveryEnv is a liveEnv whose runners the test starts and stops.
type redeliveryEnv struct {
	*liveEnv
	bus   *bus.Bus
	queue *bus.RunQueue
	flaky *flakyQueue
}

// newRedeliveryEnv wires a database, NATS, a chat whose workspace has one
// agent on model "m", and Conversations queueing through a flakyQueue; no
// runner runs until startRunner.
func newRedeliveryEnv(t *testing.T, qc bus.RunQueueConfig) *redeliveryEnv {
	t.Helper()
	ctx := context.Background()
	db := sqldbtest.Open(t)
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	log, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := b.RunQueue(ctx, qc)
	if err != nil {
		t.Fatal(err)
	}
	e := &redeliveryEnv{bus: b, queue: queue, flaky: &flakyQueue{q: queue}, liveEnv: &liveEnv{
		db: db, ws: workspaces.New(db, workspaces.Config{}), log: log, events: make(chan agents.Envelope, 1000),
	}}
	e.ag = agents.New(db, e.ws)
	e.conv = agents.NewConversations(db, e.ws, agents.NewEvents(log), e.flaky, b.Conn, agents.ConversationsConfig{})
	e.owner, _ = e.ws.Register(ctx, "owner@x.io", "pw")
	w, _ := e.ws.CreateWorkspace(ctx, e.owner.ID, "W")
	c, _, err := e.ws.CreateChat(ctx, e.owner.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.wsID, e.chat = w.ID, c.ID
	if e.agent, err = e.ag.Create(ctx, e.owner.ID, agents.NewAgent{Name: "Helper", ModelID: "m"}); err != nil {
		t.Fatal(err)
	}
	if err := e.ag.Attach(ctx, e.owner.ID, w.ID, e.agent.ID); err != nil {
		t.Fatal(err)
	}
	e.watch(t)
	b.Conn.Flush()
	return e
}

// startRunner runs a runner configured by rc; the returned func stops it
// and waits until it has handed back its runs.
func (e *redeliveryEnv) startRunner(t *testing.T, rc agents.RunnerConfig) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := agents.NewRunner(e.conv, e.queue, rc)
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// waitRun polls the run's result until it is final.
func (e *redeliveryEnv) waitRun(t *testing.T, run agents.RunID) agents.RunResult {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := e.conv.RunResult(context.Background(), e.agent.ID, run)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status == agents.RunCompleted || res.Status == agents.RunFailed || res.Status == agents.RunCancelled {
			return res
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %s", run, res.Status)
		}
		<-tick.C
	}
}

// runOf is the run of the only message of chat with content.
func (e *redeliveryEnv) runOf(t *testing.T, content string) agents.RunID {
	t.Helper()
	var id string
	err := e.db.NewSelect().Model((*sqldb.Run)(nil)).Column("id").
		Where("message_id IN (SELECT id FROM messages WHERE content = ?)", content).Scan(context.Background(), &id)
	if err != nil {
		t.Fatalf("run of %q: %v", content, err)
	}
	return agents.RunID(id)
}

// Runs stored but never queued (the enqueue failed, or the process died
// before it) are queued by the runners' sweep, at start and later on, and
// answered: API requests (Ask) and chat messages (Send) alike.
func TestSweepQueuesRunsLeftUnqueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRedeliveryEnv(t, bus.RunQueueConfig{})
	e.flaky.fail.Store(true)
	if _, err := e.conv.Ask(ctx, agents.Ask{Agent: e.agent, Content: "asked", Source: "async"}); err == nil {
		t.Fatal("Ask succeeded with the queue down")
	}
	if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "sent", ""); err == nil {
		t.Fatal("Send succeeded with the queue down")
	}
	asked, sent := e.runOf(t, "asked"), e.runOf(t, "sent")
	if res, err := e.conv.RunResult(ctx, e.agent.ID, asked); err != nil || res.Status != agents.RunQueued {
		t.Fatalf("the stored request = %+v, %v; want queued", res, err)
	}
	e.flaky.fail.Store(false)

	// The sweep takes any undelivered message (no grace) on start, then
	// every 10 ms.
	rc := agents.RunnerConfig{
		Models:         models{"m": &scripted{tokens: []string{"ans", "wer"}}},
		RedeliverAfter: time.Nanosecond,
		RedeliverEvery: 10 * time.Millisecond,
	}
	e.startRunner(t, rc)
	for _, run := range []agents.RunID{asked, sent} {
		if res := e.waitRun(t, run); res.Status != agents.RunCompleted || res.Answer != "answer" {
			t.Fatalf("run %s = %+v, want completed with the answer", run, res)
		}
	}
	// The chat saw its message announced once, then the answer.
	got := e.until(t, agents.EventRunCompleted)
	created := 0
	for _, env := range got {
		if env.Type == agents.EventMessageCreated {
			created++
		}
	}
	if created != 1 || got[0].Type != agents.EventMessageCreated {
		t.Fatalf("events %v: want one message.created first", got)
	}
	// The sweep marks a message delivered after queueing its runs, so a
	// quick runner may have answered first: wait for the mark.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := e.db.NewSelect().Model((*sqldb.Message)(nil)).Where("role = 'user' AND delivered = FALSE").Count(ctx)
		if err == nil && n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages left undelivered (%v)", n, err)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A request left unqueued while the runner runs is swept later on.
	e.flaky.fail.Store(true)
	if _, err := e.conv.Ask(ctx, agents.Ask{Agent: e.agent, Content: "later", Source: "async"}); err == nil {
		t.Fatal("Ask succeeded with the queue down")
	}
	e.flaky.fail.Store(false)
	if res := e.waitRun(t, e.runOf(t, "later")); res.Status != agents.RunCompleted {
		t.Fatalf("later run = %+v, want completed", res)
	}
}

// logLines sends the messages logged to it to a channel.
type logLines chan string

func (l logLines) Enabled(context.Context, slog.Level) bool { return true }
func (l logLines) Handle(_ context.Context, r slog.Record) error {
	select {
	case l <- r.Message:
	default:
	}
	return nil
}
func (l logLines) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logLines) WithGroup(string) slog.Handler      { return l }

// A runner still working on a run that a later delivery took over (it
// went silent past the ack wait) stores no outcome: only one answer, and
// one charge, per run.
func TestSupersededRunnerStoresNoOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newRedeliveryEnv(t, bus.RunQueueConfig{})
	gate := make(chan struct{})
	logs := make(logLines, 100)
	e.startRunner(t, agents.RunnerConfig{Models: models{"m": &scripted{tokens: []string{"late"}, gate: gate}}, Logger: slog.New(logs)})
	if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "q", ""); err != nil {
		t.Fatal(err)
	}
	e.until(t, agents.EventRunStarted)
	run := e.runOf(t, "q")
	// What a second delivery's claim does to the row.
	if _, err := e.db.NewUpdate().Model((*sqldb.Run)(nil)).Set("delivery = 2").Where("id = ?", string(run)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	close(gate)
	timeout := time.After(20 * time.Second)
	for msg := ""; !strings.Contains(msg, "taken over"); {
		select {
		case msg = <-logs:
		case <-timeout:
			t.Fatal("the superseded runner did not drop its outcome")
		}
	}
	var row sqldb.Run
	if err := e.db.NewSelect().Model(&row).Where("id = ?", string(run)).Scan(ctx); err != nil || row.Status != string(agents.RunRunning) {
		t.Fatalf("run = %+v, %v; want still running, for the later delivery", row, err)
	}
	if n, _ := e.db.NewSelect().Model((*sqldb.Message)(nil)).Where("run_id = ?", string(run)).Count(ctx); n != 0 {
		t.Fatalf("the superseded runner stored %d answers", n)
	}
}
