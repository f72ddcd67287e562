package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

// sseTransport is a read-only client over server-sent events. Each event is
// sent with id = its chat sequence number (for a chat) or its log cursor
// (for a workspace), so EventSource resumes by itself with Last-Event-ID.
type sseTransport struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	out  *outbox
	done chan struct{}
	once sync.Once

	mu    sync.Mutex // serializes writes to w; guards ended
	ended bool       // the handler is returning: w is no longer ours
}

// errSSEEnded is write's error once the handler has returned.
var errSSEEnded = errors.New("hub: the event stream has ended")

func (t *sseTransport) sendEvent(e *outEvent) bool  { return t.out.push(e.sseFrame()) }
func (t *sseTransport) sendReplay(e *outEvent) bool { return t.out.pushMust(e.sseFrame()) }

func (t *sseTransport) control(name string, data any) {
	d, _ := json.Marshal(data)
	t.out.pushMust([]byte("event: " + name + "\ndata: " + string(d) + "\n\n"))
}

func (t *sseTransport) close(reason string) {
	t.control("disconnect_reason", map[string]string{"reason": reason})
	t.once.Do(func() { close(t.done) })
}

func (t *sseTransport) write(frames [][]byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return errSSEEnded
	}
	t.rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	for _, f := range frames {
		if _, err := t.w.Write(f); err != nil {
			t.once.Do(func() { close(t.done) })
			return err
		}
	}
	if err := t.rc.Flush(); err != nil {
		t.once.Do(func() { close(t.done) })
		return err
	}
	return nil
}

// finish ends t's use of its response before the handler returns: once it
// has, net/http finishes the response and reuses its buffers, so a write
// from t's outbox then would race with another request. A write in progress
// is cut short by an expired deadline and waited for; later ones do nothing.
func (t *sseTransport) finish() {
	t.out.close()
	t.rc.SetWriteDeadline(time.Now())
	t.mu.Lock()
	t.ended = true
	t.mu.Unlock()
	// What net/http still writes (an error, the last chunk) needs time.
	t.rc.SetWriteDeadline(time.Time{})
}

func (h *Hub) serveChatSSE(w http.ResponseWriter, r *http.Request) {
	h.serveSSE(w, r, false, r.PathValue("chat_id"))
}

func (h *Hub) serveWorkspaceSSE(w http.ResponseWriter, r *http.Request) {
	h.serveSSE(w, r, true, r.PathValue("workspace_id"))
}

// serveSSE streams a chat's (or a workspace's) events. The first event,
// "ready", carries what a join ack carries; then come the missed events
// (after Last-Event-ID or ?since=) and the live ones.
func (h *Hub) serveSSE(w http.ResponseWriter, r *http.Request, workspace bool, id string) {
	a, ok := requestCredentials(w, r)
	if !ok {
		return
	}
	t := &sseTransport{w: w, rc: http.NewResponseController(w), done: make(chan struct{})}
	t.out = newOutbox(h.cfg.SendQueue, t.write)
	defer t.finish()
	c := newClient(h, t)
	defer c.disconnected()
	ctx := r.Context()
	var ack map[string]any
	var then func()
	var err error
	onFreshStack(func() {
		if err = c.authenticate(ctx, a); err != nil {
			return
		}
		if workspace {
			ack, then, err = c.joinWorkspace(ctx, workspaces.WorkspaceID(id), a.Since)
		} else {
			ack, then, err = c.joinChat(ctx, workspaces.ChatID(id), a.Since)
		}
	})
	if err != nil {
		writeHTTPError(w, err)
		return
	}
	ack["ok"] = true
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	t.control("ready", ack)
	onFreshStack(then)
	c.start()

	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.ctx.Done():
			t.close(reasonShutdown)
			return
		case <-t.done:
			// Let the disconnect reason go out, then end the response.
			waitDrained(t.out, time.Second)
			return
		case <-ping.C:
			t.out.pushMust([]byte(": ping\n\n"))
		}
	}
}

// waitDrained waits, up to d, for o to empty.
func waitDrained(o *outbox, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for o.len() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// onFreshStack runs fn on a short-lived goroutine and waits for it. A
// request's work (SQL, JSON) grows the stack of the goroutine that does it,
// and a connection's long-lived goroutine would keep that growth for as
// long as it idles: at 10,000 connections, the difference is most of the
// hub's memory.
func onFreshStack(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
