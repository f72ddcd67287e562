package hub

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"
)

// socketIO serves Socket.IO (protocol v5, what socket.io-client 4.x speaks)
// at /socket.io/ over polling and WebSocket.
//
// Clients connect with auth {token} or {connection_string} (and since),
// emit the client events with an ack callback, and receive chat events as
// "event". Two behaviours of the library shape this file: it handles each
// incoming packet on its own goroutine (so a client's events are serialized
// here, but may be taken in any order if sent without awaiting acks), and
// its per-connection write buffer is unbounded (so the send queue here is
// what bounds a slow client).
type socketIO struct {
	h      *Hub
	server *socket.Server
	http   http.Handler
}

func newSocketIO(h *Hub) *socketIO {
	opts := socket.DefaultServerOptions()
	opts.SetPingInterval(h.cfg.PingInterval)
	opts.SetPingTimeout(sioPingTimeout)
	opts.SetMaxHttpBufferSize(h.cfg.MaxFrameBytes)
	opts.SetConnectTimeout(20 * time.Second)
	opts.SetParser(newSIOParser()) // refuses packets the library would crash on
	cors := &types.Cors{Origin: "*"}
	if len(h.cfg.CORSOrigins) > 0 {
		origins := make([]any, len(h.cfg.CORSOrigins))
		for i, o := range h.cfg.CORSOrigins {
			origins[i] = originRegexp(o)
		}
		cors = &types.Cors{Origin: origins, Credentials: true}
	}
	opts.SetCors(cors)
	s := &socketIO{h: h, server: socket.NewServer(nil, opts)}
	s.server.Use(s.authenticate)
	s.server.On("connection", s.connected)
	s.http = s.server.ServeHandler(nil)
	return s
}

func (s *socketIO) handler() http.Handler { return s.http }

// originRegexp is pattern (of CORSOrigins) as the library takes it: a
// regular expression matching the origins OriginAllowed lets through,
// whatever their scheme.
func originRegexp(pattern string) *regexp.Regexp {
	if _, rest, ok := strings.Cut(pattern, "://"); ok {
		pattern = rest
	}
	host := regexp.QuoteMeta(pattern)
	host = strings.ReplaceAll(host, `\*`, `[^/]*`)
	host = strings.ReplaceAll(host, `\?`, `[^/]`)
	return regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*://` + host + `$`)
}

// close disconnects every Socket.IO client.
func (s *socketIO) close() {
	s.server.Sockets().Sockets().Range(func(_ socket.SocketId, so *socket.Socket) bool {
		if t, ok := so.Data().(*sioTransport); ok {
			t.close(reasonShutdown)
		}
		return true
	})
	s.server.Close(nil)
}

// authenticate is the connection middleware: it checks auth {token} or
// {connection_string}. A refused client gets connect_error with
// err.message and err.data {code, message}.
func (s *socketIO) authenticate(so *socket.Socket, next func(*socket.ExtendedError)) {
	var a authReq
	var err error
	raw, _ := json.Marshal(so.Handshake().Auth)
	if so.Handshake().Auth == nil {
		err = &ackError{Code: "unauthenticated", Message: "Missing token or connection_string"}
	} else {
		err = decode(raw, &a)
	}
	t := &sioTransport{so: so}
	t.out = newOutbox(s.h.cfg.SendQueue, t.write)
	c := newClient(s.h, t)
	t.c, t.since = c, a.Since
	if err == nil {
		ctx, cancel := context.WithTimeout(s.h.ctx, 10*time.Second)
		err = c.authenticate(ctx, a)
		cancel()
	}
	if err != nil {
		c.disconnected()
		f := failure(err)["error"].(*ackError)
		next(socket.NewExtendedError(f.Message, map[string]any{"code": f.Code, "message": f.Message}))
		return
	}
	so.SetData(t)
	next(nil)
}

// connected registers the client's handlers; it must do so before it
// returns, or the library drops the first events.
func (s *socketIO) connected(args ...any) {
	so, ok := args[0].(*socket.Socket)
	if !ok {
		return
	}
	t, ok := so.Data().(*sioTransport)
	if !ok {
		so.Disconnect(false)
		return
	}
	so.OnAny(func(args ...any) { t.onEvent(args) })
	so.On("disconnect", func(...any) {
		t.out.close()
		t.c.disconnected()
	})
	t.c.start()
	go func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.c.autoJoin(s.h.ctx, t.since)
	}()
}

// sioTransport is one Socket.IO client.
type sioTransport struct {
	so    *socket.Socket
	c     *client
	out   *outbox
	since *uint64

	mu sync.Mutex // serializes the client's events
}

// event is a queued "event" emit: the envelope, sent as a JSON object.
func (t *sioTransport) sendEvent(e *outEvent) bool  { return t.out.push(e.Data) }
func (t *sioTransport) sendReplay(e *outEvent) bool { return t.out.pushMust(e.Data) }

func (t *sioTransport) control(name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	// Control events share the queue so they stay in order with events.
	t.out.pushMust(append([]byte{0}, append([]byte(name+"\x00"), b...)...))
}

// close tells the client why, then disconnects it; the client sees
// "io server disconnect" and does not reconnect by itself.
func (t *sioTransport) close(reason string) {
	t.so.Emit("disconnect_reason", map[string]any{"reason": reason})
	t.out.close()
	t.so.Disconnect(false)
}

// errStalled means the client's connection has not taken what was written.
var errStalled = errors.New("socket.io: client stalled")

// write emits frames in order. The library buffers without limit, so a
// frame is emitted only once the transport has taken the last one: while
// it has not, frames wait in the bounded queue.
func (t *sioTransport) write(frames [][]byte) error {
	for _, f := range frames {
		if err := t.waitWritable(); err != nil {
			t.c.kick(reasonSlowConsumer)
			return err
		}
		if len(f) > 0 && f[0] == 0 { // a control event: 0 name 0 json
			name, data, _ := cutByte(f[1:], 0)
			t.so.Emit(string(name), json.RawMessage(data))
			continue
		}
		t.so.Emit("event", json.RawMessage(f))
	}
	return nil
}

// waitWritable waits, up to ten seconds, until the transport may write.
func (t *sioTransport) waitWritable() error {
	conn := t.so.Conn()
	if conn == nil || conn.Transport() == nil || conn.Transport().Writable() {
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for wait := 500 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		time.Sleep(wait)
		if !t.so.Connected() {
			return errStalled
		}
		if tr := conn.Transport(); tr == nil || tr.Writable() {
			return nil
		}
		if time.Now().After(deadline) {
			return errStalled
		}
	}
}

// onEvent handles one client event: args are the event name, the payload,
// and the ack callback when the client asked for one.
func (t *sioTransport) onEvent(args []any) {
	if len(args) == 0 {
		return
	}
	var ack socket.Ack
	if a, ok := args[len(args)-1].(socket.Ack); ok {
		ack = a
		args = args[:len(args)-1]
	}
	name, _ := args[0].(string)
	var payload json.RawMessage
	if len(args) > 1 {
		payload, _ = json.Marshal(args[1])
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.c.h.ctx, 30*time.Second)
	defer cancel()
	result, then := t.c.handle(ctx, name, payload)
	if ack != nil {
		ack([]any{result}, nil)
	}
	if then != nil {
		then()
	}
}

func cutByte(b []byte, sep byte) (before, after []byte, found bool) {
	for i, x := range b {
		if x == sep {
			return b[:i], b[i+1:], true
		}
	}
	return b, nil, false
}
