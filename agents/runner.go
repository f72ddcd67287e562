package agents

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// RunnerConfig tunes a Runner. The zero value works except for Models.
type RunnerConfig struct {
	// Models finds the provider of an agent's model. A *Catalogue also
	// prices the runs (credits in the request logs).
	Models Models
	// Tools lists the tools agents may call; nil means none.
	Tools ToolSource
	// Scripts runs agent scripts; nil fails the runs of scripted agents.
	Scripts ScriptRunner
	// Hot is the node-local store for conversations and the response
	// cache; nil reads everything from SQL and caches nothing.
	Hot HotStore
	// CacheTTL is how long a cached answer is reused. Zero means 1 hour.
	CacheTTL time.Duration
	// ToolTimeout bounds one tool call. Zero means 60 s.
	ToolTimeout time.Duration
	// Concurrency is how many runs this runner works on at once. Zero
	// means 256 (runs mostly wait on the model).
	Concurrency int
	// Notify receives agent.execution.* and tool.invoked; nil drops them.
	Notify Notifier
	// Knowledge is the agents' indexed training data, searched for the
	// runs of agents with use_rag on; nil: no retrieval.
	Knowledge Knowledge
	// Logger receives run failures. Nil discards.
	Logger *slog.Logger
	// RedeliverEvery is how often the runner looks for messages stored
	// but never delivered (their runs never queued), besides once at
	// start. Zero means 30 s.
	RedeliverEvery time.Duration
	// RedeliverAfter is how old an undelivered message must be before a
	// sweep delivers it, so that it does not race a Send still at work.
	// Zero means 30 s.
	RedeliverAfter time.Duration
}

// Runner takes run requests from the queue, one runner per run, and answers
// them: it streams the answer as events and stores it.
type Runner struct {
	conv   *Conversations
	queue  *bus.RunQueue
	cfg    RunnerConfig
	agents agentCache
	// toolCache keeps the tools offered to recently loaded agents.
	toolCache toolCache
	stops     runStops
}

// agentTTL is how long the runner reuses an agent it loaded: busy chats
// start runs of the same agents many times a second. A run's claim reads
// the agent's version too, so a change reaches the next run at once.
const agentTTL = 2 * time.Second

// agentCache keeps recently loaded agents by id.
type agentCache struct {
	mu sync.Mutex
	m  map[string]cachedAgent
}

type cachedAgent struct {
	agent Agent
	at    time.Time
}

// get returns agent id, from the cache when it is fresh and, for version
// > 0, of that version: a run knows the version its agent had when it was
// claimed, so a change made just before a message reaches its run.
func (c *agentCache) get(ctx context.Context, db *sqldb.DB, id string, version int) (Agent, error) {
	now := time.Now()
	c.mu.Lock()
	ca, ok := c.m[id]
	c.mu.Unlock()
	if ok && now.Sub(ca.at) < agentTTL && (version <= 0 || ca.agent.Version == version) {
		return ca.agent, nil
	}
	var row sqldb.Agent
	if err := db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx); err != nil {
		return Agent{}, err
	}
	a := agentFromRow(&row)
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = make(map[string]cachedAgent)
	}
	c.m[id] = cachedAgent{a, now}
	c.mu.Unlock()
	return a, nil
}

// toolCache keeps the tools each agent was offered for agentTTL, or until
// the sources' version changes (a change of custom tools or MCP servers
// on this node): reading them costs a query per source, and busy chats
// start several runs a second. Sources without a version are read every
// time.
type toolCache struct {
	mu sync.Mutex
	m  map[ID]cachedTools
}

type cachedTools struct {
	tools   []Tool
	updated time.Time // the agent's, when the tools were read
	gen     uint64
	at      time.Time
}

func (c *toolCache) get(ctx context.Context, src ToolSource, a Agent) ([]Tool, error) {
	var gen uint64
	switch s := src.(type) {
	case ToolSources:
		v, ok := s.ToolsVersion()
		if !ok {
			return src.Tools(ctx, a)
		}
		gen = v
	case ToolsVersioner:
		gen = s.ToolsVersion()
	case StaticTools:
	default:
		return src.Tools(ctx, a)
	}
	now := time.Now()
	c.mu.Lock()
	ct, ok := c.m[a.ID]
	c.mu.Unlock()
	if ok && ct.gen == gen && ct.updated.Equal(a.UpdatedAt) && now.Sub(ct.at) < agentTTL {
		return ct.tools, nil
	}
	tools, err := src.Tools(ctx, a)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10_000 {
		c.m = make(map[ID]cachedTools)
	}
	c.m[a.ID] = cachedTools{tools: tools, updated: a.UpdatedAt, gen: gen, at: now}
	c.mu.Unlock()
	return tools, nil
}

// NewRunner returns a Runner answering the runs conv queues on queue.
func NewRunner(conv *Conversations, queue *bus.RunQueue, cfg RunnerConfig) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 256
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RedeliverEvery <= 0 {
		cfg.RedeliverEvery = 30 * time.Second
	}
	if cfg.RedeliverAfter <= 0 {
		cfg.RedeliverAfter = 30 * time.Second
	}
	return &Runner{conv: conv, queue: queue, cfg: cfg}
}

// Run answers runs until ctx is done, then waits for the runs it holds to
// hand them back (a run interrupted by shutdown is redelivered). Meanwhile
// it delivers the messages whose delivery was left unfinished (Redeliver),
// at once and every RedeliverEvery.
func (r *Runner) Run(ctx context.Context) error {
	sub, err := r.stops.subscribe(r.conv.conn)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() { defer close(swept); r.redeliverLoop(sweepCtx) }()
	err = r.queue.Consume(ctx, r.cfg.Concurrency, r.handle)
	stopSweep()
	<-swept
	return err
}

// errStopped is the cause when someone stops a run.
var errStopped = errors.New("stopped")

// errSuperseded means a later delivery of the run took it over: this one
// must neither store an outcome nor acknowledge.
var errSuperseded = errors.New("run taken over by a later delivery")

func superseded(err error) bool { return errors.Is(err, errSuperseded) }

func (r *Runner) handle(ctx context.Context, d bus.RunDelivery) {
	var req runRequest
	if err := json.Unmarshal(d.Data(), &req); err != nil || !workspaces.ValidID(string(req.RunID)) {
		r.cfg.Logger.Warn("dropping malformed run request", "data", string(d.Data()))
		d.Term()
		return
	}
	delivery, err := runDelivery(d)
	if err != nil {
		r.cfg.Logger.Warn("dropping run request without delivery metadata", "run", req.RunID, "err", err)
		d.Term()
		return
	}
	if delivery > r.queue.MaxDeliver() {
		r.giveUp(ctx, d, req.RunID, delivery)
		return
	}
	db := r.conv.db
	// Claim the run: queued becomes running. A running run is claimed
	// again only by a later delivery of its request (its runner died or
	// went silent past the ack wait); the delivery number fences the
	// earlier runner off from storing an outcome (finish).
	var run sqldb.Run
	var agentVersion sql.NullInt64 // NULL: the agent was deleted
	now := r.conv.now().UTC()
	err = db.QueryRowPrepared(ctx, nil, `UPDATE runs SET status = $1, attempts = attempts + 1, started_at = $2, delivery = $5
		WHERE id = $3 AND status IN ($4, $1) AND delivery < $5
		RETURNING id, chat_id, workspace_id, agent_id, message_id, status, error, attempts, delivery, source, created_at, started_at, finished_at,
			(SELECT version FROM agents WHERE agents.id = runs.agent_id)`,
		string(RunRunning), now, string(req.RunID), string(RunQueued), delivery).
		Scan(&run.ID, &run.ChatID, &run.WorkspaceID, &run.AgentID, &run.MessageID, &run.Status, &run.Error,
			&run.Attempts, &run.Delivery, &run.Source, &run.CreatedAt, &run.StartedAt, &run.FinishedAt, &agentVersion)
	if sqldb.IsNoRows(err) { // its chat was deleted, it was stopped or finished, or another copy holds it
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
	held := r.stops.add(run.ID, cancel)
	defer r.stops.remove(run.ID, held)
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

	outcome := r.answer(runCtx, &run, int(agentVersion.Int64))
	if context.Cause(runCtx) == errSuperseded {
		return // a later delivery holds the run, here: it acknowledges
	}
	if ctx.Err() != nil && context.Cause(runCtx) != errStopped {
		// Shutting down: hand the run to another runner.
		d.Nak()
		return
	}
	if err := r.finish(context.WithoutCancel(ctx), &run, outcome); err != nil {
		r.unfinished(d, run.ID, err)
		return
	}
	d.Ack()
}

// unfinished handles a finish that failed: a superseded delivery is left to
// the one that took the run over (acknowledging or refusing it would end
// that one's delivery too); any other is tried again.
func (r *Runner) unfinished(d bus.RunDelivery, run string, err error) {
	if superseded(err) {
		r.cfg.Logger.Info("run taken over by a later delivery; its outcome here is dropped", "run", run)
		return
	}
	r.cfg.Logger.Warn("finish run", "run", run, "err", err)
	d.NakWithDelay(time.Second)
}

// outcome is how an answer ended.
type outcome struct {
	text    string
	status  RunStatus
	errCode string
	errMsg  string

	agent   Agent
	model   string
	prompt  string
	loop    LoopResult
	cached  bool
	credits float64
	started time.Time
	history []hotMessage
}

func (o *outcome) fail(code, msg string) *outcome {
	o.status, o.errCode, o.errMsg = RunFailed, code, msg
	return o
}

// answer runs the agent (of agentVersion; 0: any recent) on the run's
// message, streaming its answer and tool calls as events.
func (r *Runner) answer(ctx context.Context, run *sqldb.Run, agentVersion int) *outcome {
	o := &outcome{status: RunCompleted, started: time.Now()}
	ws, chat := workspaces.WorkspaceID(run.WorkspaceID), workspaces.ChatID(run.ChatID)
	agent, err := r.agents.get(ctx, r.conv.db, run.AgentID, agentVersion)
	if err != nil {
		return o.fail("agent_unavailable", "the agent could not be loaded")
	}
	o.agent, o.model = agent, agent.ModelID
	cfg := agent.Settings()
	if _, err := r.conv.events.Publish(ctx, ws, chat, EventRunStarted, run.ID, map[string]any{
		"agent": map[string]any{"id": agent.ID, "name": agent.Name}, "model": agent.ModelID,
		"message_id": run.MessageID, "attempt": run.Attempts,
	}); err != nil {
		return o.fail("internal", "could not publish the run's events")
	}
	notify(ctx, r.cfg.Notify, Notification{Event: NotifyExecutionStarted, Owner: agent.Owner, Agent: agent.ID,
		// attempt > 1: the run started again after its runner died (the
		// same execution_id), not a duplicate delivery.
		Data: map[string]any{"execution_id": run.ID, "conversation_id": run.ChatID, "model": agent.ModelID, "attempt": run.Attempts}})
	limit := 1 // with memory off, one earlier message only tells a new conversation apart
	whole := carriesConversation(run.Source)
	switch {
	case whole:
		// The client sent the conversation: the model sees all of it,
		// its system messages included, whatever the agent's memory.
		limit = MaxConversationMessages - 1
	case cfg.UseMemory:
		limit = max(cfg.MaxHistoryMessages, 1)
	}
	hist, err := r.history(ctx, run, limit)
	if err != nil || len(hist) == 0 {
		return o.fail("internal", "could not load the conversation")
	}
	fresh := len(hist) == 1
	o.history = hist // the hot copy keeps what was loaded, whatever the model sees
	if !whole && (!cfg.UseMemory || cfg.MaxHistoryMessages == 0) {
		hist = hist[len(hist)-1:]
	}
	o.prompt = hist[len(hist)-1].Content
	msgs := make([]ModelMessage, len(hist))
	for i, m := range hist {
		msgs[i] = ModelMessage{Role: m.Role, Content: m.Content}
	}

	pub := newRunPublisher(ctx, r.conv.events, ws, chat, run.ID)
	defer pub.close()
	rag := cfg.UseRAG && r.cfg.Knowledge != nil && agent.Script == ""
	// Retrieval helps an answer but is not needed for one: when it fails,
	// the agent answers without passages (and the failure is logged).
	var training string
	if rag {
		if training, err = r.cfg.Knowledge.Version(ctx, agent.ID); err != nil {
			r.cfg.Logger.Warn("rag: read the index", "agent", agent.ID, "run", run.ID, "err", err)
			rag = false
		}
	}
	var key []byte
	if cfg.UseCache && fresh {
		key = responseKey(agent, cfg, o.prompt, training)
		if text, ok := r.cachedAnswer(key); ok {
			pub.text(text)
			o.text, o.cached = text, true
			return o
		}
	}

	tools, err := r.tools(ctx, agent, cfg)
	if err != nil {
		return o.fail("tools_unavailable", "the agent's tools could not be loaded: "+err.Error())
	}
	if rag && training != "" {
		found, err := r.cfg.Knowledge.Search(ctx, agent.ID, o.prompt, cfg.RAGTopK, cfg.SearchThreshold())
		if err != nil {
			r.cfg.Logger.Warn("rag: search", "agent", agent.ID, "run", run.ID, "err", err)
		}
		cfg.SystemPrompt = withKnowledge(cfg.SystemPrompt, found)
	}
	loop := Loop{
		Agent: agent, Config: cfg, Tools: tools, ToolTimeout: r.cfg.ToolTimeout,
		Input: ToolInput{Query: o.prompt, WorkspaceID: ws, ChatID: chat, RunID: RunID(run.ID)},
		Text:  pub.text,
		Call: func(it int, call ToolCall) error {
			return pub.event(EventToolCall, map[string]any{"call_id": call.ID, "name": call.Name, "arguments": jsonOrString(call.Arguments), "iteration": it})
		},
		Result: func(it int, rec ToolRecord) error {
			r.recordTool(ctx, run, it, rec)
			notify(ctx, r.cfg.Notify, Notification{Event: NotifyToolInvoked, Owner: agent.Owner, Agent: agent.ID,
				Data: map[string]any{"execution_id": run.ID, "tool_name": rec.Call.Name, "parameters": jsonOrString(rec.Call.Arguments),
					"status": toolStatus(rec), "duration_ms": rec.Duration.Milliseconds()}})
			data := map[string]any{"call_id": rec.Call.ID, "name": rec.Call.Name, "result": rec.Output.Content, "duration_ms": rec.Duration.Milliseconds()}
			if rec.Error != "" {
				data["error"] = rec.Error
			}
			if len(rec.Output.FileIDs) > 0 {
				data["file_ids"] = rec.Output.FileIDs
			}
			if p := rec.Pending; p != nil {
				data["pending"] = true
				if p.Question != "" {
					data["question"] = p.Question
				}
			}
			return pub.event(EventToolResult, data)
		},
	}
	if agent.Script != "" {
		err = r.runScript(ctx, &loop, msgs, o, pub)
	} else {
		provider, upstream, ok := r.cfg.Models.Provider(agent.ModelID)
		if !ok {
			return o.fail("model_unavailable", r.unavailable(agent.ModelID))
		}
		loop.Provider, loop.Model, loop.Messages = provider, upstream, msgs
		o.loop, err = loop.Run(ctx)
		o.text = o.loop.Text
		o.credits = r.credits(agent.ModelID, cfg.Plan, o.loop)
	}
	if perr := pub.close(); err == nil {
		err = perr
	}
	switch {
	case err == nil:
		if key != nil && len(o.loop.ToolCalls) == 0 && o.text != "" {
			r.storeAnswer(key, o.text)
		}
	case context.Cause(ctx) == errStopped:
		o.status, o.errCode, o.errMsg = RunCancelled, "stopped", "the run was stopped"
	case ctx.Err() != nil:
		o.fail("interrupted", "the server shut down during the run")
	default:
		var se *scriptError
		if errors.As(err, &se) {
			o.fail("script_error", se.Error())
		} else {
			o.fail("provider_error", err.Error())
		}
	}
	return o
}

// tools returns the tools agent may call under its configuration.
func (r *Runner) tools(ctx context.Context, agent Agent, cfg Config) ([]Tool, error) {
	if r.cfg.Tools == nil || !cfg.ToolsEnabled {
		return nil, nil
	}
	all, err := r.toolCache.get(ctx, r.cfg.Tools, agent)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Spec().Name
	}
	allowed := cfg.AllowedTools(names)
	var out []Tool
	for _, t := range all {
		ok := slices.Contains(allowed, t.Spec().Name)
		if at, aliased := t.(AliasedTool); aliased && cfg.ToolsEnabled {
			// The alias decides when a list names it.
			switch alias := at.Alias(); {
			case slices.Contains(cfg.EnabledTools, alias):
				ok = true
			case slices.Contains(cfg.DisabledTools, alias) && !slices.Contains(cfg.EnabledTools, t.Spec().Name):
				ok = false
			}
		}
		if ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// recordTool stores a finished tool call. A failure to store it is logged:
// the run goes on.
func (r *Runner) recordTool(ctx context.Context, run *sqldb.Run, iteration int, rec ToolRecord) {
	row := &sqldb.ToolCall{
		ID: workspaces.NewID(), RunID: run.ID, AgentID: run.AgentID, ChatID: run.ChatID, CallID: rec.Call.ID,
		Iteration: iteration, Name: rec.Call.Name, Parameters: rec.Call.Arguments, Result: rec.Output.Content,
		Error: rec.Error, DurationMS: rec.Duration.Milliseconds(), CreatedAt: r.conv.now().UTC(),
	}
	if p := rec.Pending; p != nil {
		row.Pending, row.Question = true, p.Question
		if p.Name != "" {
			row.Name = p.Name
		}
	}
	if _, err := r.conv.db.NewInsert().Model(row).Exec(context.WithoutCancel(ctx)); err != nil {
		r.cfg.Logger.Warn("record tool call", "run", run.ID, "err", err)
	}
}

// jsonOrString returns s as JSON when it is JSON, else as a string.
func jsonOrString(s string) any {
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return s
}

// finish stores the answer and the run's outcome, then publishes the final
// event. Stored first: a watcher that sees the event can read the answer.
func (r *Runner) finish(ctx context.Context, run *sqldb.Run, o *outcome) error {
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
		// Only the delivery that holds the run ends it.
		res, err := r.conv.db.ExecPrepared(ctx, &tx, `UPDATE runs SET status = $1, error = $2, finished_at = $3
			WHERE id = $4 AND status IN ($5, $6) AND delivery = $7`,
			string(o.status), o.errMsg, now, run.ID, string(RunQueued), string(RunRunning), run.Delivery)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errSuperseded
		}
		// Stored whatever the outcome, so the event's message exists:
		// a failed or stopped answer keeps what was said and why it ended.
		if err := r.conv.db.Insert(ctx, &tx, msg); err != nil || o.agent.ID == "" {
			return err
		}
		if err := r.conv.db.Insert(ctx, &tx, r.requestLog(run, o, now)); err != nil {
			return err
		}
		// The owner pays for the request in the same transaction.
		return r.conv.ws.SpendCredits(ctx, tx, o.agent.Owner, o.credits, "agent request", run.ID)
	})
	if err != nil {
		return fmt.Errorf("store run outcome: %w", err)
	}
	if o.agent.ID != "" {
		status := "success"
		if o.status != RunCompleted {
			status = string(o.status)
		}
		data := map[string]any{"execution_id": run.ID, "conversation_id": run.ChatID, "status": status,
			"duration_ms": time.Since(o.started).Milliseconds(), "iterations": o.loop.Iterations, "tool_calls": len(o.loop.ToolCalls)}
		if o.errMsg != "" {
			data["error"] = o.errMsg
		}
		notify(ctx, r.cfg.Notify, Notification{Event: NotifyExecutionDone, Owner: o.agent.Owner, Agent: o.agent.ID, Data: data})
	}
	if o.status == RunCompleted && len(o.history) > 0 {
		r.keepHot(run.ChatID, append(o.history, hotMessage{ID: msg.ID, Role: msg.Role, Content: msg.Content}))
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

// requestLog is the run's entry for seed 003's Logs page.
func (r *Runner) requestLog(run *sqldb.Run, o *outcome, now time.Time) *sqldb.RequestLog {
	l := o.loop
	row := &sqldb.RequestLog{
		ID: workspaces.NewID(), AgentID: run.AgentID, OwnerID: string(o.agent.Owner), RunID: run.ID, ChatID: run.ChatID,
		Source: run.Source, Model: o.model, Prompt: o.prompt, Response: o.text, Status: string(o.status), Error: o.errMsg,
		InputTokens: l.Usage.InputTokens, OutputTokens: l.Usage.OutputTokens, Iterations: l.Iterations,
		ToolCalls: len(l.ToolCalls), Cached: o.cached, ResponseMS: time.Since(o.started).Milliseconds(),
		ToolCallMS: l.ToolCallTime.Milliseconds(), ToolParamMS: l.ToolParamTime.Milliseconds(), CreatedAt: now,
	}
	row.Credits = o.credits
	return row
}

// credits prices one model's part of a run: Decentralized bills the
// request, Dedicated the tokens; tool calls are free (seed 003). A cached
// answer costs nothing: no model ran.
func (r *Runner) credits(model, plan string, l LoopResult) float64 {
	c, ok := r.cfg.Models.(*Catalogue)
	if !ok || l.Iterations == 0 {
		return 0
	}
	m, ok := c.Lookup(model)
	if !ok {
		return 0
	}
	return m.Credits(plan, l.Usage)
}

// unavailable says why model cannot answer.
func (r *Runner) unavailable(model string) string {
	if c, ok := r.cfg.Models.(*Catalogue); ok {
		if why := c.Why(model); why != "" {
			return why
		}
	}
	return fmt.Sprintf("model %q is not available on this server", model)
}

func toolStatus(rec ToolRecord) string {
	if rec.Error != "" {
		return "error"
	}
	if rec.Pending != nil {
		return "pending"
	}
	return "success"
}
