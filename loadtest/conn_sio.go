package main

// A small Socket.IO v5 client over Engine.IO v4's websocket transport, from
// the protocol documents:
//
//	Engine.IO packets, one per WebSocket message: 0 open (with
//	{"sid","pingInterval","pingTimeout"}), 1 close, 2 ping, 3 pong,
//	4 message, 6 noop. The server pings; the client answers each 2 with 3.
//
//	Socket.IO packets ride in Engine.IO messages: 0 CONNECT (with the auth
//	object), 1 DISCONNECT, 2 EVENT, 3 ACK, 4 CONNECT_ERROR; an event or ack
//	may carry an ack id after the type, then a JSON array:
//	42["event",{…}], 427["join",{…}] answered by 437[{…}].
//
// Atrium authenticates the CONNECT with {"token": jwt} and sends every chat
// event as 42["event",envelope].

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

type sioConn struct {
	c    *websocket.Conn
	s    sink
	reqs pending

	stopping  atomic.Bool
	closeOnce sync.Once
	doneCh    chan struct{}
	mu        sync.Mutex
	err       error
}

var sioEventPrefix = []byte(`42["event",`)

func connectSIO(ctx context.Context, base, token, chat string, s sink) (conn, uint64, error) {
	c, _, err := websocket.Dial(ctx, wsBase(base)+"/socket.io/?EIO=4&transport=websocket", &websocket.DialOptions{
		HTTPClient:      dialClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, 0, err
	}
	c.SetReadLimit(4 << 20)
	fail := func(err error) (conn, uint64, error) {
		c.CloseNow()
		return nil, 0, err
	}
	// Engine.IO open packet.
	_, open, err := c.Read(ctx)
	if err != nil {
		return fail(fmt.Errorf("engine.io open: %w", err))
	}
	if len(open) == 0 || open[0] != '0' {
		return fail(fmt.Errorf("engine.io open: got %.100q", open))
	}
	// Socket.IO CONNECT to the main namespace, with the token.
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := c.Write(ctx, websocket.MessageText, append([]byte("40"), auth...)); err != nil {
		return fail(err)
	}
	for connected := false; !connected; {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return fail(fmt.Errorf("socket.io connect: %w", err))
		}
		switch {
		case bytes.Equal(msg, []byte("2")):
			if err := c.Write(ctx, websocket.MessageText, []byte("3")); err != nil {
				return fail(err)
			}
		case bytes.HasPrefix(msg, []byte("40")):
			connected = true
		case bytes.HasPrefix(msg, []byte("44")):
			return fail(fmt.Errorf("socket.io connect refused: %s", msg[2:]))
		default:
			return fail(fmt.Errorf("socket.io connect: unexpected %.100q", msg))
		}
	}
	w := &sioConn{c: c, s: s, doneCh: make(chan struct{})}
	go w.readLoop()
	ack, err := w.emit(ctx, "join", true, map[string]string{"chat_id": chat})
	if err == nil {
		err = checkAck(ack)
	}
	if err != nil {
		w.close()
		return nil, 0, fmt.Errorf("join: %w", err)
	}
	seq, _ := ackSeq(ack)
	return w, seq, nil
}

// emit sends event with data, asking for an ack, and returns the ack's
// first argument.
func (w *sioConn) emit(ctx context.Context, event string, join bool, data any) (json.RawMessage, error) {
	id, call := w.reqs.add(join)
	defer w.reqs.drop(id)
	args, err := json.Marshal([]any{event, data})
	if err != nil {
		return nil, err
	}
	pkt := append(strconv.AppendInt([]byte("42"), id, 10), args...)
	if err := w.c.Write(ctx, websocket.MessageText, pkt); err != nil {
		return nil, err
	}
	return call.wait(ctx, w.doneCh, w.failure)
}

func (w *sioConn) send(ctx context.Context, chat, messageString, content, clientID string) ([]string, error) {
	ack, err := w.emit(ctx, "message", false, map[string]string{
		"chat_id": chat, "message_string": messageString, "content": content, "client_id": clientID,
	})
	if err != nil {
		return nil, err
	}
	return sendAckRuns(ack)
}

func (w *sioConn) readLoop() {
	defer close(w.doneCh)
	buf := make([]byte, 0, 1024)
	for {
		_, r, err := w.c.Reader(context.Background())
		if err == nil {
			buf, err = readMessage(buf, r)
		}
		if err != nil {
			w.fail(err)
			return
		}
		now := time.Now()
		if bytes.HasPrefix(buf, sioEventPrefix) && len(buf) > len(sioEventPrefix) && buf[len(buf)-1] == ']' {
			w.s.event(buf[len(sioEventPrefix):len(buf)-1], now)
			continue
		}
		if len(buf) == 0 {
			continue
		}
		switch buf[0] {
		case '2': // ping (or a probe): answer with pong and the same data
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			w.c.Write(ctx, websocket.MessageText, append([]byte("3"), buf[1:]...))
			cancel()
		case '1':
			w.fail(errors.New("engine.io close from the server"))
		case '4':
			w.packet(buf[1:], now)
		}
	}
}

// packet handles a Socket.IO packet other than the common event.
func (w *sioConn) packet(p []byte, now time.Time) {
	if len(p) == 0 {
		return
	}
	typ, p := p[0], p[1:]
	if len(p) > 0 && p[0] == '/' { // a namespace: "/ns,"
		if i := bytes.IndexByte(p, ','); i >= 0 {
			p = p[i+1:]
		}
	}
	i := 0
	for i < len(p) && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseInt(string(p[:i]), 10, 64)
	p = p[i:]
	switch typ {
	case '3': // ACK: [arg, …]
		var args []json.RawMessage
		if json.Unmarshal(p, &args) == nil && len(args) > 0 {
			w.reqs.resolve(id, args[0], w.s)
		}
	case '2': // EVENT: [name, args…]
		var args []json.RawMessage
		if json.Unmarshal(p, &args) != nil || len(args) < 2 {
			return
		}
		var name string
		json.Unmarshal(args[0], &name)
		switch name {
		case "event":
			w.s.event(args[1], now)
		case "disconnect_reason":
			w.fail(fmt.Errorf("disconnected by the server: %s", args[1]))
		}
	case '1':
		w.fail(errors.New("socket.io disconnect from the server"))
	case '4':
		w.fail(fmt.Errorf("socket.io error: %s", p))
	}
}

func (w *sioConn) fail(err error) {
	if w.stopping.Load() {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *sioConn) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *sioConn) done() <-chan struct{} { return w.doneCh }

func (w *sioConn) close() {
	w.closeOnce.Do(func() {
		w.stopping.Store(true)
		// A Socket.IO DISCONNECT, then the WebSocket close.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		w.c.Write(ctx, websocket.MessageText, []byte("41"))
		cancel()
		w.c.Close(websocket.StatusNormalClosure, "")
	})
	<-w.doneCh
}
