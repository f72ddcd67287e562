package hub

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// accessChanged re-checks, after someone lost access to workspace ws (user
// empty: anyone, as when the workspace or one of its chats was deleted),
// the watches this node's clients have in ws. Access is checked when a
// client joins; without this, a removed member would go on receiving the
// workspace's events until their token expired. It runs on the access
// subscription's goroutine, one notice at a time.
func (h *Hub) accessChanged(ws workspaces.WorkspaceID, user workspaces.UserID) {
	prefix := bus.ChatSubject(string(ws), "") // the chats' rooms and the workspace's
	seen := make(map[*client]struct{})
	h.mu.Lock()
	for filter, r := range h.rooms {
		if !strings.HasPrefix(filter, prefix) {
			continue
		}
		r.mu.Lock()
		for m := range r.members {
			seen[m.c] = struct{}{}
		}
		r.mu.Unlock()
	}
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	for c := range seen {
		c.recheck(ctx, ws, user)
	}
}

// recheck ends c's watches in ws that its user may no longer make, if c is
// user's (or user is empty). A client with a token keeps its connection and
// gets "access_revoked" for each watch that ended; one with a connection
// string, which watches its one chat, is disconnected with auth_revoked.
func (c *client) recheck(ctx context.Context, ws workspaces.WorkspaceID, user workspaces.UserID) {
	c.mu.Lock()
	me, token := c.user, c.token
	var keys []string
	var ended []*watch
	if user == "" || user == me {
		for k, w := range c.watching {
			if w.ws == ws {
				keys, ended = append(keys, k), append(ended, w)
			}
		}
	}
	c.mu.Unlock()
	for i, w := range ended {
		var err error
		if w.chat != "" {
			_, err = c.h.deps.Workspaces.Chat(ctx, me, w.chat)
		} else {
			_, err = c.h.deps.Workspaces.Workspace(ctx, me, ws)
		}
		var we *workspaces.Error
		if err == nil || !errors.As(err, &we) || (we.Kind != workspaces.KindForbidden && we.Kind != workspaces.KindNotFound) {
			if err != nil {
				c.h.logger.Warn("access re-check", "err", err)
			}
			continue // still allowed, or unknown: the next join checks again
		}
		if !token {
			c.kick(reasonAuthRevoked)
			return
		}
		if !c.unwatch(keys[i]) {
			continue // left meanwhile
		}
		what := map[string]any{"workspace_id": ws, "reason": we.Message}
		if w.chat != "" {
			what["chat_id"] = w.chat
		}
		c.t.control("access_revoked", what)
	}
}
