package mcp

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/agents"
	"github.com/atrium-hq/atrium/workspaces"
)

// Config tunes a Manager. The zero value works.
type Config struct {
	// StdioCommands are the commands stdio servers may run (see
	// ParseStdioCommands): checked again before each start, so a server
	// saved under a wider list stops running when the list narrows. Nil
	// means DefaultStdioCommands; empty, none.
	StdioCommands []string
	// HTTPClient reaches http servers; Atrium passes safehttp's client,
	// which refuses private addresses. Its Timeout is not used: it would
	// cut the long-lived event stream (connecting is bounded by
	// ConnectTimeout, calls by their context). Nil means a plain
	// http.Client, which reaches any address.
	HTTPClient *http.Client
	// ConnectTimeout bounds connecting to a server, starting its process
	// and the MCP handshake included (`npx -y` may download the server
	// first). Zero means 60 seconds.
	ConnectTimeout time.Duration
	// TerminateTimeout is how long a stdio child may take to exit once its
	// stdin is closed, before SIGTERM and then SIGKILL. Zero means 5 s.
	TerminateTimeout time.Duration
	// BackoffMin and BackoffMax bound the wait before reconnecting a
	// failed or crashed server: it starts at BackoffMin and doubles up to
	// BackoffMax. Zero means 1 second and 1 minute.
	BackoffMin, BackoffMax time.Duration
	// HealthyAfter is how long a session must have lasted for its end to
	// reset the backoff. Zero means 1 minute.
	HealthyAfter time.Duration
	// IdleTimeout closes the session (and process) of a server that is
	// not auto_connect when no tool of it was used for this long; it
	// reconnects when next used. Zero means 30 minutes; negative, never.
	// Only while Start's sweep runs.
	IdleTimeout time.Duration
	// WorkDir holds each stdio server's working directory, WorkDir/<id>,
	// so a server given "." sees an empty directory rather than Atrium's.
	// Empty means atrium-mcp in the system's temporary directory.
	WorkDir string
	// BaseEnv names the variables of Atrium's environment that stdio
	// children get, before their own Env; nothing else of Atrium's
	// environment (its secrets) reaches them. Nil means PATH, HOME, LANG
	// and TMPDIR.
	BaseEnv []string
	// Version is the client version Atrium announces to servers. Empty
	// means "dev".
	Version string
	// Logger receives connection events and failures. Nil discards.
	Logger *slog.Logger
	// SDKLogger receives the MCP SDK's own log. Nil discards.
	SDKLogger *slog.Logger
}

// Manager keeps one client session per MCP server and offers the servers'
// tools to agents. It is an agents.ToolSource. Safe for concurrent use;
// call Close when done.
type Manager struct {
	store *Store
	// listChanges counts the servers' notices that their tools changed.
	listChanges atomic.Uint64
	cfg         Config
	log         *slog.Logger
	commands    commandPolicy
	now         func() time.Time
	// ctx is cancelled by Close, aborting connection attempts.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the goroutines Close waits for: attempts, session
	// watchers, background closes, the idle sweep.
	wg sync.WaitGroup

	mu      sync.Mutex // guards conns, started and closed
	conns   map[ServerID]*conn
	started bool
	closed  bool
}

var _ agents.ToolSource = (*Manager)(nil)

// NewManager returns a Manager reading servers from store. It connects
// nothing until used or started.
func NewManager(store *Store, cfg Config) *Manager {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 60 * time.Second
	}
	if cfg.TerminateTimeout <= 0 {
		cfg.TerminateTimeout = 5 * time.Second
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = time.Minute
	}
	cfg.BackoffMax = max(cfg.BackoffMax, cfg.BackoffMin)
	if cfg.HealthyAfter <= 0 {
		cfg.HealthyAfter = time.Minute
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = filepath.Join(os.TempDir(), "atrium-mcp")
	}
	if cfg.BaseEnv == nil {
		cfg.BaseEnv = []string{"PATH", "HOME", "LANG", "TMPDIR"}
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.HTTPClient == nil {
		// A transport of its own: http.DefaultTransport's idle connections
		// are anyone's to close.
		cfg.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SDKLogger == nil {
		cfg.SDKLogger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		store: store, cfg: cfg, log: cfg.Logger, commands: newCommandPolicy(cfg.StdioCommands), now: time.Now,
		ctx: ctx, cancel: cancel, conns: map[ServerID]*conn{},
	}
}

// Start connects every active auto_connect server in the background and
// starts the sweep that closes idle sessions. It returns once the servers
// are read; connection failures are logged, not returned.
func (m *Manager) Start(ctx context.Context) error {
	m.mu.Lock()
	if m.closed || m.started {
		m.mu.Unlock()
		return nil
	}
	m.started = true
	if m.cfg.IdleTimeout > 0 {
		m.wg.Add(1)
		go m.sweep()
	}
	m.mu.Unlock()
	servers, err := m.store.autoConnect(ctx)
	if err != nil {
		return err
	}
	for _, srv := range servers {
		if c := m.conn(srv); c != nil {
			c.kick()
		}
	}
	return nil
}

// sweep closes idle sessions until Close.
func (m *Manager) sweep() {
	defer m.wg.Done()
	t := time.NewTicker(max(m.cfg.IdleTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-t.C:
		}
		before := m.now().Add(-m.cfg.IdleTimeout)
		for _, c := range m.snapshot() {
			c.closeIdle(before)
		}
	}
}

func (m *Manager) snapshot() []*conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*conn, 0, len(m.conns))
	for _, c := range m.conns {
		out = append(out, c)
	}
	return out
}

// conn returns the conn of srv, replacing one made for an older version
// of it (changed on another node, say). Nil after Close.
func (m *Manager) conn(srv Server) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	c := m.conns[srv.ID]
	if c != nil && !c.srv.UpdatedAt.Before(srv.UpdatedAt) {
		// The same version, or a newer one than a slow caller read.
		return c
	}
	if c != nil {
		m.closeLater(c)
	}
	c = newConn(m, srv)
	m.conns[srv.ID] = c
	return c
}

// current returns the conn made for srv exactly, or nil if the server
// changed or was forgotten since.
func (m *Manager) current(srv Server) *conn {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.conns[srv.ID]; c != nil && c.srv.UpdatedAt.Equal(srv.UpdatedAt) {
		return c
	}
	return nil
}

// closeLater closes c in the background. m.mu is held.
func (m *Manager) closeLater(c *conn) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		c.close()
	}()
}

// Forget drops the connection to server id, stopping its process in the
// background: call it after updating or deleting the server. Tools of it
// handed out before fail from then on; the next Tools connects anew.
func (m *Manager) Forget(id ServerID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.conns[id]; c != nil {
		delete(m.conns, id)
		m.closeLater(c)
	}
}

// Close closes every session, stops every child process and waits for
// them and for every goroutine of the Manager.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.wg.Wait()
		return nil
	}
	m.closed = true
	conns := m.conns
	m.conns = map[ServerID]*conn{}
	m.mu.Unlock()
	m.cancel()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(c.close)
	}
	wg.Wait()
	m.wg.Wait()
	return nil
}

// nextDelay is the backoff after d.
func (m *Manager) nextDelay(d time.Duration) time.Duration {
	if d <= 0 {
		return m.cfg.BackoffMin
	}
	return min(2*d, m.cfg.BackoffMax)
}

// ToolsVersion changes when the store changes or a server says its tools
// changed (agents.ToolsVersioner).
func (m *Manager) ToolsVersion() uint64 { return m.store.Version() + m.listChanges.Load() }

// Tools returns the tools of the active servers of a's owner that serve
// a. A server that cannot be reached is skipped (and logged): it never
// fails the run. Servers still connecting are waited for until ctx is
// done or Config.ConnectTimeout passes.
func (m *Manager) Tools(ctx context.Context, a agents.Agent) ([]agents.Tool, error) {
	servers, err := m.store.ForAgent(ctx, a.Owner, a.ID, true)
	if err != nil {
		m.log.Error("mcp: list servers", "agent", a.ID, "err", err)
		return nil, nil
	}
	lists := m.listAll(ctx, servers)
	var out []agents.Tool
	seen := map[string]bool{}
	for i, srv := range servers {
		if lists[i].err != nil {
			m.log.Warn("mcp: skipping the tools of a server", "server", srv.ID, "name", srv.Name, "agent", a.ID, "err", lists[i].err)
			continue
		}
		for _, info := range toolInfos(srv, lists[i].tools, seen) {
			out = append(out, &tool{m: m, srv: srv, info: info})
		}
	}
	return out, nil
}

// listed is one server's tool list or why there is none.
type listed struct {
	tools []*sdk.Tool
	err   error
}

// listAll lists the tools of servers in parallel, in their order.
func (m *Manager) listAll(ctx context.Context, servers []Server) []listed {
	out := make([]listed, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		if !srv.Active {
			continue
		}
		wg.Go(func() {
			c := m.conn(srv)
			if c == nil {
				out[i].err = errManagerClosed
				return
			}
			ctx, cancel := context.WithTimeout(ctx, m.cfg.ConnectTimeout)
			defer cancel()
			out[i].tools, out[i].err = c.listTools(ctx)
		})
	}
	wg.Wait()
	return out
}

// The states of a server in ServerTools.
const (
	StatusConnected = "connected"
	StatusError     = "error"
	StatusInactive  = "inactive"
)

// ServerTools is one server's state and tools, for list_tools.
type ServerTools struct {
	// Server is the server, masked (see Server.Masked).
	Server Server
	// Status is StatusConnected, StatusError (Error says why) or
	// StatusInactive.
	Status string
	Error  string
	Tools  []ToolInfo
}

// ListTools returns, for each server of owner serving agent (every server
// of owner when agent is ""), its state and tools, connecting as Tools
// does. An agent owner does not own is an invalid-argument error.
func (m *Manager) ListTools(ctx context.Context, owner workspaces.UserID, agent agents.ID) ([]ServerTools, error) {
	var servers []Server
	var err error
	if agent == "" {
		servers, err = m.store.List(ctx, owner)
	} else {
		if err := m.store.CheckAgent(ctx, owner, agent); err != nil {
			return nil, err
		}
		servers, err = m.store.ForAgent(ctx, owner, agent, false)
	}
	if err != nil {
		return nil, err
	}
	lists := m.listAll(ctx, servers)
	out := make([]ServerTools, len(servers))
	seen := map[string]bool{}
	for i, srv := range servers {
		st := ServerTools{Server: srv.Masked(), Status: StatusConnected, Tools: []ToolInfo{}}
		switch {
		case !srv.Active:
			st.Status = StatusInactive
		case lists[i].err != nil:
			st.Status, st.Error = StatusError, lists[i].err.Error()
		default:
			st.Tools = toolInfos(srv, lists[i].tools, seen)
		}
		out[i] = st
	}
	return out, nil
}

// Test connects to srv afresh (not through the Manager's sessions), lists
// its tools and disconnects: for test_connection. A command the operator
// does not allow is an invalid-argument error; a server that cannot be
// reached, an unavailable error whose message says why (with the end of a
// stdio child's stderr).
func (m *Manager) Test(ctx context.Context, srv Server) ([]ToolInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.ConnectTimeout)
	defer cancel()
	d, err := m.dial(ctx, srv, nil)
	if err != nil {
		return nil, testError(err)
	}
	defer d.close()
	var tools []*sdk.Tool
	for t, err := range d.session.Tools(ctx, nil) {
		if err != nil {
			return nil, testError(describe(srv, "could not list the tools of", err, d.stderr))
		}
		tools = append(tools, t)
	}
	return toolInfos(srv, tools, map[string]bool{}), nil
}

// testError makes err an unavailable error unless it has a kind.
func testError(err error) error {
	var we *workspaces.Error
	if errors.As(err, &we) {
		return err
	}
	return &workspaces.Error{Kind: workspaces.KindUnavailable, Message: err.Error()}
}

// pid returns the process id of server id's stdio child, or 0: for tests.
func (m *Manager) pid(id ServerID) int {
	m.mu.Lock()
	c := m.conns[id]
	m.mu.Unlock()
	if c == nil {
		return 0
	}
	return c.pid()
}
