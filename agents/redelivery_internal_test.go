package agents

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// hanging is a model that answers nothing until its run's context ends;
// started receives a value each time it is asked.
type hanging struct{ started chan struct{} }

func (h hanging) Stream(ctx context.Context, _ ModelRequest, _ func(Delta) error) (ModelResponse, error) {
	h.started <- struct{}{}
	<-ctx.Done()
	return ModelResponse{}, ctx.Err()
}

func (h hanging) Provider(string) (Provider, string, bool) { return h, "m", true }

// A run whose every delivery ends without an outcome (its runner goes away
// mid-run) ends failed, with the reason, once its deliveries run out; the
// result says so, and the chat gets run.failed.
func TestRunThatRunsOutOfDeliveriesFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := sqldbtest.Open(t)
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	log, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := b.RunQueue(ctx, bus.RunQueueConfig{MaxDeliver: 2})
	if err != nil {
		t.Fatal(err)
	}
	ws := workspaces.New(db, workspaces.Config{})
	conv := NewConversations(db, ws, NewEvents(log), queue, b.Conn, ConversationsConfig{})
	owner, _ := ws.Register(ctx, "owner@x.io", "pw")
	w, _ := ws.CreateWorkspace(ctx, owner.ID, "W")
	chat, _, err := ws.CreateChat(ctx, owner.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	ag := New(db, ws)
	a, err := ag.Create(ctx, owner.ID, NewAgent{Name: "Helper", ModelID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := ag.Attach(ctx, owner.ID, w.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	failed := make(chan bus.Entry, 1)
	sub, err := log.Subscribe(bus.ChatSubject(string(w.ID), string(chat.ID)), func(e bus.Entry) {
		var env Envelope
		if json.Unmarshal(e.Data, &env) == nil && env.Type == EventRunFailed {
			failed <- e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	b.Conn.Flush()

	// One consumer stays up for every delivery, and each delivery is
	// handled by the runner under a context of its own: ending that
	// context is its runner going away (it hands the run back at once).
	model := hanging{started: make(chan struct{})}
	r := NewRunner(conv, queue, RunnerConfig{Models: model})
	goAway := make(chan context.CancelFunc)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		queue.Consume(ctx, 4, func(ctx context.Context, d bus.RunDelivery) {
			dctx, leave := context.WithCancel(ctx)
			defer leave()
			select {
			case goAway <- leave:
			case <-ctx.Done():
				return
			}
			r.handle(dctx, d)
		})
	}()
	defer func() { cancel(); <-consumed }()

	sent, err := conv.Send(ctx, w.ID, chat.ID, owner.ID, "never answered", "")
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	for attempt := 1; attempt <= 2; attempt++ {
		var leave context.CancelFunc
		select {
		case leave = <-goAway:
		case <-timeout:
			t.Fatalf("no delivery %d", attempt)
		}
		select {
		case <-model.started:
		case <-timeout:
			t.Fatalf("attempt %d did not start", attempt)
		}
		leave()
	}
	select {
	case <-goAway: // the third delivery: given up, not worked on
	case <-timeout:
		t.Fatal("no third delivery")
	}
	const want = "the run was attempted 2 times and did not finish"
	select {
	case e := <-failed:
		if !strings.Contains(string(e.Data), `"code":"attempts_exhausted","message":"`+want+`"`) {
			t.Fatalf("run.failed = %s, want %q", e.Data, want)
		}
	case <-timeout:
		t.Fatal("no run.failed")
	}
	res, err := conv.RunResult(ctx, a.ID, sent.Runs[0])
	if err != nil || res.Status != RunFailed || res.Error != want {
		t.Fatalf("result = %+v, %v; want failed: %s", res, err, want)
	}
	msgs, _, _ := conv.Messages(ctx, owner.ID, chat.ID, "", 10)
	if len(msgs) != 2 || msgs[1].Status != "failed" || msgs[1].Error != want {
		t.Fatalf("stored = %+v, want the question and a failed answer", msgs)
	}
}
