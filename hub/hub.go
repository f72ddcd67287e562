package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
	"github.com/nats-io/nats.go"
)

// Deps are what a Hub needs.
type Deps struct {
	Logger        *slog.Logger
	Workspaces    *workspaces.Service
	Conversations *agents.Conversations
	Tokens        *workspaces.Tokens
	// Presence is the table shared by all nodes; nil keeps presence local
	// to this node.
	Presence *bus.Presence
	// Access brings notices that someone lost access to a workspace, from
	// any node (workspaces.Config.AccessChanged sends them); the watches
	// they affect are checked again. Nil: access is checked at join only.
	Access *bus.Access
}

// Config tunes a Hub. The zero value works.
type Config struct {
	// Node names this node in the shared presence table. Empty means a
	// random id.
	Node string
	// SendQueue is how many events may wait for one client before it is
	// disconnected as a slow consumer. Zero means 1024.
	SendQueue int
	// MaxFrameBytes bounds one frame or packet from a client. Zero means
	// 256 KiB.
	MaxFrameBytes int64
	// RecentEvents is how many recent events each room keeps in memory to
	// replay without reading the chat log. Zero means 1024.
	RecentEvents int
	// RecentBytes bounds the size of the events a room keeps (their
	// encoded data): a chat of long messages keeps fewer. Zero means
	// 64 KiB, a few answers of a busy chat.
	RecentBytes int
	// MaxWorkspaceReplay is the most events a join_workspace with since
	// replays; further behind, it answers recovered: false. Zero means
	// 10,000.
	MaxWorkspaceReplay int
	// RefreshBefore is how long before a connection's credentials expire the
	// client is asked to refresh them. Zero means one minute.
	RefreshBefore time.Duration
	// TypingInterval is the least time between two typing events of one
	// client in one chat; more are dropped. Zero means two seconds.
	TypingInterval time.Duration
	// PingInterval is how often idle WebSocket and SSE connections are
	// pinged. Zero means 25 seconds.
	PingInterval time.Duration
	// CORSOrigins lists the origins allowed to connect from browsers; empty
	// means any origin (Atrium's auth is token-based, not cookie-based).
	CORSOrigins []string
}

// Hub serves the live transports. Create it with New, mount Handler, and
// call Close on shutdown.
type Hub struct {
	deps     Deps
	cfg      Config
	logger   *slog.Logger
	log      *bus.ChatLog
	events   *agents.Events
	presence *presence
	sio      *socketIO
	ws       *wsServer

	ctx    context.Context // ends when the hub closes
	cancel context.CancelFunc

	mu    sync.Mutex       // guards rooms
	rooms map[string]*room // by filter subject

	clients atomic.Int64
	wg      sync.WaitGroup     // background loops
	access  *nats.Subscription // Deps.Access's notices; nil without
}

// New returns a Hub. It starts the presence loop; Close stops it.
func New(deps Deps, cfg Config) *Hub {
	if cfg.Node == "" {
		var b [8]byte
		rand.Read(b[:])
		cfg.Node = hex.EncodeToString(b[:])
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = 1024
	}
	if cfg.MaxFrameBytes <= 0 {
		cfg.MaxFrameBytes = 256 << 10
	}
	if cfg.RecentEvents <= 0 {
		cfg.RecentEvents = 1024
	}
	if cfg.RecentBytes <= 0 {
		cfg.RecentBytes = 64 << 10
	}
	if cfg.MaxWorkspaceReplay <= 0 {
		cfg.MaxWorkspaceReplay = 10000
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = time.Minute
	}
	if cfg.TypingInterval <= 0 {
		cfg.TypingInterval = 2 * time.Second
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 25 * time.Second
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		deps: deps, cfg: cfg, logger: deps.Logger.With("component", "hub"),
		events: deps.Conversations.Events(), log: deps.Conversations.Events().Log(),
		ctx: ctx, cancel: cancel, rooms: make(map[string]*room),
	}
	h.presence = newPresence(h, deps.Presence)
	h.sio = newSocketIO(h)
	h.ws = newWSServer(h)
	h.wg.Add(1)
	go func() { defer h.wg.Done(); h.presence.run(ctx) }()
	if deps.Access != nil {
		sub, err := deps.Access.Subscribe(func(ws, user string) {
			h.accessChanged(workspaces.WorkspaceID(ws), workspaces.UserID(user))
		})
		if err != nil {
			h.logger.Warn("access notices: access is checked at join only", "err", err)
		}
		h.access = sub
	}
	return h
}

// Patterns are the http.ServeMux patterns Handler serves.
var Patterns = []string{
	"/socket.io/",
	"GET /ws",
	"GET /chat/{chat_id}/events",
	"GET /workspace/{workspace_id}/events",
}

// Handler serves the paths in Patterns.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	lib := h.sio.handler()
	mux.HandleFunc("/socket.io/", func(w http.ResponseWriter, r *http.Request) {
		if wantsNativeSIO(r) {
			h.serveSIOWS(w, r)
			return
		}
		lib.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /ws", h.serveWS)
	mux.HandleFunc("GET /chat/{chat_id}/events", h.serveChatSSE)
	mux.HandleFunc("GET /workspace/{workspace_id}/events", h.serveWorkspaceSSE)
	return mux
}

// Clients is how many clients are connected to this node.
func (h *Hub) Clients() int64 { return h.clients.Load() }

// Close disconnects every client with the reason "server_shutdown" and
// stops the hub's loops.
func (h *Hub) Close() {
	if h.access != nil {
		h.access.Unsubscribe()
	}
	h.cancel()
	h.sio.close()
	h.ws.close()
	h.wg.Wait()
	h.presence.clear()
}

// room returns the room for filter, creating it and subscribing it to the
// live events of filter when it is new. The caller must add a member (or
// call release) so the room is torn down when nobody watches.
func (h *Hub) acquire(filter string, chat bool) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r, ok := h.rooms[filter]; ok {
		r.refs++
		return r, nil
	}
	r := newRoom(h, filter, chat)
	sub, err := h.log.Subscribe(filter, r.receive)
	if err != nil {
		return nil, err
	}
	r.sub = sub
	h.rooms[filter] = r
	r.refs++
	return r, nil
}

// release drops one reference to r, unsubscribing it when it was the last.
func (h *Hub) release(r *room) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.refs--
	if r.refs > 0 {
		return
	}
	delete(h.rooms, r.filter)
	r.sub.Unsubscribe()
	r.close()
}

// Rooms is how many chats and workspaces this node currently watches.
func (h *Hub) Rooms() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.rooms)
}
