package hub

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// presence tracks who watches each chat and workspace. Each node counts its
// own clients per user, and writes one entry "<kind>.<id>.<node>.<user>" to
// the shared table when a user starts watching there (before the join is
// acknowledged, so every node sees it at once) and removes it when they
// stop (a purge); it rewrites its entries before they expire. The people present are
// every node's entries. A node that dies drops out when its entries expire:
// the table reports each expiry to every node, and the one that claims it
// announces presence.left for a user no longer present anywhere (expired).
type presence struct {
	h     *Hub
	store *bus.Presence // nil: this node only

	mu    sync.Mutex                                    // guards local
	local map[string]map[workspaces.UserID]*presentUser // by key

	// publish sends a presence event (publishEvent; tests record them).
	publish func(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ agents.EventType, user workspaces.UserID, email string)
}

type presentUser struct {
	ID    workspaces.UserID `json:"id"`
	Email string            `json:"email"`
	n     int
}

func newPresence(h *Hub, store *bus.Presence) *presence {
	p := &presence{h: h, store: store, local: make(map[string]map[workspaces.UserID]*presentUser)}
	p.publish = p.publishEvent
	return p
}

func presenceKey(kind, id string) string { return kind + "." + id }

func (p *presence) entry(key string, user workspaces.UserID) string {
	return key + "." + p.h.cfg.Node + "." + string(user)
}

// join counts one more connection of user at key; it reports whether the
// user was not there before (on any node).
func (p *presence) join(ctx context.Context, key string, user workspaces.UserID, email string) bool {
	p.mu.Lock()
	users := p.local[key]
	if users == nil {
		users = make(map[workspaces.UserID]*presentUser)
		p.local[key] = users
	}
	u := users[user]
	if u == nil {
		u = &presentUser{ID: user, Email: email}
		users[user] = u
	}
	u.n++
	first := u.n == 1
	p.mu.Unlock()
	if first && p.store != nil {
		v, _ := json.Marshal(u)
		if err := p.store.Put(ctx, p.entry(key, user), v); err != nil {
			p.h.logger.Warn("presence write", "err", err)
		}
		// Present on another node already: nobody new arrived.
		first = !p.elsewhere(ctx, key, user)
	}
	return first
}

// elsewhere reports whether user is present at key on another node.
func (p *presence) elsewhere(ctx context.Context, key string, user workspaces.UserID) bool {
	entries, err := p.store.List(ctx, key+".*."+string(user))
	if err != nil {
		p.h.logger.Warn("presence list", "err", err)
		return false
	}
	delete(entries, p.entry(key, user))
	return len(entries) > 0
}

// leave counts one connection fewer; it reports whether it was the user's
// last (on any node).
func (p *presence) leave(key string, user workspaces.UserID) bool {
	p.mu.Lock()
	u := p.local[key][user]
	if u == nil {
		p.mu.Unlock()
		return false
	}
	u.n--
	if u.n > 0 {
		p.mu.Unlock()
		return false
	}
	delete(p.local[key], user)
	if len(p.local[key]) == 0 {
		delete(p.local, key)
	}
	p.mu.Unlock()
	if p.store != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(p.h.ctx), 5*time.Second)
		defer cancel()
		if err := p.store.Delete(ctx, p.entry(key, user)); err != nil {
			p.h.logger.Warn("presence delete", "err", err)
		}
		// Still present on another node: nobody left.
		return !p.elsewhere(ctx, key, user)
	}
	return true
}

// list returns everyone present at key on any node, sorted by email.
func (p *presence) list(ctx context.Context, key string) ([]presentUser, error) {
	seen := map[workspaces.UserID]presentUser{}
	p.mu.Lock()
	for id, u := range p.local[key] {
		seen[id] = *u
	}
	p.mu.Unlock()
	var err error
	if p.store != nil {
		var entries map[string][]byte
		entries, err = p.store.List(ctx, key+".>")
		for _, v := range entries {
			var u presentUser
			if json.Unmarshal(v, &u) == nil && u.ID != "" {
				seen[u.ID] = u
			}
		}
	}
	out := make([]presentUser, 0, len(seen))
	for _, u := range seen {
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Email < out[j].Email })
	return out, err
}

// announce publishes presence.joined or presence.left in chat, or in the
// workspace when chat is empty.
func (p *presence) announce(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ agents.EventType, user workspaces.UserID, email string) {
	p.publish(ws, chat, typ, user, email)
}

func (p *presence) publishEvent(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ agents.EventType, user workspaces.UserID, email string) {
	ctx, cancel := context.WithTimeout(p.h.ctx, 10*time.Second)
	defer cancel()
	if _, err := p.h.events.Publish(ctx, ws, chat, typ, "", map[string]any{"user": userView(user, email)}); err != nil && p.h.ctx.Err() == nil {
		p.h.logger.Warn("publish presence", "type", typ, "err", err)
	}
}

// run rewrites this node's entries before they expire, until ctx ends.
func (p *presence) run(ctx context.Context) {
	if p.store == nil {
		return
	}
	if err := p.store.Expirations(ctx, p.expired); err != nil {
		p.h.logger.Warn("presence: people on a node that dies will leave silently", "err", err)
	}
	refresh := time.NewTicker(p.store.TTL() / 3)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-refresh.C:
			p.refresh(ctx)
		}
	}
}

// expired handles an entry that expired: its node stopped rewriting it. If
// the node is this one (NATS was away for longer than the TTL), the entry
// is written again if the user is still here. Otherwise, unless the user is
// present on some node, the node that claims the expiry announces that they
// left (every node sees it).
func (p *presence) expired(x bus.Expiration) {
	parts := strings.Split(x.Key, ".")
	if len(parts) != 4 || (parts[0] != "chat" && parts[0] != "workspace") {
		return
	}
	kind, id, node, user := parts[0], parts[1], parts[2], workspaces.UserID(parts[3])
	key := presenceKey(kind, id)
	ctx, cancel := context.WithTimeout(p.h.ctx, 10*time.Second)
	defer cancel()
	if node == p.h.cfg.Node {
		p.mu.Lock()
		u := p.local[key][user]
		var v []byte
		if u != nil {
			v, _ = json.Marshal(u)
		}
		p.mu.Unlock()
		if u != nil {
			if err := p.store.Put(ctx, x.Key, v); err != nil {
				p.h.logger.Warn("presence rewrite", "err", err)
			}
		}
		return // else they left here, and that was announced then
	}
	if entries, err := p.store.List(ctx, key+".*."+string(user)); err != nil || len(entries) > 0 {
		return // still present (or unknown: better no event than a wrong one)
	}
	if won, err := p.store.Claim(ctx, "left."+strconv.FormatUint(x.ID, 10)); err != nil || !won {
		return
	}
	u, err := p.h.deps.Workspaces.User(ctx, user)
	if err != nil {
		return
	}
	ws, chat := workspaces.WorkspaceID(id), workspaces.ChatID("")
	if kind == "chat" {
		c, err := p.h.deps.Workspaces.Chat(ctx, user, workspaces.ChatID(id))
		if err != nil {
			return // gone, or no longer theirs: their watch ended with it
		}
		ws, chat = c.WorkspaceID, c.ID
	}
	p.announce(ws, chat, agents.EventPresenceLeft, user, u.Email)
}

func (p *presence) refresh(ctx context.Context) {
	type kv struct {
		key string
		val []byte
	}
	p.mu.Lock()
	var all []kv
	for key, users := range p.local {
		for id, u := range users {
			v, _ := json.Marshal(u)
			all = append(all, kv{p.entry(key, id), v})
		}
	}
	p.mu.Unlock()
	for _, e := range all {
		if err := p.store.Put(ctx, e.key, e.val); err != nil && ctx.Err() == nil {
			p.h.logger.Warn("presence refresh", "err", err)
			return
		}
	}
}

// clear removes this node's entries (on shutdown).
func (p *presence) clear() {
	if p.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p.mu.Lock()
	var keys []string
	for key, users := range p.local {
		for id := range users {
			keys = append(keys, p.entry(key, id))
		}
	}
	p.mu.Unlock()
	for _, k := range keys {
		p.store.Delete(ctx, k)
	}
}
