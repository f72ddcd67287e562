package main

// Atrium's plain WebSocket transport, /ws: JSON text frames, requests
// {"type","id","data"} answered by {"type":"ack","id","data"}, events as
// {"type":"event","data":envelope}.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

type wsConn struct {
	c    *websocket.Conn
	s    sink
	reqs pending

	stopping  atomic.Bool
	closeOnce sync.Once
	doneCh    chan struct{}
	mu        sync.Mutex
	err       error
}

var wsEventPrefix = []byte(`{"type":"event","data":`)

func connectWS(ctx context.Context, base, token, chat string, s sink) (conn, uint64, error) {
	c, _, err := websocket.Dial(ctx, wsBase(base)+"/ws?token="+url.QueryEscape(token), &websocket.DialOptions{
		HTTPClient:      dialClient,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, 0, err
	}
	c.SetReadLimit(4 << 20)
	w := &wsConn{c: c, s: s, doneCh: make(chan struct{})}
	go w.readLoop()
	ack, err := w.request(ctx, "join", true, map[string]string{"chat_id": chat})
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

func (w *wsConn) request(ctx context.Context, typ string, join bool, data any) (json.RawMessage, error) {
	id, call := w.reqs.add(join)
	defer w.reqs.drop(id)
	frame, err := json.Marshal(map[string]any{"type": typ, "id": id, "data": data})
	if err != nil {
		return nil, err
	}
	if err := w.c.Write(ctx, websocket.MessageText, frame); err != nil {
		return nil, err
	}
	return call.wait(ctx, w.doneCh, w.failure)
}

func (w *wsConn) send(ctx context.Context, chat, messageString, content, clientID string) ([]string, error) {
	ack, err := w.request(ctx, "message", false, map[string]string{
		"chat_id": chat, "message_string": messageString, "content": content, "client_id": clientID,
	})
	if err != nil {
		return nil, err
	}
	return sendAckRuns(ack)
}

func (w *wsConn) readLoop() {
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
		if bytes.HasPrefix(buf, wsEventPrefix) && len(buf) > len(wsEventPrefix) && buf[len(buf)-1] == '}' {
			w.s.event(buf[len(wsEventPrefix):len(buf)-1], now)
			continue
		}
		var f struct {
			Type string          `json:"type"`
			ID   json.RawMessage `json:"id"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(buf, &f) != nil {
			continue
		}
		switch f.Type {
		case "ack":
			if id, err := strconv.ParseInt(string(f.ID), 10, 64); err == nil {
				w.reqs.resolve(id, f.Data, w.s)
			}
		case "disconnect_reason":
			w.fail(fmt.Errorf("disconnected by the server: %s", f.Data))
		}
	}
}

// fail records why the connection ended, unless we ended it.
func (w *wsConn) fail(err error) {
	if w.stopping.Load() {
		return
	}
	w.mu.Lock()
	if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *wsConn) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *wsConn) done() <-chan struct{} { return w.doneCh }

func (w *wsConn) close() {
	w.closeOnce.Do(func() {
		w.stopping.Store(true)
		w.c.Close(websocket.StatusNormalClosure, "")
	})
	<-w.doneCh
}
