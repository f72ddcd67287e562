package agents_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/persistence/sqldb/sqldbtest"
	"github.com/atrium-hq/atrium/workspaces"
)

// scripted is a model that answers with fixed tokens, one per release on
// gate (or at once when gate is nil), or fails with err after them.
type scripted struct {
	tokens []string
	gate   chan struct{}
	err    error
}

func (s *scripted) Stream(ctx context.Context, req agents.ModelRequest, emit func(agents.Delta) error) (agents.ModelResponse, error) {
	var text strings.Builder
	for _, tok := range s.tokens {
		if s.gate != nil {
			select {
			case <-s.gate:
			case <-ctx.Done():
				return agents.ModelResponse{}, ctx.Err()
			}
		}
		if err := emit(agents.Delta{Text: tok}); err != nil {
			return agents.ModelResponse{}, err
		}
		text.WriteString(tok)
	}
	return agents.ModelResponse{Text: text.String(), FinishReason: agents.FinishStop}, s.err
}

type models map[string]agents.Provider

func (m models) Provider(name string) (agents.Provider, string, bool) {
	p, ok := m[name]
	return p, name, ok
}

type liveEnv struct {
	db     *sqldb.DB
	agent  agents.Agent
	ws     *workspaces.Service
	ag     *agents.Service
	conv   *agents.Conversations
	log    *bus.ChatLog
	owner  workspaces.User
	wsID   workspaces.WorkspaceID
	chat   workspaces.ChatID
	events chan agents.Envelope
}

// newLiveEnv wires a database, NATS, a runner with m, and a chat whose
// workspace has one agent on model; events receives the chat's events.
func newLiveEnv(t *testing.T, m models, model string) *liveEnv {
	t.Helper()
	return newLiveEnvWith(t, agents.RunnerConfig{Models: m}, model, "")
}

// newLiveEnvWith is newLiveEnv with a runner configured by rc and an agent
// configured by config (JSON; empty means {}).
func newLiveEnvWith(t *testing.T, rc agents.RunnerConfig, model, config string) *liveEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db := sqldbtest.Open(t)
	b, err := bus.Start(ctx, bus.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	log, err := b.ChatLog(ctx, bus.ChatLogConfig{})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := b.RunQueue(ctx, bus.RunQueueConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e := &liveEnv{db: db, ws: workspaces.New(db, workspaces.Config{}), log: log, events: make(chan agents.Envelope, 1000)}
	e.ag = agents.New(db, e.ws)
	e.conv = agents.NewConversations(db, e.ws, agents.NewEvents(log), queue, b.Conn, agents.ConversationsConfig{MaxContentBytes: 1000})
	runner := agents.NewRunner(e.conv, queue, rc)
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; b.Close() })

	e.owner, _ = e.ws.Register(ctx, "owner@x.io", "pw")
	w, _ := e.ws.CreateWorkspace(ctx, e.owner.ID, "W")
	c, _, err := e.ws.CreateChat(ctx, e.owner.ID, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	e.wsID, e.chat = w.ID, c.ID
	if model != "" {
		a, err := e.ag.Create(ctx, e.owner.ID, agents.NewAgent{Name: "Helper", ModelID: model, Config: config})
		if err != nil {
			t.Fatal(err)
		}
		e.agent = a
		if err := e.ag.Attach(ctx, e.owner.ID, w.ID, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.watch(t)
	b.Conn.Flush()
	return e
}

// watch sends the events of e.chat to e.events.
func (e *liveEnv) watch(t *testing.T) {
	t.Helper()
	sub, err := e.log.Subscribe(bus.ChatSubject(string(e.wsID), string(e.chat)), func(en bus.Entry) {
		var env agents.Envelope
		if err := json.Unmarshal(en.Data, &env); err != nil {
			t.Errorf("event %d is not JSON: %v: %s", en.Seq, err, en.Data)
		}
		e.events <- env
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
}

// newChat makes e.chat a new chat of the workspace, watched.
func (e *liveEnv) newChat(t *testing.T) {
	t.Helper()
	c, _, err := e.ws.CreateChat(context.Background(), e.owner.ID, e.wsID)
	if err != nil {
		t.Fatal(err)
	}
	e.chat = c.ID
	e.watch(t)
}

// until collects events up to and including the first of type typ.
func (e *liveEnv) until(t *testing.T, typ agents.EventType) []agents.Envelope {
	t.Helper()
	var got []agents.Envelope
	timeout := time.After(20 * time.Second)
	for {
		select {
		case env := <-e.events:
			got = append(got, env)
			if env.Type == typ {
				return got
			}
		case <-timeout:
			t.Fatalf("no %s event; got %+v", typ, got)
		}
	}
}

func TestSendStreamsAnAnswerAndStoresIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLiveEnv(t, models{"m": &scripted{tokens: []string{"Hel", "lo", " there"}}}, "m")

	sent, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "hi", "c-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Runs) != 1 || sent.Duplicate {
		t.Fatalf("Send = %+v, want one run", sent)
	}
	got := e.until(t, agents.EventRunCompleted)
	var text strings.Builder
	for i, env := range got {
		if env.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, env.Seq)
		}
		if env.ChatID != string(e.chat) || env.WorkspaceID != string(e.wsID) {
			t.Fatalf("event %+v names the wrong chat", env)
		}
		if env.Type == agents.EventRunDelta {
			var d struct{ Text string }
			json.Unmarshal(env.Data, &d)
			text.WriteString(d.Text)
		}
	}
	if got[0].Type != agents.EventMessageCreated || got[1].Type != agents.EventRunStarted || got[1].RunID != string(sent.Runs[0]) {
		t.Fatalf("first events = %s, %s", got[0].Type, got[1].Type)
	}
	var done struct {
		Message struct{ Content, Role, Status string }
	}
	json.Unmarshal(got[len(got)-1].Data, &done)
	if text.String() != "Hello there" || done.Message.Content != "Hello there" || done.Message.Role != "assistant" {
		t.Fatalf("deltas %q, final %+v", text.String(), done.Message)
	}

	// Sending the same client id again changes nothing.
	again, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "hi", "c-1")
	if err != nil || !again.Duplicate || again.Message.ID != sent.Message.ID {
		t.Fatalf("resend = %+v, %v; want the first message as a duplicate", again, err)
	}
	msgs, more, err := e.conv.Messages(ctx, e.owner.ID, e.chat, "", 10)
	if err != nil || more || len(msgs) != 2 || msgs[0].Content != "hi" || msgs[1].Content != "Hello there" {
		t.Fatalf("Messages = %+v, %v, %v", msgs, more, err)
	}
	// Pages go backwards from before.
	page, more, err := e.conv.Messages(ctx, e.owner.ID, e.chat, msgs[1].ID, 10)
	if err != nil || more || len(page) != 1 || page[0].ID != msgs[0].ID {
		t.Fatalf("page before the answer = %+v, %v, %v", page, more, err)
	}
	// Someone without a role in the workspace sees nothing.
	stranger, _ := e.ws.Register(ctx, "s@x.io", "pw")
	if _, _, err := e.conv.Messages(ctx, stranger.ID, e.chat, "", 10); workspaces.ErrorKind(err) == workspaces.KindInternal || err == nil {
		t.Fatalf("stranger reading messages: %v", err)
	}
}

// A message an earlier Send stored but did not deliver (it failed half-way)
// is delivered, with its runs, when its client id is sent again; once
// delivered, the client id answers as a duplicate.
func TestSendDeliversWhatAnEarlierSendLeftUndelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLiveEnv(t, models{"m": &scripted{tokens: []string{"ok"}}}, "m")
	now := time.Now().UTC()
	author, client := string(e.owner.ID), "c-9"
	left := &sqldb.Message{ID: workspaces.NewID(), ChatID: string(e.chat), WorkspaceID: string(e.wsID), Role: "user",
		AuthorID: &author, ClientID: &client, Content: "hello?", Status: "complete", CreatedAt: now}
	run := &sqldb.Run{ID: workspaces.NewID(), ChatID: string(e.chat), WorkspaceID: string(e.wsID), AgentID: string(e.agent.ID),
		MessageID: left.ID, Status: string(agents.RunQueued), Source: "chat", CreatedAt: now}
	for _, row := range []any{left, run} {
		if _, err := e.db.NewInsert().Model(row).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}

	sent, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "hello?", client)
	if err != nil || sent.Duplicate || string(sent.Message.ID) != left.ID || len(sent.Runs) != 1 || string(sent.Runs[0]) != run.ID {
		t.Fatalf("Send = %+v, %v; want the stored message and its run, delivered", sent, err)
	}
	got := e.until(t, agents.EventRunCompleted)
	if got[0].Type != agents.EventMessageCreated || got[1].RunID != run.ID {
		t.Fatalf("events %s, %s (run %s); want message.created, then run %s", got[0].Type, got[1].Type, got[1].RunID, run.ID)
	}
	again, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "hello?", client)
	if err != nil || !again.Duplicate || string(again.Message.ID) != left.ID {
		t.Fatalf("third Send = %+v, %v; want a duplicate", again, err)
	}
	if n, err := e.db.NewSelect().Model((*sqldb.Message)(nil)).Where("chat_id = ?", string(e.chat)).Count(ctx); err != nil || n != 2 {
		t.Fatalf("messages in the chat: %d, %v; want the question and its answer", n, err)
	}
}

func TestStopCancelsARunningRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gate := make(chan struct{})
	e := newLiveEnv(t, models{"slow": &scripted{tokens: []string{"a", "b", "c"}, gate: gate}}, "slow")
	sent, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "go", "")
	if err != nil {
		t.Fatal(err)
	}
	e.until(t, agents.EventRunStarted)
	gate <- struct{}{}
	e.until(t, agents.EventRunDelta)
	if _, err := e.conv.Stop(ctx, e.chat, sent.Runs[0]); err != nil {
		t.Fatal(err)
	}
	got := e.until(t, agents.EventRunCancelled)
	var d struct {
		Message struct{ Content, Status string }
	}
	json.Unmarshal(got[len(got)-1].Data, &d)
	if d.Message.Content != "a" || d.Message.Status != "cancelled" {
		t.Fatalf("cancelled run kept %+v, want the partial answer", d.Message)
	}
	if st, err := e.conv.Stop(ctx, e.chat, sent.Runs[0]); err != nil || st != agents.RunCancelled {
		t.Fatalf("stopping again = %s, %v", st, err)
	}
	if _, err := e.conv.Stop(ctx, e.chat, "0123456789abcdef0123456789abcdef"); workspaces.ErrorKind(err) != workspaces.KindNotFound {
		t.Fatalf("stopping an unknown run = %v", err)
	}
}

func TestFailingRunsEndWithRunFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLiveEnv(t, models{"bad": &scripted{tokens: []string{"par"}, err: errors.New("upstream said 503")}}, "bad")
	if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "x", ""); err != nil {
		t.Fatal(err)
	}
	got := e.until(t, agents.EventRunFailed)
	var d struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(got[len(got)-1].Data, &d)
	if d.Error.Code != "provider_error" || !strings.Contains(d.Error.Message, "503") {
		t.Fatalf("run.failed data = %s", got[len(got)-1].Data)
	}
	// The partial answer and the error are stored.
	msgs, _, _ := e.conv.Messages(ctx, e.owner.ID, e.chat, "", 10)
	if len(msgs) != 2 || msgs[1].Status != "failed" || msgs[1].Content != "par" || msgs[1].Error == "" {
		t.Fatalf("stored = %+v", msgs)
	}
}

func TestUnknownModelFailsTheRun(t *testing.T) {
	t.Parallel()
	e := newLiveEnv(t, models{}, "gpt-nope")
	if _, err := e.conv.Send(context.Background(), e.wsID, e.chat, e.owner.ID, "x", ""); err != nil {
		t.Fatal(err)
	}
	got := e.until(t, agents.EventRunFailed)
	if !strings.Contains(string(got[len(got)-1].Data), `"model_unavailable"`) {
		t.Fatalf("run.failed = %s", got[len(got)-1].Data)
	}
}

func TestSendRefusesBadContent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLiveEnv(t, models{}, "")
	cases := map[string]struct {
		content, client string
		kind            workspaces.Kind
	}{
		"empty":     {" \n", "", workspaces.KindInvalid},
		"huge":      {strings.Repeat("x", 1001), "", workspaces.KindTooLarge},
		"nul":       {"a\x00b", "", workspaces.KindInvalid},
		"badutf8":   {"\xff", "", workspaces.KindInvalid},
		"client id": {"ok", strings.Repeat("c", 200), workspaces.KindInvalid},
	}
	for name, c := range cases {
		if _, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, c.content, c.client); workspaces.ErrorKind(err) != c.kind || err == nil {
			t.Errorf("%s: err = %v, want %s", name, err, c.kind)
		}
	}
	// A chat with no agents is a chat between people: no runs.
	sent, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "just people", "")
	if err != nil || len(sent.Runs) != 0 {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	if got := e.until(t, agents.EventMessageCreated); got[0].Seq != 1 {
		t.Fatalf("first event seq %d", got[0].Seq)
	}
}

func TestConcurrentSendsWithOneClientIDStoreOneMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newLiveEnv(t, models{}, "")
	var wg sync.WaitGroup
	ids := make(chan agents.MessageID, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s, err := e.conv.Send(ctx, e.wsID, e.chat, e.owner.ID, "once", "same"); err == nil {
				ids <- s.Message.ID
			} else if workspaces.ErrorKind(err) != workspaces.KindConflict {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	close(ids)
	var first agents.MessageID
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("two messages stored: %s and %s", first, id)
		}
	}
	msgs, _, _ := e.conv.Messages(ctx, e.owner.ID, e.chat, "", 10)
	if len(msgs) != 1 {
		t.Fatalf("%d messages stored, want 1", len(msgs))
	}
}
