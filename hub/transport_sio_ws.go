package hub

// Socket.IO over a plain WebSocket, served natively. A client that opens
// /socket.io/?EIO=4&transport=websocket (socket.io-client with
// transports: ["websocket"], or any client after polling is disabled) is
// served by the /ws machinery: no goroutine while idle, each event's frame
// encoded once for every client. Polling, and the upgrade from polling to
// WebSocket, stay with the library (transport_socketio.go); both speak the
// same events.
//
// The protocol, from the Engine.IO v4 and Socket.IO v5 documents: one
// Engine.IO packet per text frame — 0 open {sid, upgrades, pingInterval,
// pingTimeout, maxPayload}, 1 close, 2 ping, 3 pong, 4 message, 6 noop;
// the server pings and the client answers. A message carries a Socket.IO
// packet: 0 CONNECT (with the auth object), 1 DISCONNECT, 2 EVENT, 3 ACK,
// 4 CONNECT_ERROR, 5/6 binary EVENT/ACK; an optional namespace "/nsp,",
// an optional ack id, then JSON: 421["join",{…}] is answered by 431[{…}].

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/atrium-hq/atrium/workspaces"
)

const (
	// sioConnectTimeout is how long a client has to send CONNECT.
	sioConnectTimeout = 20 * time.Second
	// sioPingTimeout is how long a client waits for a ping past the
	// interval before it gives the connection up (told in the open packet).
	sioPingTimeout = 20 * time.Second
)

// sioState is a Socket.IO session on a wsConn.
type sioState struct {
	mu        sync.Mutex // guards the following fields
	connected bool
	timer     *time.Timer // closes a client that never connects
	since     *uint64
}

// wantsNativeSIO reports whether r opens a Socket.IO session directly over
// WebSocket (no polling session to upgrade).
func wantsNativeSIO(r *http.Request) bool {
	q := r.URL.Query()
	return q.Get("transport") == "websocket" && q.Get("sid") == "" && q.Get("EIO") == "4" &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func (h *Hub) serveSIOWS(w http.ResponseWriter, r *http.Request) {
	accept, ok := h.checkUpgrade(w, r)
	if !ok {
		return
	}
	var since *uint64
	if v := r.URL.Query().Get("since"); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			since = &n
		}
	}
	sio := &sioState{since: since}
	c := newClient(h, nil)
	t, initial, err := h.upgrade(w, accept, c, sio)
	if err != nil {
		c.disconnected()
		return
	}
	sio.timer = time.AfterFunc(sioConnectTimeout, func() {
		sio.mu.Lock()
		connected := sio.connected
		sio.mu.Unlock()
		if !connected {
			t.shutdown(closePolicy, "")
		}
	})
	if err := t.begin(initial); err != nil {
		t.shutdown(closeGoingAway, reasonShutdown)
	}
}

// open is the Engine.IO open packet, sent with the handshake's answer.
func (s *sioState) open(h *Hub) []byte {
	b, _ := json.Marshal(map[string]any{
		"sid": randomSID(), "upgrades": []string{},
		"pingInterval": h.cfg.PingInterval.Milliseconds(), "pingTimeout": sioPingTimeout.Milliseconds(),
		"maxPayload": h.cfg.MaxFrameBytes,
	})
	return textFrame(append([]byte{'0'}, b...))
}

// goodbye is what a client is sent before the server closes: the reason as
// a disconnect_reason event, then DISCONNECT.
func (s *sioState) goodbye(reason string) []byte {
	s.mu.Lock()
	connected := s.connected
	s.mu.Unlock()
	if !connected {
		return nil
	}
	return append(sioEmitFrame("disconnect_reason", map[string]any{"reason": reason}), textFrame([]byte("41"))...)
}

func randomSID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sioEmitFrame is the event name(data) as a frame: 42["name",data].
func sioEmitFrame(name string, data any) []byte {
	d, err := json.Marshal(data)
	if err != nil {
		d = []byte("null")
	}
	b := append([]byte(`42[`), strconv.Quote(name)...)
	b = append(b, ',')
	b = append(b, d...)
	return textFrame(append(b, ']'))
}

// sioPacket is a decoded Socket.IO packet.
type sioPacket struct {
	typ       byte
	namespace string
	ackID     string // digits, empty when no ack is asked for
	data      []byte // JSON
}

// parseSIOPacket decodes a Socket.IO packet (without the Engine.IO '4').
func parseSIOPacket(p []byte) (sioPacket, bool) {
	if len(p) == 0 || p[0] < '0' || p[0] > '6' {
		return sioPacket{}, false
	}
	pk := sioPacket{typ: p[0]}
	p = p[1:]
	if pk.typ == '5' || pk.typ == '6' { // binary: attachment count, then '-'
		i := bytes.IndexByte(p, '-')
		if i < 0 {
			return sioPacket{}, false
		}
		p = p[i+1:]
	}
	if len(p) > 0 && p[0] == '/' {
		i := bytes.IndexByte(p, ',')
		if i < 0 {
			pk.namespace, p = string(p), nil
		} else {
			pk.namespace, p = string(p[:i]), p[i+1:]
		}
	}
	i := 0
	for i < len(p) && i < 18 && p[i] >= '0' && p[i] <= '9' {
		i++
	}
	pk.ackID, pk.data = string(p[:i]), p[i:]
	if pk.namespace == "/" {
		pk.namespace = ""
	}
	return pk, true
}

// sioMessage handles one Engine.IO packet from the client.
func (t *wsConn) sioMessage(op byte, data []byte) error {
	if op != opText || len(data) == 0 {
		return nil // binary attachments are not supported; nothing refers to them
	}
	switch data[0] {
	case '2': // a ping (probe): answer it
		t.reply(textFrame(append([]byte{'3'}, data[1:]...)))
	case '1': // close
		go t.shutdown(closeNormal, "")
	case '4':
		pk, ok := parseSIOPacket(data[1:])
		if !ok {
			return protocolError(closeProtocolError, "invalid Socket.IO packet")
		}
		return t.sioPacket(pk)
	}
	return nil // 3 pong, 6 noop
}

func (t *wsConn) sioPacket(pk sioPacket) error {
	if pk.namespace != "" {
		if pk.typ == '0' {
			t.out.pushMust(textFrame([]byte(`44` + pk.namespace + `,{"message":"Invalid namespace"}`)))
		}
		return nil
	}
	t.sio.mu.Lock()
	connected := t.sio.connected
	t.sio.mu.Unlock()
	switch pk.typ {
	case '0':
		if !connected {
			t.sioConnect(pk.data)
		}
	case '1':
		go t.shutdown(closeNormal, "")
	case '2', '5':
		if !connected {
			// socket.io-client waits for CONNECT before it emits; another
			// client that does not is told rather than left waiting.
			t.sioAck(pk.ackID, failure(workspaces.E(workspaces.KindUnauthenticated, "Connect (CONNECT with auth) before sending events")))
			return nil
		}
		var args []json.RawMessage
		var name string
		if json.Unmarshal(pk.data, &args) != nil || len(args) == 0 || json.Unmarshal(args[0], &name) != nil {
			t.sioAck(pk.ackID, failure(invalid("an event must be a JSON array [name, data]")))
			return nil
		}
		if pk.typ == '5' {
			t.sioAck(pk.ackID, failure(invalid("binary attachments are not supported")))
			return nil
		}
		var payload json.RawMessage
		if len(args) > 1 {
			payload = args[1]
		}
		ctx, cancel := context.WithTimeout(t.s.h.ctx, 30*time.Second)
		defer cancel()
		ack, then := t.c.handle(ctx, name, payload)
		t.sioAck(pk.ackID, ack)
		if then != nil {
			then()
		}
	}
	return nil
}

// sioAck answers an event that asked for an ack: 43<id>[ack].
func (t *wsConn) sioAck(id string, ack any) {
	if id == "" {
		return
	}
	d, err := json.Marshal(ack)
	if err != nil {
		d = []byte(`{"ok":false,"error":{"code":"internal","message":"Internal server error"}}`)
	}
	b := append([]byte("43"+id+"["), d...)
	t.reply(textFrame(append(b, ']')))
}

// sioConnect authenticates CONNECT's auth object {token} or
// {connection_string} (and since). A refused client gets CONNECT_ERROR
// {message, data: {code, message}} and may try again.
func (t *wsConn) sioConnect(auth []byte) {
	var a authReq
	var err error
	if len(bytes.TrimSpace(auth)) == 0 {
		err = &ackError{Code: "unauthenticated", Message: "Missing token or connection_string"}
	} else {
		err = decode(auth, &a)
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(t.s.h.ctx, 10*time.Second)
		err = t.c.authenticate(ctx, a)
		cancel()
	}
	if err != nil {
		f := failure(err)["error"].(*ackError)
		b, _ := json.Marshal(map[string]any{"message": f.Message, "data": map[string]any{"code": f.Code, "message": f.Message}})
		t.out.pushMust(textFrame(append([]byte("44"), b...)))
		return
	}
	t.sio.mu.Lock()
	t.sio.connected = true
	t.sio.timer.Stop()
	t.sio.timer = nil
	since := t.sio.since
	if a.Since != nil {
		since = a.Since
	}
	t.sio.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"sid": randomSID()})
	t.out.pushMust(textFrame(append([]byte("40"), b...)))
	t.c.start()
	ctx, cancel := context.WithTimeout(t.s.h.ctx, 30*time.Second)
	t.c.autoJoin(ctx, since)
	cancel()
}
