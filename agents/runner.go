package agents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// RunnerConfig tunes a Runner. The zero value works except for Models.
type RunnerConfig struct {
	// Models finds the provider of an agent's model.
	Models Models
	// Concurrency is how many runs this runner works on at once. Zero
	// means 256 (runs mostly wait on the model).
	Concurrency int
	// History is how many earlier messages of the chat a run sends to the
	// model. Zero means 50.
	History int
	// Logger receives run failures. Nil discards.
	Logger *slog.Logger
}

// Runner takes run requests from the queue, one runner per run, and answers
// them: it streams the answer as events and stores it.
type Runner struct {
	conv   *Conversations
	queue  *bus.RunQueue
	cfg    RunnerConfig
	agents agentCache
}

// agentTTL is how long the runner reuses an agent it loaded: busy chats
// start runs of the same agents many times a second, and a change to an
// agent reaches the runs that start this long after it.
const agentTTL = 2 * time.Second

// agentCache keeps recently loaded agents by id.
type agentCache struct {
	mu sync.Mutex
	m  map[string]cachedAgent
}

type cachedAgent struct {
	agent sqldb.Agent
	at    time.Time
}

func (c *agentCache) get(ctx context.Context, db *sqldb.DB, id string) (sqldb.Agent, error) {
	now := time.Now()
	c.mu.Lock()
	ca, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(ca.at) < agentTTL {
		return ca.agent, nil
	}
	var a sqldb.Agent
	if err := db.NewSelect().Model(&a).Where("id = ?", id).Scan(ctx); err != nil {
		return a, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = make(map[string]cachedAgent)
	}
	c.m[id] = cachedAgent{a, now}
	c.mu.Unlock()
	return a, nil
}

// NewRunner returns a Runner answering the runs conv queues on queue.
func NewRunner(conv *Conversations, queue *bus.RunQueue, cfg RunnerConfig) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 256
	}
	if cfg.History <= 0 {
		cfg.History = 50
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{conv: conv, queue: queue, cfg: cfg}
}

// Run answers runs until ctx is done, then waits for the runs it holds to
// hand them back (a run interrupted by shutdown is redelivered).
func (r *Runner) Run(ctx context.Context) error {
	return r.queue.Consume(ctx, r.cfg.Concurrency, r.handle)
}

// errStopped is the cause when someone stops a run.
var errStopped = errors.New("stopped")

func (r *Runner) handle(ctx context.Context, d bus.RunDelivery) {
	var req runRequest
	if err := json.Unmarshal(d.Data(), &req); err != nil || !workspaces.ValidID(string(req.RunID)) {
		r.cfg.Logger.Warn("dropping malformed run request", "data", string(d.Data()))
		d.Term()
		return
	}
	db := r.conv.db
	// Claim the run: queued (or running, when redelivered) becomes running.
	var run sqldb.Run
	now := r.conv.now().UTC()
	err := db.NewUpdate().Model(&run).
		Set("status = ?", string(RunRunning)).Set("attempts = attempts + 1").Set("started_at = ?", now).
		Where("id = ? AND status IN (?, ?)", string(req.RunID), string(RunQueued), string(RunRunning)).
		Returning("*").Scan(ctx)
	if sqldb.IsNoRows(err) { // its chat was deleted, or it was stopped or finished
		d.Term()
		return
	}
	if err != nil {
		r.cfg.Logger.Warn("claim run", "run", req.RunID, "err", err)
		d.NakWithDelay(time.Second)
		return
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sub, err := r.conv.conn.Subscribe(cancelSubject(RunID(run.ID)), func(*nats.Msg) { cancel(errStopped) })
	if err != nil {
		d.NakWithDelay(time.Second)
		return
	}
	defer sub.Unsubscribe()
	// Tell the queue the run is alive, well within its ack wait.
	go func() {
		t := time.NewTicker(r.queue.AckWait() / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				d.InProgress()
			}
		}
	}()

	outcome := r.answer(runCtx, &run)
	if ctx.Err() != nil && context.Cause(runCtx) != errStopped {
		// Shutting down: hand the run to another runner.
		d.Nak()
		return
	}
	if err := r.finish(context.WithoutCancel(ctx), &run, outcome); err != nil {
		r.cfg.Logger.Warn("finish run", "run", run.ID, "err", err)
		d.NakWithDelay(time.Second)
		return
	}
	d.Ack()
}

// outcome is how an answer ended.
type outcome struct {
	text    string
	status  RunStatus
	errCode string
	errMsg  string
}

// answer runs the model and streams its answer as run.delta events.
func (r *Runner) answer(ctx context.Context, run *sqldb.Run) outcome {
	ws, chat := workspaces.WorkspaceID(run.WorkspaceID), workspaces.ChatID(run.ChatID)
	agent, err := r.agents.get(ctx, r.conv.db, run.AgentID)
	if err != nil {
		return outcome{status: RunFailed, errCode: "agent_unavailable", errMsg: "the agent could not be loaded"}
	}
	if _, err := r.conv.events.Publish(ctx, ws, chat, EventRunStarted, run.ID, map[string]any{
		"agent": map[string]any{"id": agent.ID, "name": agent.Name}, "model": agent.ModelID,
		"message_id": run.MessageID, "attempt": run.Attempts,
	}); err != nil {
		return outcome{status: RunFailed, errCode: "internal", errMsg: "could not publish the run's events"}
	}
	provider, upstream, ok := r.cfg.Models.Provider(agent.ModelID)
	if !ok {
		return outcome{status: RunFailed, errCode: "model_unavailable", errMsg: fmt.Sprintf("model %q is not available on this server", agent.ModelID)}
	}
	history, err := r.history(ctx, run)
	if err != nil {
		return outcome{status: RunFailed, errCode: "internal", errMsg: "could not load the conversation"}
	}

	// Tokens are coalesced: while one run.delta is being published, the
	// next tokens gather and go out together.
	var (
		mu      sync.Mutex
		pending strings.Builder
		full    strings.Builder
		pubErr  error
		ready   = make(chan struct{}, 1)
		done    = make(chan struct{})
		flushed = make(chan struct{})
	)
	go func() {
		defer close(flushed)
		for {
			var last bool
			select {
			case <-ready:
			case <-done:
				last = true
			}
			mu.Lock()
			text := pending.String()
			pending.Reset()
			mu.Unlock()
			if text != "" {
				if _, err := r.conv.events.Publish(context.WithoutCancel(ctx), ws, chat, EventRunDelta, run.ID, map[string]string{"text": text}); err != nil {
					mu.Lock()
					pubErr = err
					mu.Unlock()
				}
			}
			if last {
				return
			}
		}
	}()
	_, err = provider.Stream(ctx, ModelRequest{Model: upstream, Agent: agent.Name, Messages: history}, func(d Delta) error {
		text := d.Text
		mu.Lock()
		defer mu.Unlock()
		if pubErr != nil {
			return pubErr
		}
		pending.WriteString(text)
		full.WriteString(text)
		select {
		case ready <- struct{}{}:
		default:
		}
		return nil
	})
	close(done)
	<-flushed
	if err == nil {
		err = pubErr
	}
	o := outcome{text: full.String(), status: RunCompleted}
	switch {
	case err == nil:
	case context.Cause(ctx) == errStopped:
		o.status, o.errCode, o.errMsg = RunCancelled, "stopped", "the run was stopped"
	case ctx.Err() != nil:
		o.status, o.errCode, o.errMsg = RunFailed, "interrupted", "the server shut down during the run"
	default:
		o.status, o.errCode, o.errMsg = RunFailed, "provider_error", err.Error()
	}
	return o
}

// history is the chat up to the run's message, oldest first.
func (r *Runner) history(ctx context.Context, run *sqldb.Run) ([]ModelMessage, error) {
	var rows []sqldb.Message
	err := r.conv.db.NewSelect().Model(&rows).
		Where("chat_id = ? AND status = ?", run.ChatID, "complete").
		Where("(created_at < (SELECT created_at FROM messages WHERE id = ?) OR id = ?)", run.MessageID, run.MessageID).
		OrderExpr("created_at DESC, id DESC").Limit(int64(r.cfg.History)).Scan(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ModelMessage, len(rows))
	for i := range rows {
		m := rows[len(rows)-1-i]
		out[i] = ModelMessage{Role: m.Role, Content: m.Content}
	}
	return out, nil
}

// finish stores the answer and the run's outcome, then publishes the final
// event. Stored first: a watcher that sees the event can read the answer.
func (r *Runner) finish(ctx context.Context, run *sqldb.Run, o outcome) error {
	now := r.conv.now().UTC().Truncate(time.Microsecond)
	agentID, runID := run.AgentID, run.ID
	status := "complete"
	if o.status != RunCompleted {
		status = string(o.status)
	}
	msg := &sqldb.Message{
		ID: workspaces.NewID(), ChatID: run.ChatID, WorkspaceID: run.WorkspaceID, Role: "assistant",
		AgentID: &agentID, RunID: &runID, Content: o.text, Status: status, Error: o.errMsg,
		Delivered: true, CreatedAt: now,
	}
	err := r.conv.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if o.text != "" || o.status == RunCompleted {
			if _, err := tx.NewInsert().Model(msg).Exec(ctx); err != nil {
				return err
			}
		}
		_, err := tx.NewUpdate().Model((*sqldb.Run)(nil)).
			Set("status = ?", string(o.status)).Set("error = ?", o.errMsg).Set("finished_at = ?", now).
			Where("id = ?", run.ID).Exec(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("store run outcome: %w", err)
	}
	ws, chat := workspaces.WorkspaceID(run.WorkspaceID), workspaces.ChatID(run.ChatID)
	view := MessageView(messageFromRow(msg))
	var typ EventType
	var data map[string]any
	switch o.status {
	case RunCompleted:
		typ, data = EventRunCompleted, map[string]any{"message": view}
	case RunCancelled:
		typ, data = EventRunCancelled, map[string]any{"agent_id": run.AgentID, "reason": o.errMsg, "message": view}
	default:
		typ, data = EventRunFailed, map[string]any{"error": map[string]string{"code": o.errCode, "message": o.errMsg}, "message": view}
		r.cfg.Logger.Info("run failed", "run", run.ID, "code", o.errCode, "error", o.errMsg)
	}
	if _, err := r.conv.events.Publish(ctx, ws, chat, typ, run.ID, data); err != nil {
		return fmt.Errorf("publish run outcome: %w", err)
	}
	return nil
}
