package hub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// transport is what a client needs from its connection.
type transport interface {
	// sendEvent queues an event; false means the queue is full or the
	// connection closed.
	sendEvent(e *outEvent) bool
	// sendReplay queues a replayed event past the queue's limit (a replay
	// is bounded by the chat log's window).
	sendReplay(e *outEvent) bool
	// control sends a control event (auth_expiring, joined, disconnect_reason).
	control(name string, data any)
	// close disconnects, telling the client why.
	close(reason string)
}

// client is one connection, whatever its transport: who it is, what it
// watches, and when its credentials expire.
type client struct {
	h *Hub
	t transport

	user  workspaces.UserID
	email string

	mu       sync.Mutex        // guards the following fields
	token    bool              // authenticated with a JWT (may join anything it has a role in)
	grant    workspaces.Grant  // set when authenticated with a connection string
	expires  time.Time         // when the credentials expire
	timer    *time.Timer       // asks for a refresh, then expires the connection
	warned   bool              // auth_expiring was sent for the current expiry
	watching map[string]*watch // by "chat:<id>" or "workspace:<id>"
	typing   map[workspaces.ChatID]time.Time
	closed   bool
	kicked   bool
}

// watch is a chat or workspace the client watches.
type watch struct {
	m    *member
	ws   workspaces.WorkspaceID
	chat workspaces.ChatID // empty for a workspace
	role workspaces.Role
	// present pairs the watch's presence join with exactly one leave: a
	// disconnect can take the watch between the room's join and the
	// presence's, and must then neither leave for it (another connection
	// of the user would lose its count) nor let the join stay behind.
	present atomic.Int32 // presenceNone, presenceJoined, presenceLeft
}

// States of watch.present.
const (
	presenceNone int32 = iota
	presenceJoined
	presenceLeft
)

// joinPresence counts w's connection present at key. It reports whether it
// was the user's first, and ok false if w was left meanwhile: the join is
// then undone and the caller fails the join.
func (c *client) joinPresence(ctx context.Context, key string, w *watch) (first, ok bool) {
	if w.present.Load() == presenceJoined {
		return false, true // a rejoin: present all along (watch)
	}
	first = c.h.presence.join(ctx, key, c.user, c.email)
	if !w.present.CompareAndSwap(presenceNone, presenceJoined) {
		c.h.presence.leave(key, c.user) // never announced: nothing to take back
		return false, false
	}
	return first, true
}

func newClient(h *Hub, t transport) *client {
	h.clients.Add(1)
	return &client{h: h, t: t, watching: make(map[string]*watch), typing: make(map[workspaces.ChatID]time.Time)}
}

func (c *client) sendEvent(e *outEvent) bool { return c.t.sendEvent(e) }

// kick disconnects the client once, for reason, without blocking the caller.
func (c *client) kick(reason string) {
	c.mu.Lock()
	if c.kicked || c.closed {
		c.mu.Unlock()
		return
	}
	c.kicked = true
	c.mu.Unlock()
	go c.t.close(reason)
}

// authenticate checks the credentials a client connects with: a JWT, or a
// connection string from GET /chat/authorize. The transport then calls start.
func (c *client) authenticate(ctx context.Context, a authReq) error {
	switch {
	case a.Token != "" && a.ConnectionString != "":
		return invalid("give either token or connection_string, not both")
	case a.Token != "":
		user, exp, err := c.h.deps.Tokens.Verify(a.Token)
		if err != nil {
			return err
		}
		u, err := c.h.deps.Workspaces.User(ctx, user)
		if err != nil {
			return workspaces.E(workspaces.KindUnauthenticated, "User not found")
		}
		c.mu.Lock()
		c.user, c.email, c.token, c.expires = u.ID, u.Email, true, exp
		c.mu.Unlock()
		return nil
	case a.ConnectionString != "":
		g, err := c.h.deps.Workspaces.ResolveSecret(ctx, workspaces.ConnectionString, a.ConnectionString)
		if err != nil {
			return err
		}
		u, err := c.h.deps.Workspaces.User(ctx, g.CreatedBy)
		if err != nil {
			return workspaces.E(workspaces.KindUnauthenticated, "User not found")
		}
		c.mu.Lock()
		c.user, c.email, c.grant, c.expires = u.ID, u.Email, g, g.ExpiresAt
		c.mu.Unlock()
		return nil
	default:
		return workspaces.E(workspaces.KindUnauthenticated, "Missing token or connection_string")
	}
}

// start arms the expiry timer of the credentials authenticate checked; the
// transport calls it once it can send.
func (c *client) start() {
	c.mu.Lock()
	exp := c.expires
	c.mu.Unlock()
	c.expireAt(exp)
}

// expireAt arms the expiry timer: RefreshBefore ahead of exp the client is
// sent auth_expiring; at exp, if it has not refreshed, it is disconnected
// with the reason auth_expired.
func (c *client) expireAt(exp time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.expires, c.warned = exp, false
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(max(time.Until(exp)-c.h.cfg.RefreshBefore, 0), c.onTimer)
}

func (c *client) onTimer() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	left := time.Until(c.expires)
	if left <= 0 {
		c.mu.Unlock()
		c.kick(reasonAuthExpired)
		return
	}
	warn := !c.warned
	c.warned = true
	exp := c.expires
	c.timer = time.AfterFunc(left, c.onTimer)
	c.mu.Unlock()
	if warn {
		how := "refresh" // the event that brings new credentials
		if _, ok := c.t.(*sseTransport); ok {
			how = "reconnect" // read-only: a new request with new credentials
		}
		c.t.control("auth_expiring", map[string]any{"expires_at": exp.UTC().Format(time.RFC3339), "refresh_with": how})
	}
}

// handle runs one client event and returns its ack, and a function to run
// once the ack has been sent (a join's replay must follow its ack).
func (c *client) handle(ctx context.Context, event string, data json.RawMessage) (ack map[string]any, then func()) {
	var err error
	switch event {
	case "join":
		var req joinReq
		if err = decode(data, &req); err == nil {
			ack, then, err = c.joinChat(ctx, workspaces.ChatID(req.ChatID), req.Since)
		}
	case "join_workspace":
		var req joinWorkspaceReq
		if err = decode(data, &req); err == nil {
			ack, then, err = c.joinWorkspace(ctx, workspaces.WorkspaceID(req.WorkspaceID), req.Since)
		}
	case "leave":
		var req leaveReq
		if err = decode(data, &req); err == nil {
			ack, err = c.leave(req)
		}
	case "message":
		var req messageReq
		if err = decode(data, &req); err == nil {
			ack, err = c.message(ctx, req)
		}
	case "typing":
		var req typingReq
		if err = decode(data, &req); err == nil {
			ack, err = c.typingEvent(ctx, workspaces.ChatID(req.ChatID))
		}
	case "stop":
		var req stopReq
		if err = decode(data, &req); err == nil {
			ack, err = c.stop(ctx, req)
		}
	case "refresh":
		var req refreshReq
		if err = decode(data, &req); err == nil {
			ack, err = c.refresh(ctx, req)
		}
	default:
		err = &ackError{Code: codeUnknownEvent, Message: "unknown event " + truncate(event, 64)}
	}
	if err != nil {
		if workspaces.ErrorKind(err) == workspaces.KindInternal && !isAckError(err) {
			c.h.logger.Error("client event failed", "event", event, "err", err)
		}
		return failure(err), nil
	}
	if ack == nil {
		ack = map[string]any{}
	}
	ack["ok"] = true
	return ack, then
}

func isAckError(err error) bool {
	var ae *ackError
	return errors.As(err, &ae)
}

// chatRole says whether the client may watch chat, and with which role.
func (c *client) chatRole(ctx context.Context, id workspaces.ChatID) (workspaces.WorkspaceID, workspaces.Role, error) {
	if id == "" {
		return "", "", invalid("chat_id is required")
	}
	c.mu.Lock()
	token, grant, user := c.token, c.grant, c.user
	c.mu.Unlock()
	if token {
		ch, err := c.h.deps.Workspaces.Chat(ctx, user, id)
		if err != nil {
			return "", "", err
		}
		return ch.WorkspaceID, ch.Role, nil
	}
	if grant.ChatID != id {
		return "", "", workspaces.E(workspaces.KindForbidden, "This connection string is for another chat")
	}
	return grant.WorkspaceID, grant.Role, nil
}

func (c *client) joinChat(ctx context.Context, id workspaces.ChatID, since *uint64) (map[string]any, func(), error) {
	ws, role, err := c.chatRole(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	filter := bus.ChatSubject(string(ws), string(id))
	w := &watch{ws: ws, chat: id, role: role}
	res, err := c.watch(ctx, "chat:"+string(id), filter, true, since, w)
	if err != nil {
		return nil, nil, err
	}
	key := presenceKey("chat", string(id))
	first, ok := c.joinPresence(ctx, key, w)
	if !ok {
		return nil, nil, workspaces.E(workspaces.KindUnavailable, "connection closed")
	}
	people, err := c.h.presence.list(ctx, key)
	if err != nil {
		c.h.logger.Warn("presence list", "err", err)
	}
	ack := map[string]any{"chat_id": id, "workspace_id": ws, "role": role, "seq": res.latest, "recovered": res.recovered, "presence": people}
	return ack, func() {
		res.then()
		if first && w.present.Load() == presenceJoined {
			c.h.presence.announce(ws, id, agents.EventPresenceJoined, c.user, c.email)
		}
	}, nil
}

func (c *client) joinWorkspace(ctx context.Context, id workspaces.WorkspaceID, since *uint64) (map[string]any, func(), error) {
	if id == "" {
		return nil, nil, invalid("workspace_id is required")
	}
	c.mu.Lock()
	token, user := c.token, c.user
	c.mu.Unlock()
	if !token {
		return nil, nil, workspaces.E(workspaces.KindForbidden, "Joining a workspace needs a token, not a connection string")
	}
	w, err := c.h.deps.Workspaces.Workspace(ctx, user, id)
	if err != nil {
		return nil, nil, err
	}
	wt := &watch{ws: id, role: w.Role}
	res, err := c.watch(ctx, "workspace:"+string(id), bus.WorkspaceSubject(string(id)), false, since, wt)
	if err != nil {
		return nil, nil, err
	}
	key := presenceKey("workspace", string(id))
	first, ok := c.joinPresence(ctx, key, wt)
	if !ok {
		return nil, nil, workspaces.E(workspaces.KindUnavailable, "connection closed")
	}
	people, err := c.h.presence.list(ctx, key)
	if err != nil {
		c.h.logger.Warn("presence list", "err", err)
	}
	ack := map[string]any{"workspace_id": id, "role": w.Role, "cursor": res.latest, "recovered": res.recovered, "presence": people}
	return ack, func() {
		res.then()
		if first && wt.present.Load() == presenceJoined {
			c.h.presence.announce(id, "", agents.EventPresenceJoined, c.user, c.email)
		}
	}, nil
}

// watched is what watch found.
type watched struct {
	latest    uint64 // the last seq (chat) or cursor (workspace) before live events
	recovered bool   // the events after since are being replayed, all of them
	then      func() // sends the replay, then starts live events
}

// watch adds the client to the room of filter and works out what to replay
// after since. Joining what is already watched starts over from since.
func (c *client) watch(ctx context.Context, key, filter string, chat bool, since *uint64, w *watch) (watched, error) {
	// A rejoin leaves the room and joins it again, but the user stays
	// present: w takes over the old watch's presence (no presence.left
	// and presence.joined for it).
	c.mu.Lock()
	old := c.watching[key]
	delete(c.watching, key)
	c.mu.Unlock()
	if old != nil {
		old.m.r.leave(old.m)
		w.present.Store(old.present.Swap(presenceLeft))
	}
	r, err := c.h.acquire(filter, chat)
	if err != nil {
		c.leftPresence(w)
		return watched{}, workspaces.Internal("watch", err)
	}
	m := r.join(c)
	w.m = m
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		r.leave(m)
		c.leftPresence(w)
		return watched{}, workspaces.E(workspaces.KindUnavailable, "connection closed")
	}
	c.watching[key] = w
	c.mu.Unlock()

	fail := func(err error) (watched, error) {
		c.unwatch(key)
		return watched{}, workspaces.Internal("watch", err)
	}
	var latest, first uint64
	if chat {
		last, _, err := c.h.log.Last(ctx, filter)
		if err != nil {
			return fail(err)
		}
		latest = last.Seq
	} else if first, latest, err = c.h.log.Bounds(ctx); err != nil {
		return fail(err)
	}
	var replay []bus.Entry
	recovered := false
	if since != nil && *since <= latest {
		n := *since
		recovered = true
		switch {
		case n == latest:
		case chat:
			if evs, ok := r.recentAfter(n, latest); ok {
				replay = evs
				break
			}
			cur, ok, err := c.h.log.CursorAfter(ctx, filter, n)
			if err != nil {
				return fail(err)
			}
			if !ok {
				recovered = false
				break
			}
			// Events can leave the window while they are read: the replay
			// must then be refused, not sent with a hole.
			next := n + 1
			err = c.h.log.Read(ctx, filter, cur, 0, func(e bus.Entry) error {
				if e.Seq != next {
					return errGap
				}
				replay = append(replay, e)
				if next++; next > latest {
					return errDone
				}
				return nil
			})
			if err == errGap || (err == nil && next <= latest) {
				recovered, replay = false, nil
				break
			}
			if err != nil && err != errDone {
				return fail(err)
			}
		default: // a workspace: resume by cursor
			if n+1 < first {
				recovered = false
				break
			}
			err := c.h.log.Read(ctx, filter, n+1, latest, func(e bus.Entry) error {
				if len(replay) >= c.h.cfg.MaxWorkspaceReplay {
					return errGap // too far behind: read the chats over REST
				}
				replay = append(replay, e)
				return nil
			})
			if err == nil {
				err = c.workspaceReplayWhole(ctx, replay)
			}
			if err == errGap {
				recovered, replay = false, nil
				break
			}
			if err != nil {
				return fail(err)
			}
		}
	}
	return watched{latest: latest, recovered: recovered, then: func() {
		for _, e := range replay {
			if !c.t.sendReplay(newOutEvent(e, r.key(e))) {
				return
			}
		}
		if !r.start(m, latest) {
			c.kick(reasonSlowConsumer)
		}
	}}, nil
}

// workspaceReplayWhole returns errGap if replay, a workspace's events after
// a cursor, may lack some: the log keeps a count of events per chat, so a
// chat's older events can be gone while the cursor is still in the log.
// For each chat, the event before its first replayed one must still be
// kept (it is then at or before the cursor, as the replay has every event
// after it), or the replay must start the chat.
func (c *client) workspaceReplayWhole(ctx context.Context, replay []bus.Entry) error {
	checked := make(map[string]bool)
	for _, e := range replay {
		if checked[e.Subject] {
			continue
		}
		checked[e.Subject] = true
		if e.Seq == 1 {
			continue
		}
		first, ok, err := c.h.log.Next(ctx, e.Subject, 1)
		if err != nil {
			return err
		}
		if !ok || first.Seq >= e.Seq {
			return errGap
		}
	}
	return nil
}

// errDone and errGap end a replay's read: all read, or an event missing.
var (
	errDone = errors.New("done")
	errGap  = errors.New("gap")
)

// unwatch leaves what key names, if watched.
func (c *client) unwatch(key string) bool {
	c.mu.Lock()
	w, ok := c.watching[key]
	delete(c.watching, key)
	c.mu.Unlock()
	if !ok {
		return false
	}
	w.m.r.leave(w.m)
	c.leftPresence(w)
	return true
}

func (c *client) leftPresence(w *watch) {
	if w.present.Swap(presenceLeft) != presenceJoined {
		return // not joined yet (joinPresence undoes its own) or left already
	}
	if w.chat != "" {
		if c.h.presence.leave(presenceKey("chat", string(w.chat)), c.user) {
			c.h.presence.announce(w.ws, w.chat, agents.EventPresenceLeft, c.user, c.email)
		}
		return
	}
	if c.h.presence.leave(presenceKey("workspace", string(w.ws)), c.user) {
		c.h.presence.announce(w.ws, "", agents.EventPresenceLeft, c.user, c.email)
	}
}

func (c *client) leave(req leaveReq) (map[string]any, error) {
	switch {
	case req.ChatID != "":
		if !c.unwatch("chat:" + req.ChatID) {
			return nil, workspaces.E(workspaces.KindNotFound, "Not watching that chat")
		}
	case req.WorkspaceID != "":
		if !c.unwatch("workspace:" + req.WorkspaceID) {
			return nil, workspaces.E(workspaces.KindNotFound, "Not watching that workspace")
		}
	default:
		return nil, invalid("chat_id or workspace_id is required")
	}
	return nil, nil
}

func (c *client) message(ctx context.Context, req messageReq) (map[string]any, error) {
	if req.ChatID == "" {
		return nil, invalid("chat_id is required")
	}
	if req.MessageString == "" {
		return nil, workspaces.E(workspaces.KindUnauthenticated, "message_string is required (get one from GET /chat/authorize/message)")
	}
	g, err := c.h.deps.Workspaces.ResolveSecret(ctx, workspaces.MessageString, req.MessageString)
	if err != nil {
		return nil, err
	}
	if g.ChatID != workspaces.ChatID(req.ChatID) {
		return nil, workspaces.E(workspaces.KindForbidden, "This message string is for another chat")
	}
	if g.CreatedBy != c.user {
		return nil, workspaces.E(workspaces.KindForbidden, "This message string belongs to another user")
	}
	sent, err := c.h.deps.Conversations.Send(ctx, g.WorkspaceID, g.ChatID, g.CreatedBy, req.Content, req.ClientID)
	if err != nil {
		return nil, err
	}
	runs := sent.Runs
	if runs == nil {
		runs = []agents.RunID{}
	}
	return map[string]any{"message_id": sent.Message.ID, "runs": runs, "duplicate": sent.Duplicate}, nil
}

func (c *client) typingEvent(ctx context.Context, id workspaces.ChatID) (map[string]any, error) {
	c.mu.Lock()
	w, ok := c.watching["chat:"+string(id)]
	last := c.typing[id]
	c.mu.Unlock()
	if !ok {
		return nil, workspaces.E(workspaces.KindForbidden, "Join the chat before typing in it")
	}
	if !w.role.CanSend() {
		return nil, workspaces.E(workspaces.KindForbidden, "Viewers cannot send messages")
	}
	now := time.Now()
	if now.Sub(last) < c.h.cfg.TypingInterval {
		return map[string]any{"throttled": true}, nil
	}
	c.mu.Lock()
	c.typing[id] = now
	c.mu.Unlock()
	if _, err := c.h.events.Publish(ctx, w.ws, id, agents.EventTyping, "", map[string]any{"user": userView(c.user, c.email)}); err != nil {
		return nil, workspaces.Internal("publish typing", err)
	}
	return nil, nil
}

func (c *client) stop(ctx context.Context, req stopReq) (map[string]any, error) {
	if req.RunID == "" {
		return nil, invalid("run_id is required")
	}
	_, role, err := c.chatRole(ctx, workspaces.ChatID(req.ChatID))
	if err != nil {
		return nil, err
	}
	if !role.CanSend() {
		return nil, workspaces.E(workspaces.KindForbidden, "Viewers cannot stop runs")
	}
	status, err := c.h.deps.Conversations.Stop(ctx, workspaces.ChatID(req.ChatID), agents.RunID(req.RunID))
	if err != nil {
		return nil, err
	}
	return map[string]any{"status": status}, nil
}

// refresh replaces the connection's credentials before they expire. The new
// ones must be the same user's.
func (c *client) refresh(ctx context.Context, req refreshReq) (map[string]any, error) {
	c.mu.Lock()
	token, grant, user := c.token, c.grant, c.user
	c.mu.Unlock()
	var exp time.Time
	switch {
	case token && req.Token != "":
		u, e, err := c.h.deps.Tokens.Verify(req.Token)
		if err != nil {
			return nil, err
		}
		if u != user {
			return nil, workspaces.E(workspaces.KindForbidden, "The new token is another user's")
		}
		exp = e
	case !token && req.ConnectionString != "":
		g, err := c.h.deps.Workspaces.ResolveSecret(ctx, workspaces.ConnectionString, req.ConnectionString)
		if err != nil {
			return nil, err
		}
		if g.CreatedBy != user || g.ChatID != grant.ChatID {
			return nil, workspaces.E(workspaces.KindForbidden, "The new connection string is for another user or chat")
		}
		c.mu.Lock()
		c.grant = g
		c.mu.Unlock()
		exp = g.ExpiresAt
	case token:
		return nil, invalid("token is required")
	default:
		return nil, invalid("connection_string is required")
	}
	c.expireAt(exp)
	return map[string]any{"expires_at": exp.UTC().Format(time.RFC3339)}, nil
}

// autoJoin joins a connection string's chat, as seed 002's flow expects, and
// reports it with a "joined" control event.
func (c *client) autoJoin(ctx context.Context, since *uint64) {
	c.mu.Lock()
	chat := c.grant.ChatID
	c.mu.Unlock()
	if chat == "" {
		return
	}
	ack, then, err := c.joinChat(ctx, chat, since)
	if err != nil {
		c.t.control("joined", failure(err))
		return
	}
	ack["ok"] = true
	c.t.control("joined", ack)
	then()
}

// disconnected leaves everything; the transport calls it once when the
// connection is gone.
func (c *client) disconnected() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	watching := c.watching
	c.watching = nil
	c.mu.Unlock()
	for _, w := range watching {
		w.m.r.leave(w.m)
		c.leftPresence(w)
	}
	c.h.clients.Add(-1)
}

func userView(id workspaces.UserID, email string) map[string]any {
	return map[string]any{"id": id, "email": email}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
