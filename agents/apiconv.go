package agents

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/persistence/sqldb"
	"github.com/atrium-hq/atrium/workspaces"
)

// API conversations are chats of the agent's API workspace: a workspace
// made on first use, owned by the agent's owner, with the agent attached.
// Everything a chat has they have too — durable messages, one run per
// message through the queue, resumable events — and the owner can watch
// them live like any chat.

// Ask is a message an API client sends an agent.
type Ask struct {
	Agent Agent
	// Conversation continues that conversation; empty starts one.
	Conversation workspaces.ChatID
	// Session names the conversation by the client's own id (seed 003's
	// session header): the first message with a session starts it, the
	// next ones continue it. Ignored when Conversation is set.
	Session string
	// Preamble is the earlier turns a stateless request carries (seed
	// 003's v1 conversation, OpenAI's messages), stored before Content in
	// a new conversation. With Source SourceV1 or SourceOpenAI the model
	// is given all of them (at most MaxConversationMessages with Content),
	// whatever the agent's memory settings: the client chose them.
	Preamble []ModelMessage
	Content  string
	// Source names the API for the logs ("api", "v1", "webhook", ...).
	Source string
}

// Sources of asks whose requests carry the whole conversation.
const (
	SourceV1     = "v1"     // seed 003's transactional API
	SourceOpenAI = "openai" // the OpenAI-compatible API, model = an agent
)

// MaxConversationMessages is the most messages a stateless request may
// carry, its last included.
const MaxConversationMessages = maxHotMessages - 1

// carriesConversation reports whether a run's ask (by its source) carried
// the whole conversation, rather than one message of a stored one.
func carriesConversation(source string) bool {
	return source == SourceV1 || source == SourceOpenAI
}

// Asked is what Ask started.
type Asked struct {
	Conversation workspaces.ChatID
	Workspace    workspaces.WorkspaceID
	// Request is the run answering the message (seed 000's request_id).
	Request RunID
	Message MessageID
	// Seq is the message's event number in the conversation: the run's
	// events come after it.
	Seq uint64
}

// Ask stores content as a message to q.Agent and queues its run. It returns
// at once with the ids; the answer comes through the conversation's events
// and RunResult. An owner without credits left gets KindPaymentRequired.
func (c *Conversations) Ask(ctx context.Context, q Ask) (Asked, error) {
	// Seed 000: 402 when the owner's credits have run out.
	if err := c.ws.CheckCredits(ctx, q.Agent.Owner); err != nil {
		return Asked{}, err
	}
	// Everything is checked before anything is made, so a refused
	// request leaves no empty conversation behind.
	if err := c.checkContent(q.Content, ""); err != nil {
		return Asked{}, err
	}
	if len(q.Preamble) >= MaxConversationMessages {
		return Asked{}, workspaces.Errorf(workspaces.KindInvalid, "A conversation may have at most %d messages", MaxConversationMessages)
	}
	for _, m := range q.Preamble {
		if m.Role != RoleUser && m.Role != RoleAssistant && m.Role != RoleSystem {
			return Asked{}, workspaces.E(workspaces.KindInvalid, "earlier messages must be system, user or assistant messages")
		}
		if err := c.checkContent(m.Content, ""); err != nil {
			return Asked{}, err
		}
	}
	ws, err := c.apiWorkspace(ctx, q.Agent)
	if err != nil {
		return Asked{}, err
	}
	chat := q.Conversation
	if chat == "" && q.Session != "" {
		chat, err = c.sessionConversation(ctx, ws, q)
		if err != nil {
			return Asked{}, err
		}
	} else if chat == "" {
		if chat, err = c.newConversation(ctx, ws, q); err != nil {
			return Asked{}, err
		}
	} else if err := c.ownConversation(ctx, ws, chat); err != nil {
		return Asked{}, err
	}
	sent, err := c.store(ctx, ws, chat, q.Agent.Owner, q.Content, "", runFor{agent: string(q.Agent.ID), source: q.Source})
	if err != nil {
		return Asked{}, err
	}
	if err := c.deliver(ctx, &sent); err != nil {
		return Asked{}, err
	}
	return Asked{Conversation: chat, Workspace: ws, Request: sent.Runs[0], Message: sent.Message.ID, Seq: sent.Seq}, nil
}

// checkContent checks a message's content and its client's idempotency
// key, for Send and Ask alike.
func (c *Conversations) checkContent(content, clientID string) error {
	switch {
	case strings.TrimSpace(content) == "":
		return workspaces.E(workspaces.KindInvalid, "content is required")
	case len(content) > c.cfg.MaxContentBytes:
		return workspaces.Errorf(workspaces.KindTooLarge, "content is longer than %d bytes", c.cfg.MaxContentBytes)
	case !validText(content):
		return workspaces.E(workspaces.KindInvalid, "content must be UTF-8 text without NUL bytes")
	case len(clientID) > MaxClientIDLength || !printable(clientID):
		return workspaces.Errorf(workspaces.KindInvalid, "client_id must be at most %d printable characters", MaxClientIDLength)
	}
	return nil
}

// apiWorkspace returns agent a's API workspace, making it on first use.
func (c *Conversations) apiWorkspace(ctx context.Context, a Agent) (workspaces.WorkspaceID, error) {
	var id string
	err := c.db.NewSelect().Model((*sqldb.Workspace)(nil)).Column("id").Where("agent_id = ?", string(a.ID)).Scan(ctx, &id)
	if err == nil {
		return workspaces.WorkspaceID(id), nil
	}
	if !sqldb.IsNoRows(err) {
		return "", workspaces.Internal("find api workspace", err)
	}
	now := c.now().UTC().Truncate(time.Microsecond)
	agentID, owner := string(a.ID), string(a.Owner)
	w := &sqldb.Workspace{ID: workspaces.NewID(), Name: "API: " + a.Name, OwnerID: owner, AgentID: &agentID, CreatedAt: now, UpdatedAt: now}
	err = c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(w).Exec(ctx); err != nil {
			return err
		}
		m := &sqldb.WorkspaceMember{WorkspaceID: w.ID, UserID: owner, Role: string(workspaces.RoleOwner), AddedBy: owner, CreatedAt: now}
		if _, err := tx.NewInsert().Model(m).Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(&sqldb.WorkspaceAgent{WorkspaceID: w.ID, AgentID: agentID, AddedBy: owner, CreatedAt: now}).Exec(ctx)
		return err
	})
	if sqldb.IsUniqueViolation(err) { // made at the same time by another request
		return c.apiWorkspace(ctx, a)
	}
	if err != nil {
		return "", workspaces.Internal("make api workspace", err)
	}
	return workspaces.WorkspaceID(w.ID), nil
}

// newConversation makes a chat in the API workspace ws, with q's preamble.
func (c *Conversations) newConversation(ctx context.Context, ws workspaces.WorkspaceID, q Ask) (workspaces.ChatID, error) {
	now := c.now().UTC().Truncate(time.Microsecond)
	owner := string(q.Agent.Owner)
	chat := &sqldb.Chat{ID: workspaces.NewID(), WorkspaceID: string(ws), CreatedBy: owner, Title: q.Source, CreatedAt: now, UpdatedAt: now}
	if q.Session != "" {
		chat.Session = &q.Session
	}
	err := c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(chat).Exec(ctx); err != nil {
			return err
		}
		for i, m := range q.Preamble {
			row := &sqldb.Message{
				ID: workspaces.NewID(), ChatID: chat.ID, WorkspaceID: string(ws), Role: m.Role, Content: m.Content,
				Status: "complete", Delivered: true, CreatedAt: now.Add(time.Duration(i-len(q.Preamble)) * time.Microsecond),
			}
			if m.Role == RoleUser {
				row.AuthorID = &owner
			} else if m.Role == RoleAssistant {
				agentID := string(q.Agent.ID)
				row.AgentID = &agentID
			}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if sqldb.IsUniqueViolation(err) && q.Session != "" {
		return "", errSessionTaken
	}
	if err != nil {
		return "", workspaces.Internal("start conversation", err)
	}
	return workspaces.ChatID(chat.ID), nil
}

// errSessionTaken: another request started the session's conversation.
var errSessionTaken = errors.New("session taken")

// maxSession bounds a session id.
const maxSession = 200

// sessionConversation finds or starts the conversation of q.Session.
func (c *Conversations) sessionConversation(ctx context.Context, ws workspaces.WorkspaceID, q Ask) (workspaces.ChatID, error) {
	if len(q.Session) > maxSession || !printable(q.Session) {
		return "", workspaces.Errorf(workspaces.KindInvalid, "session must be at most %d printable characters", maxSession)
	}
	for range 2 {
		var id string
		err := c.db.NewSelect().Model((*sqldb.Chat)(nil)).Column("id").Where("workspace_id = ? AND session = ?", string(ws), q.Session).Scan(ctx, &id)
		if err == nil {
			return workspaces.ChatID(id), nil
		}
		if !sqldb.IsNoRows(err) {
			return "", workspaces.Internal("find session", err)
		}
		chat, err := c.newConversation(ctx, ws, q)
		if err != errSessionTaken {
			return chat, err
		}
	}
	return "", workspaces.Internal("start session", errSessionTaken)
}

// ownConversation checks that chat is a conversation of the API workspace.
func (c *Conversations) ownConversation(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID) error {
	if !workspaces.ValidID(string(chat)) {
		return workspaces.E(workspaces.KindNotFound, "Conversation not found")
	}
	n, err := c.db.NewSelect().Model((*sqldb.Chat)(nil)).Where("id = ? AND workspace_id = ?", string(chat), string(ws)).Count(ctx)
	if err != nil {
		return workspaces.Internal("find conversation", err)
	}
	if n == 0 {
		return workspaces.E(workspaces.KindNotFound, "Conversation not found")
	}
	return nil
}

// RunResult is where an API request is, and its answer once it has one.
type RunResult struct {
	Request      RunID
	Agent        ID
	Conversation workspaces.ChatID
	Status       RunStatus
	Answer       string
	Error        string
	ToolCalls    []ToolCallRecord
	Iterations   int
	Usage        Usage
	CreatedAt    time.Time
	FinishedAt   *time.Time
}

// ToolCallRecord is a recorded tool call.
type ToolCallRecord struct {
	Name       string
	Parameters json.RawMessage
	Result     string
	Error      string
	Duration   time.Duration
	// Pending is set for a call left to the caller; Question when it
	// waits for the user (see ToolPending).
	Pending  bool
	Question string
}

// RunResult returns request run of agent; another agent's run is not found.
func (c *Conversations) RunResult(ctx context.Context, agent ID, run RunID) (RunResult, error) {
	if !workspaces.ValidID(string(run)) {
		return RunResult{}, workspaces.E(workspaces.KindNotFound, "Request not found")
	}
	var row sqldb.Run
	err := c.db.NewSelect().Model(&row).Where("id = ? AND agent_id = ?", string(run), string(agent)).Scan(ctx)
	if sqldb.IsNoRows(err) {
		return RunResult{}, workspaces.E(workspaces.KindNotFound, "Request not found")
	}
	if err != nil {
		return RunResult{}, workspaces.Internal("find request", err)
	}
	res := RunResult{Request: run, Agent: agent, Conversation: workspaces.ChatID(row.ChatID), Status: RunStatus(row.Status),
		Error: row.Error, CreatedAt: row.CreatedAt, FinishedAt: row.FinishedAt}
	if !res.Status.final() {
		return res, nil
	}
	var msg sqldb.Message
	err = c.db.NewSelect().Model(&msg).Column("content").Where("run_id = ?", string(run)).Limit(1).Scan(ctx)
	if err != nil && !sqldb.IsNoRows(err) {
		return res, workspaces.Internal("find answer", err)
	}
	res.Answer = msg.Content
	var calls []sqldb.ToolCall
	if err := c.db.NewSelect().Model(&calls).Where("run_id = ?", string(run)).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return res, workspaces.Internal("find tool calls", err)
	}
	for _, tc := range calls {
		p := json.RawMessage(tc.Parameters)
		if !json.Valid(p) {
			p, _ = json.Marshal(tc.Parameters)
		}
		res.ToolCalls = append(res.ToolCalls, ToolCallRecord{Name: tc.Name, Parameters: p, Result: tc.Result, Error: tc.Error,
			Duration: time.Duration(tc.DurationMS) * time.Millisecond, Pending: tc.Pending, Question: tc.Question})
	}
	var log sqldb.RequestLog
	err = c.db.NewSelect().Model(&log).Column("iterations", "input_tokens", "output_tokens").Where("run_id = ?", string(run)).Limit(1).Scan(ctx)
	if err != nil && !sqldb.IsNoRows(err) {
		return res, workspaces.Internal("find request log", err)
	}
	res.Iterations, res.Usage = log.Iterations, Usage{InputTokens: log.InputTokens, OutputTokens: log.OutputTokens}
	return res, nil
}

// Conversation returns conversation chat of agent's API workspace, its
// messages oldest first (at most limit, the latest).
func (c *Conversations) Conversation(ctx context.Context, agent Agent, chat workspaces.ChatID, limit int) (workspaces.Chat, []Message, error) {
	var ws string
	err := c.db.NewSelect().Model((*sqldb.Workspace)(nil)).Column("id").Where("agent_id = ?", string(agent.ID)).Scan(ctx, &ws)
	if sqldb.IsNoRows(err) {
		return workspaces.Chat{}, nil, workspaces.E(workspaces.KindNotFound, "Conversation not found")
	}
	if err != nil {
		return workspaces.Chat{}, nil, workspaces.Internal("find api workspace", err)
	}
	if err := c.ownConversation(ctx, workspaces.WorkspaceID(ws), chat); err != nil {
		return workspaces.Chat{}, nil, err
	}
	info, err := c.ws.Chat(ctx, agent.Owner, chat)
	if err != nil {
		return workspaces.Chat{}, nil, err
	}
	msgs, _, err := c.Messages(ctx, agent.Owner, chat, "", limit)
	return info, msgs, err
}

// Await waits until request run of conversation chat ends (its run.completed,
// run.failed or run.cancelled event, after event after), calling delta with
// each piece of its answer's text as it streams when delta is not nil, and
// returns its result. It returns early with ctx's error.
func (c *Conversations) Await(ctx context.Context, agent ID, ws workspaces.WorkspaceID, chat workspaces.ChatID, run RunID, after uint64, delta func(string) error) (RunResult, error) {
	end := false
	err := c.events.Follow(ctx, ws, chat, after, func(e Envelope) (bool, error) {
		if e.RunID != string(run) {
			return true, nil
		}
		switch e.Type {
		case EventRunDelta:
			if delta != nil {
				var d struct{ Text string }
				json.Unmarshal(e.Data, &d)
				if err := delta(d.Text); err != nil {
					return false, err
				}
			}
		case EventRunCompleted, EventRunFailed, EventRunCancelled:
			end = true
			return false, nil
		}
		return true, nil
	})
	if err != nil && !end {
		return RunResult{}, err
	}
	return c.RunResult(context.WithoutCancel(ctx), agent, run)
}

// Follow calls fn with each event of chat numbered above after, in order
// and once each: first those already stored, then new ones as they are
// stored, until fn returns false or an error, or ctx is done.
func (e *Events) Follow(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID, after uint64, fn func(Envelope) (bool, error)) error {
	subject := bus.ChatSubject(string(ws), string(chat))
	var (
		mu      sync.Mutex
		pending []bus.Entry
		wake    = make(chan struct{}, 1)
	)
	// Subscribe first, then read what is stored: nothing falls between.
	sub, err := e.log.Subscribe(subject, func(en bus.Entry) {
		mu.Lock()
		pending = append(pending, en)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	last := after
	deliver := func(en bus.Entry) (bool, error) {
		if en.Seq <= last {
			return true, nil
		}
		last = en.Seq
		var env Envelope
		if err := json.Unmarshal(en.Data, &env); err != nil {
			return true, nil
		}
		return fn(env)
	}
	if cursor, ok, err := e.log.CursorAfter(ctx, subject, after); err != nil {
		return err
	} else if ok {
		var fnErr error
		err := e.log.Read(ctx, subject, cursor, 0, func(en bus.Entry) error {
			more, err := deliver(en)
			if err != nil {
				fnErr = err
				return err
			}
			if !more {
				return errStopFollow
			}
			return nil
		})
		if fnErr != nil {
			return fnErr
		}
		if err == errStopFollow {
			return nil
		}
		if err != nil {
			return err
		}
	}
	for {
		mu.Lock()
		batch := pending
		pending = nil
		mu.Unlock()
		for _, en := range batch {
			more, err := deliver(en)
			if err != nil || !more {
				return err
			}
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// validText says whether s is UTF-8 without NUL bytes.
func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// errStopFollow ends a read of stored events when fn has had enough.
var errStopFollow = errors.New("enough")
