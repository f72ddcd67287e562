package hub

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// presence tracks who watches each chat and workspace. Each node counts its
// own clients per user and writes, for every chat it has watchers in, one
// entry "<kind>.<id>.<node>" to the shared table, rewritten before it
// expires; the list of people present is the union of every node's entry.
// A node that dies drops out when its entries expire.
type presence struct {
	h     *Hub
	store *bus.Presence // nil: this node only

	mu    sync.Mutex                                   // guards the following fields
	local map[string]map[workspaces.UserID]*presentUser // by key
	dirty map[string]bool
	kick  chan struct{}
}

type presentUser struct {
	ID    workspaces.UserID `json:"id"`
	Email string            `json:"email"`
	n     int
}

func newPresence(h *Hub, store *bus.Presence) *presence {
	return &presence{h: h, store: store, local: make(map[string]map[workspaces.UserID]*presentUser), dirty: make(map[string]bool), kick: make(chan struct{}, 1)}
}

func presenceKey(kind, id string) string { return kind + "." + id }

// join counts one more connection of user at key; it reports whether the
// user was not there before (on this node).
func (p *presence) join(key string, user workspaces.UserID, email string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
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
	if u.n == 1 {
		p.markDirty(key)
		return true
	}
	return false
}

// leave counts one connection fewer; it reports whether it was the user's last.
func (p *presence) leave(key string, user workspaces.UserID) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.local[key][user]
	if u == nil {
		return false
	}
	u.n--
	if u.n > 0 {
		return false
	}
	delete(p.local[key], user)
	if len(p.local[key]) == 0 {
		delete(p.local, key)
	}
	p.markDirty(key)
	return true
}

func (p *presence) markDirty(key string) {
	p.dirty[key] = true
	select {
	case p.kick <- struct{}{}:
	default:
	}
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
		entries, err = p.store.List(ctx, key+".*")
		own := key + "." + p.h.cfg.Node
		for k, v := range entries {
			if k == own {
				continue
			}
			var users []presentUser
			if json.Unmarshal(v, &users) == nil {
				for _, u := range users {
					seen[u.ID] = u
				}
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

// announce publishes presence.joined or presence.left in chat.
func (p *presence) announce(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ agents.EventType, user workspaces.UserID, email string) {
	ctx, cancel := context.WithTimeout(p.h.ctx, 10*time.Second)
	defer cancel()
	if _, err := p.h.events.Publish(ctx, ws, chat, typ, "", map[string]any{"user": userView(user, email)}); err != nil && p.h.ctx.Err() == nil {
		p.h.logger.Warn("publish presence", "type", typ, "err", err)
	}
}

// run writes changed entries to the shared table at most every 200ms, and
// rewrites all of this node's entries before they expire.
func (p *presence) run(ctx context.Context) {
	if p.store == nil {
		return
	}
	refresh := time.NewTicker(p.store.TTL() / 3)
	defer refresh.Stop()
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-refresh.C:
			all = true
		}
		p.flush(ctx, all)
		select { // coalesce bursts of joins
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *presence) flush(ctx context.Context, all bool) {
	p.mu.Lock()
	keys := p.dirty
	p.dirty = make(map[string]bool)
	if all {
		for k := range p.local {
			keys[k] = true
		}
	}
	values := make(map[string][]byte, len(keys))
	for k := range keys {
		users := p.local[k]
		if len(users) == 0 {
			values[k] = nil
			continue
		}
		list := make([]presentUser, 0, len(users))
		for _, u := range users {
			list = append(list, *u)
		}
		values[k], _ = json.Marshal(list)
	}
	p.mu.Unlock()
	for k, v := range values {
		key := k + "." + p.h.cfg.Node
		var err error
		if v == nil {
			err = p.store.Delete(ctx, key)
		} else {
			err = p.store.Put(ctx, key, v)
		}
		if err != nil && ctx.Err() == nil {
			p.h.logger.Warn("presence write", "key", key, "err", err)
			p.mu.Lock()
			p.markDirty(k) // try again on the next round
			p.mu.Unlock()
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
	keys := make([]string, 0, len(p.local))
	for k := range p.local {
		keys = append(keys, k)
	}
	p.mu.Unlock()
	for _, k := range keys {
		p.store.Delete(ctx, k+"."+p.h.cfg.Node)
	}
}
