package agents

import (
	"context"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// MessageID identifies a message in a chat.
type MessageID string

// RunID identifies one agent answering one message.
type RunID string

// RunStatus is where a run is.
type RunStatus string

// The states of a run; the last three are final.
const (
	RunQueued    RunStatus = "queued"
	RunRunning   RunStatus = "running"
	RunCompleted RunStatus = "completed"
	RunFailed    RunStatus = "failed"
	RunCancelled RunStatus = "cancelled"
)

func (s RunStatus) final() bool { return s == RunCompleted || s == RunFailed || s == RunCancelled }

// Message is something said in a chat: by a person (Role "user") or by an
// agent answering (Role "assistant").
type Message struct {
	ID          MessageID
	ChatID      workspaces.ChatID
	WorkspaceID workspaces.WorkspaceID
	Role        string
	Author      workspaces.UserID // a person's message
	AuthorEmail string
	AgentID     ID    // an answer
	RunID       RunID // an answer
	ClientID    string
	Content     string
	// Status is "complete" for a person's message; an answer's is its run's
	// final status.
	Status    string
	Error     string
	CreatedAt time.Time
}

// RunQueue is where Send puts run requests.
type RunQueue interface {
	Enqueue(ctx context.Context, agent, id string, data []byte) error
}

// ConversationsConfig limits what people send. The zero value works.
type ConversationsConfig struct {
	// MaxContentBytes bounds one message. Zero means 32 KiB.
	MaxContentBytes int
}

// Conversations is the live side of chats: the messages people send, the
// runs they start, and the events both produce. Safe for concurrent use.
type Conversations struct {
	db     *sqldb.DB
	ws     *workspaces.Service
	events *Events
	queue  RunQueue
	conn   *nats.Conn // carries stop requests to whichever runner has the run
	cfg    ConversationsConfig
	now    func() time.Time
}

// NewConversations returns a Conversations that stores in db, publishes with
// events, queues runs on queue and sends stop requests over conn.
func NewConversations(db *sqldb.DB, ws *workspaces.Service, events *Events, queue RunQueue, conn *nats.Conn, cfg ConversationsConfig) *Conversations {
	if cfg.MaxContentBytes <= 0 {
		cfg.MaxContentBytes = 32 << 10
	}
	return &Conversations{db: db, ws: ws, events: events, queue: queue, conn: conn, cfg: cfg, now: time.Now}
}

// Events is where the conversations' events go.
func (c *Conversations) Events() *Events { return c.events }

// Sent is what Send did.
type Sent struct {
	Message Message
	Runs    []RunID
	// Duplicate is true when the message had already been sent with the
	// same client id; nothing new was stored or published.
	Duplicate bool
	// Seq is the message.created event's number in the chat (0 for a
	// duplicate).
	Seq uint64

	agents []string // the agent of each run, for the queue
}

// MaxClientIDLength bounds the client's idempotency key.
const MaxClientIDLength = 128

// Send stores content as author's message in chat (whose workspace is ws),
// publishes message.created and queues a run for each agent attached to the
// workspace. The caller has checked that author may send there. With a
// clientID, sending again returns the first message instead of a new one.
//
// The message is stored before anything is published: if publishing fails
// the call fails, and repeating it with the same clientID finishes the job.
func (c *Conversations) Send(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID, author workspaces.UserID, content, clientID string) (Sent, error) {
	if err := c.checkContent(content, clientID); err != nil {
		return Sent{}, err
	}
	user, err := c.ws.Author(ctx, author)
	if err != nil {
		return Sent{}, err
	}

	// Stored first, looked up only when its client id was seen before: a
	// message sent again (its answer lost) is rare, a lookup per message
	// is not.
	sent, err := c.store(ctx, ws, chat, author, content, clientID, runFor{source: "chat"})
	if sqldb.IsUniqueViolation(err) { // this client id was sent before
		// A delivered one is answered as a duplicate; one an earlier Send
		// stored but did not deliver (it failed half-way) is delivered now.
		var found bool
		sent, found, err = c.byClientID(ctx, chat, author, clientID)
		if err == nil && !found { // sent at this moment, and rolled back
			err = workspaces.E(workspaces.KindConflict, "message is being sent; try again")
		}
	}
	if err != nil {
		return Sent{}, err
	}
	sent.Message.AuthorEmail = user.Email
	if sent.Duplicate {
		return sent, nil
	}
	if err := c.deliver(ctx, &sent); err != nil {
		return Sent{}, err
	}
	return sent, nil
}

// runFor says which runs a stored message starts: one for each agent
// attached to the workspace, or only agent's when it is set.
type runFor struct {
	agent  string
	source string
}

// store writes the message and its queued runs in one transaction.
func (c *Conversations) store(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID, author workspaces.UserID, content, clientID string, rf runFor) (Sent, error) {
	now := c.now().UTC().Truncate(time.Microsecond)
	a := string(author)
	row := &sqldb.Message{
		ID: workspaces.NewID(), ChatID: string(chat), WorkspaceID: string(ws), Role: "user",
		AuthorID: &a, Content: content, Status: "complete", CreatedAt: now,
	}
	if clientID != "" {
		row.ClientID = &clientID
	}
	var runs []RunID
	var agentIDs []string
	err := c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := c.db.Insert(ctx, &tx, row); err != nil {
			return err
		}
		attached := []string{rf.agent}
		if rf.agent == "" {
			var err error
			if attached, err = c.attached(ctx, &tx, ws); err != nil {
				return err
			}
		}
		for _, agent := range attached {
			run := &sqldb.Run{
				ID: workspaces.NewID(), ChatID: string(chat), WorkspaceID: string(ws), AgentID: agent,
				MessageID: row.ID, Status: string(RunQueued), Source: rf.source, CreatedAt: now,
			}
			if err := c.db.Insert(ctx, &tx, run); err != nil {
				return err
			}
			runs = append(runs, RunID(run.ID))
			agentIDs = append(agentIDs, agent)
		}
		return nil
	})
	if sqldb.IsUniqueViolation(err) {
		return Sent{}, err
	}
	if err != nil {
		return Sent{}, workspaces.Internal("store message", err)
	}
	return Sent{Message: messageFromRow(row), Runs: runs, agents: agentIDs}, nil
}

// attached returns the ids of the agents attached to ws, in the order they
// were attached.
func (c *Conversations) attached(ctx context.Context, tx *bun.Tx, ws workspaces.WorkspaceID) ([]string, error) {
	return c.db.QueryStrings(ctx, tx, `SELECT agent_id FROM workspace_agents WHERE workspace_id = $1 ORDER BY created_at, agent_id`, string(ws))
}

// byClientID finds the message author already sent in chat with clientID.
// An undelivered one (an earlier Send failed half-way) comes back to be
// delivered again; a delivered one comes back as a Duplicate.
func (c *Conversations) byClientID(ctx context.Context, chat workspaces.ChatID, author workspaces.UserID, clientID string) (Sent, bool, error) {
	if clientID == "" {
		return Sent{}, false, nil
	}
	var row sqldb.Message
	err := c.db.NewSelect().Model(&row).Where("chat_id = ? AND author_id = ? AND client_id = ?", string(chat), string(author), clientID).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return Sent{}, false, nil
	}
	if err != nil {
		return Sent{}, false, workspaces.Internal("find message", err)
	}
	var runs []sqldb.Run
	if err := c.db.NewSelect().Model(&runs).Where("message_id = ?", row.ID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return Sent{}, false, workspaces.Internal("find runs", err)
	}
	s := Sent{Message: messageFromRow(&row), Duplicate: row.Delivered}
	if !row.Delivered {
		s.Seq = uint64(row.CreatedSeq)
	}
	for _, r := range runs {
		s.Runs = append(s.Runs, RunID(r.ID))
		s.agents = append(s.agents, r.AgentID)
	}
	return s, true, nil
}

// runRequest is what the run queue carries.
type runRequest struct {
	RunID RunID `json:"run_id"`
}

// deliver publishes message.created (unless s.Seq says an earlier delivery
// did), queues the runs and marks the message delivered.
func (c *Conversations) deliver(ctx context.Context, s *Sent) error {
	m := s.Message
	if s.Seq == 0 {
		seq, err := c.events.Publish(ctx, m.WorkspaceID, m.ChatID, EventMessageCreated, "", map[string]any{
			"message": MessageView(m), "runs": s.Runs,
		})
		if err != nil {
			return workspaces.Internal("publish message", err)
		}
		s.Seq = seq
	}
	if err := c.queueRuns(ctx, m.ID, s.Runs, s.agents); err != nil {
		// Whoever finishes the delivery (the client sending again, or a
		// sweep) then does not announce the message twice. Best effort:
		// a second message.created is the worst case.
		c.db.ExecPrepared(context.WithoutCancel(ctx), nil, `UPDATE messages SET created_seq = $1 WHERE id = $2`, int64(s.Seq), string(m.ID))
		return err
	}
	return nil
}

// queueRuns queues runs (agents[i] answers runs[i]) and marks message
// delivered. The queue stores a run enqueued twice once (its message id is
// the run id), and a runner claims a run only once, so queueing again what
// may have been queued is harmless.
func (c *Conversations) queueRuns(ctx context.Context, message MessageID, runs []RunID, agents []string) error {
	for i, id := range runs {
		data, _ := json.Marshal(runRequest{RunID: id})
		if err := c.queue.Enqueue(ctx, agents[i], string(id), data); err != nil {
			return workspaces.Internal("queue run", err)
		}
	}
	if _, err := c.db.ExecPrepared(ctx, nil, `UPDATE messages SET delivered = $1 WHERE id = $2`, true, string(message)); err != nil {
		return workspaces.Internal("mark message delivered", err)
	}
	return nil
}

// Messages returns up to limit messages of chat that come before the
// message before (the latest when before is empty), oldest first, and
// whether there are older ones. user must have a role in the workspace.
func (c *Conversations) Messages(ctx context.Context, user workspaces.UserID, chat workspaces.ChatID, before MessageID, limit int) ([]Message, bool, error) {
	if _, err := c.ws.Chat(ctx, user, chat); err != nil {
		return nil, false, err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	q := c.db.NewSelect().Model((*sqldb.Message)(nil)).Where("chat_id = ?", string(chat))
	if before != "" {
		var pivot sqldb.Message
		if !workspaces.ValidID(string(before)) {
			return nil, false, workspaces.E(workspaces.KindInvalid, "before must be a message id")
		}
		err := c.db.NewSelect().Model(&pivot).Column("created_at", "id").Where("id = ? AND chat_id = ?", string(before), string(chat)).Scan(ctx)
		if sqldb.IsNoRows(err) {
			return nil, false, workspaces.E(workspaces.KindInvalid, "before must be a message id of this chat")
		}
		if err != nil {
			return nil, false, workspaces.Internal("page messages", err)
		}
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", pivot.CreatedAt, pivot.CreatedAt, pivot.ID)
	}
	var rows []sqldb.Message
	if err := q.OrderExpr("created_at DESC, id DESC").Limit(int64(limit+1)).Scan(ctx, &rows); err != nil {
		return nil, false, workspaces.Internal("list messages", err)
	}
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	out := make([]Message, len(rows))
	emails := map[string]string{}
	for i := range rows {
		m := messageFromRow(&rows[len(rows)-1-i])
		if m.Author != "" {
			e, ok := emails[string(m.Author)]
			if !ok {
				if u, err := c.ws.User(ctx, m.Author); err == nil {
					e = u.Email
				}
				emails[string(m.Author)] = e
			}
			m.AuthorEmail = e
		}
		out[i] = m
	}
	return out, more, nil
}

// Stop cancels run in chat: a queued run never starts; a running one is
// told to stop wherever it runs. The caller has checked that the user may
// send in chat. Stopping a finished run is not an error.
func (c *Conversations) Stop(ctx context.Context, chat workspaces.ChatID, run RunID) (RunStatus, error) {
	if !workspaces.ValidID(string(run)) {
		return "", workspaces.E(workspaces.KindNotFound, "Run not found")
	}
	var row sqldb.Run
	err := c.db.NewSelect().Model(&row).Where("id = ? AND chat_id = ?", string(run), string(chat)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return "", workspaces.E(workspaces.KindNotFound, "Run not found")
	}
	if err != nil {
		return "", workspaces.Internal("load run", err)
	}
	status := RunStatus(row.Status)
	if status.final() {
		return status, nil
	}
	if status == RunQueued {
		now := c.now().UTC()
		res, err := c.db.NewUpdate().Model((*sqldb.Run)(nil)).
			Set("status = ?", string(RunCancelled)).Set("error = ?", "stopped before it started").Set("finished_at = ?", now).
			Where("id = ? AND status = ?", row.ID, string(RunQueued)).Exec(ctx)
		if err != nil {
			return "", workspaces.Internal("cancel run", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if _, err := c.events.Publish(ctx, workspaces.WorkspaceID(row.WorkspaceID), chat, EventRunCancelled, row.ID, map[string]any{
				"agent_id": row.AgentID, "reason": "stopped before it started",
			}); err != nil {
				return "", workspaces.Internal("publish cancel", err)
			}
			return RunCancelled, nil
		}
		// It started meanwhile: stop it where it runs.
	}
	if err := c.conn.Publish(cancelSubject(run), nil); err != nil {
		return "", workspaces.Internal("send stop", err)
	}
	return RunRunning, nil
}

// Forget drops the live events kept for chat in ws, or for every chat of ws
// when chat is empty, once they are deleted. A failure is logged by the
// caller: the events age out of the window anyway.
func (c *Conversations) Forget(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID) error {
	subject := bus.WorkspaceSubject(string(ws))
	if chat != "" {
		subject = bus.ChatSubject(string(ws), string(chat))
	}
	return c.events.log.Purge(ctx, subject)
}

func messageFromRow(r *sqldb.Message) Message {
	m := Message{
		ID: MessageID(r.ID), ChatID: workspaces.ChatID(r.ChatID), WorkspaceID: workspaces.WorkspaceID(r.WorkspaceID),
		Role: r.Role, Content: r.Content, Status: r.Status, Error: r.Error, CreatedAt: r.CreatedAt,
	}
	if r.AuthorID != nil {
		m.Author = workspaces.UserID(*r.AuthorID)
	}
	if r.AgentID != nil {
		m.AgentID = ID(*r.AgentID)
	}
	if r.RunID != nil {
		m.RunID = RunID(*r.RunID)
	}
	if r.ClientID != nil {
		m.ClientID = *r.ClientID
	}
	return m
}

// MessageView is a message as events and the REST history show it.
func MessageView(m Message) map[string]any {
	v := map[string]any{
		"id": m.ID, "chat_id": m.ChatID, "role": m.Role, "content": m.Content,
		"status": m.Status, "created_at": m.CreatedAt.UTC().Format(time.RFC3339Nano),
	}
	if m.Author != "" {
		v["author"] = map[string]any{"id": m.Author, "email": m.AuthorEmail}
	}
	if m.AgentID != "" {
		v["agent_id"] = m.AgentID
	}
	if m.RunID != "" {
		v["run_id"] = m.RunID
	}
	if m.ClientID != "" {
		v["client_id"] = m.ClientID
	}
	if m.Error != "" {
		v["error"] = m.Error
	}
	return v
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}
