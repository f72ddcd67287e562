package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/atrium-hq/atrium/workspaces"
)

var errManagerClosed = errors.New("the MCP connection manager is closed")

// conn is the Manager's connection to one server configuration. It
// connects when asked (or at Start), one attempt at a time, and remembers
// why the last attempt failed or the last session ended.
type conn struct {
	m   *Manager
	srv Server // as it was when the conn was made; a change makes a new conn

	mu sync.Mutex // guards the fields below
	// cur is the open session; its session is nil when there is none.
	cur dialed
	// attempt is closed when the connection attempt under way ends; nil
	// when none is.
	attempt chan struct{}
	// err says why the last attempt failed or the last session ended; nil
	// while connected.
	err error
	// retryAt is when a failed attempt may be retried on demand: until
	// then, callers get err at once instead of waiting for a server that
	// was just unreachable.
	retryAt time.Time
	// delay is the current backoff; 0 after a healthy session.
	delay time.Duration
	// restart is the timer of a scheduled background reconnection of an
	// auto_connect server.
	restart *time.Timer
	// connectedAt is when cur was opened.
	connectedAt time.Time
	// tools is cur's tool list, valid while toolsOK; toolsGen counts the
	// server's tools/list_changed notifications, so a list fetched while
	// one arrived is not kept.
	tools    []*sdk.Tool
	toolsOK  bool
	toolsGen uint64
	// lastUsed and busy let the idle sweep close unused sessions, never
	// one with calls in flight.
	lastUsed time.Time
	busy     int
	closed   bool
}

func newConn(m *Manager, srv Server) *conn {
	return &conn{m: m, srv: srv, lastUsed: m.now()}
}

// session returns the open session, connecting if there is none. It
// waits for the attempt until ctx is done; the attempt itself goes on,
// bounded by Config.ConnectTimeout, so the next caller may find it open.
func (c *conn) session(ctx context.Context) (dialed, error) {
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return dialed{}, errManagerClosed
	case c.cur.session != nil:
		d := c.cur
		c.lastUsed = c.m.now()
		c.mu.Unlock()
		return d, nil
	case c.attempt == nil && c.err != nil && c.m.now().Before(c.retryAt):
		err := c.err
		c.mu.Unlock()
		return dialed{}, err
	case c.attempt == nil:
		c.startLocked()
	}
	ch := c.attempt
	c.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return dialed{}, fmt.Errorf("connecting to the MCP server %s: %w", c.srv.Name, context.Cause(ctx))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cur.session != nil:
		c.lastUsed = c.m.now()
		return c.cur, nil
	case c.closed:
		return dialed{}, errManagerClosed
	case c.err != nil:
		return dialed{}, c.err
	}
	return dialed{}, fmt.Errorf("the MCP server %s is not connected", c.srv.Name)
}

// kick starts connecting in the background unless connected, connecting
// or closed.
func (c *conn) kick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed && c.cur.session == nil && c.attempt == nil {
		c.startLocked()
	}
}

// startLocked starts a connection attempt. c.mu is held.
func (c *conn) startLocked() {
	if c.restart != nil {
		c.restart.Stop()
		c.restart = nil
	}
	done := make(chan struct{})
	c.attempt = done
	c.m.wg.Add(1)
	go c.connect(done)
}

// connect makes one connection attempt and closes done when it ends.
func (c *conn) connect(done chan struct{}) {
	defer c.m.wg.Done()
	ctx, cancel := context.WithTimeout(c.m.ctx, c.m.cfg.ConnectTimeout)
	defer cancel()
	d, err := c.m.dial(ctx, c.srv, c.toolsChanged)

	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { c.attempt = nil; close(done) }()
	if err == nil && c.closed {
		// Closed while connecting: close the new session in the background,
		// still counted by the Manager's wait group.
		c.m.wg.Add(1)
		go func() { defer c.m.wg.Done(); d.close() }()
		return
	}
	if err != nil && c.closed {
		c.err = err
		return
	}
	if err != nil {
		// The first failure is a warning; repeats of the same one are
		// only worth a debug line.
		level := slog.LevelWarn
		if c.err != nil && c.err.Error() == err.Error() {
			level = slog.LevelDebug
		}
		c.err = err
		c.delay = c.m.nextDelay(c.delay)
		c.retryAt = c.m.now().Add(c.delay)
		var refused *workspaces.Error
		retry := c.srv.AutoConnect && !errors.As(err, &refused) // a refused command stays refused
		c.m.log.Log(context.Background(), level, "mcp: connect failed", "server", c.srv.ID, "name", c.srv.Name, "owner", c.srv.Owner, "retry", retry, "retry_in", c.delay, "err", err)
		if retry {
			c.scheduleLocked(c.delay)
		}
		return
	}
	now := c.m.now()
	c.cur, c.err, c.retryAt, c.connectedAt, c.toolsOK = d, nil, time.Time{}, now, false
	// A new session counts as used: connecting may take longer than the
	// idle timeout, and the sweep must not close it before the caller
	// that asked for it (waiting for c.mu) gets it.
	c.lastUsed = now
	c.m.log.Info("mcp: connected", "server", c.srv.ID, "name", c.srv.Name, "transport", c.srv.Transport)
	c.m.wg.Add(1)
	go c.watch(d)
}

// watch waits for session d to end. When it ends by itself (a crashed
// process, a server gone), it notes why and, for an auto_connect server,
// schedules a restart with backoff.
func (c *conn) watch(d dialed) {
	defer c.m.wg.Done()
	waitErr := d.session.Wait()
	c.mu.Lock()
	if c.cur.session != d.session {
		// Closed on purpose, by whoever cleared cur.
		c.mu.Unlock()
		return
	}
	c.cur, c.toolsOK, c.tools = dialed{}, false, nil
	now := c.m.now()
	if now.Sub(c.connectedAt) >= c.m.cfg.HealthyAfter {
		c.delay = 0
	}
	if waitErr == nil {
		waitErr = errors.New("the connection was closed")
	}
	c.err = describe(c.srv, "lost the connection to", waitErr, d.stderr)
	c.retryAt = time.Time{}
	c.m.log.Warn("mcp: session ended", "server", c.srv.ID, "name", c.srv.Name, "err", c.err)
	if c.srv.AutoConnect && !c.closed {
		c.delay = c.m.nextDelay(c.delay)
		c.scheduleLocked(c.delay)
	}
	c.mu.Unlock()
	d.close() // reaps the child
}

// scheduleLocked reconnects after delay. c.mu is held.
func (c *conn) scheduleLocked(delay time.Duration) {
	if c.restart != nil {
		c.restart.Stop()
	}
	c.restart = time.AfterFunc(delay, c.kick)
}

// toolsChanged forgets the tool list, on the server's notice that it
// changed.
func (c *conn) toolsChanged() {
	c.m.listChanges.Add(1)
	c.mu.Lock()
	c.toolsGen++
	c.toolsOK = false
	c.mu.Unlock()
}

// listTools returns the server's tools, listing them once per session.
func (c *conn) listTools(ctx context.Context) ([]*sdk.Tool, error) {
	d, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	s := d.session
	c.mu.Lock()
	if c.toolsOK && c.cur.session == s {
		tools := c.tools
		c.mu.Unlock()
		return tools, nil
	}
	gen := c.toolsGen
	c.busy++
	c.mu.Unlock()

	var tools []*sdk.Tool
	for t, err := range s.Tools(ctx, nil) {
		if err != nil {
			tools = nil
			c.mu.Lock()
			c.busy--
			c.mu.Unlock()
			return nil, describe(c.srv, "could not list the tools of", err, d.stderr)
		}
		tools = append(tools, t)
	}

	c.mu.Lock()
	c.busy--
	if c.cur.session == s && c.toolsGen == gen {
		c.tools, c.toolsOK = tools, true
	}
	c.mu.Unlock()
	return tools, nil
}

// call calls tool name with args.
func (c *conn) call(ctx context.Context, name string, args json.RawMessage) (*sdk.CallToolResult, error) {
	d, err := c.session(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.busy++
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.busy--
		c.lastUsed = c.m.now()
		c.mu.Unlock()
	}()
	res, err := d.session.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		if errors.Is(err, sdk.ErrConnectionClosed) {
			return nil, describe(c.srv, "lost the connection to", err, d.stderr)
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("the MCP server %s: %w", c.srv.Name, err)
	}
	return res, nil
}

// closeIdle closes the session if it has been unused since before, has
// no call in flight, and the server is not auto_connect.
func (c *conn) closeIdle(before time.Time) {
	c.mu.Lock()
	d := c.cur
	if d.session == nil || c.srv.AutoConnect || c.busy > 0 || !c.lastUsed.Before(before) {
		c.mu.Unlock()
		return
	}
	c.cur, c.toolsOK, c.tools = dialed{}, false, nil
	c.mu.Unlock()
	c.m.log.Info("mcp: closing idle session", "server", c.srv.ID, "name", c.srv.Name)
	d.close()
}

// close ends the conn for good, waiting for its process to stop.
func (c *conn) close() {
	c.mu.Lock()
	c.closed = true
	if c.restart != nil {
		c.restart.Stop()
		c.restart = nil
	}
	d := c.cur
	c.cur = dialed{}
	c.mu.Unlock()
	if d.session != nil {
		d.close()
	}
}

// pid returns the process id of the running stdio child, or 0.
func (c *conn) pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur.cmd == nil || c.cur.cmd.Process == nil {
		return 0
	}
	return c.cur.cmd.Process.Pid
}
