package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/atrium-hq/atrium/workspaces"
)

// WebSocket close codes for the disconnect reasons (4000–4999 are the
// application's own).
var closeCodes = map[string]int{
	reasonAuthExpired:  4001,
	reasonAuthRevoked:  4003,
	reasonSlowConsumer: 4008,
	reasonShutdown:     closeGoingAway,
	reasonPingTimeout:  closeGoingAway,
}

// reasonPingTimeout: a /ws client answered no ping for two intervals.
const reasonPingTimeout = "ping_timeout"

const (
	// partialFrameTimeout bounds how long a client may take to finish a
	// frame it has started sending.
	partialFrameTimeout = 30 * time.Second
	// closeTimeout bounds writing the close frame and waiting for the
	// client's own.
	closeTimeout   = 2 * time.Second
	readBufferSize = 4096
)

var readBuffers = sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}

// readWatch wakes a connection's reader when bytes arrive.
type readWatch interface {
	// arm asks for one wake-up (the reader calls it again when done).
	arm() error
	// remove stops the watching; called before the connection closes.
	remove()
}

// blockingWatch is readWatch without epoll: each arm starts a reader that
// blocks in Read until bytes arrive.
type blockingWatch struct{ ready func() }

func (w blockingWatch) arm() error { go w.ready(); return nil }
func (w blockingWatch) remove()    {}

// wsServer holds this node's /ws connections: the epoll loop that wakes
// them, and the pings that find dead ones.
type wsServer struct {
	h *Hub

	once  sync.Once
	ep    *epoll // nil: every connection reads on its own goroutine
	mu    sync.Mutex
	conns map[uint32]*wsConn // by id
	next  uint32
}

func newWSServer(h *Hub) *wsServer {
	return &wsServer{h: h, conns: make(map[uint32]*wsConn)}
}

// start runs the epoll and ping loops, once, on the first connection.
func (s *wsServer) start() {
	s.once.Do(func() {
		ep, err := newEpoll()
		if err != nil {
			s.h.logger.Warn("/ws: no epoll, one reader goroutine per connection", "err", err)
		} else {
			s.ep = ep
			s.h.wg.Add(1)
			go func() { defer s.h.wg.Done(); ep.run(s.wake) }()
		}
		s.h.wg.Add(1)
		go func() { defer s.h.wg.Done(); s.pings() }()
	})
}

func (s *wsServer) wake(id uint32) {
	s.mu.Lock()
	t := s.conns[id]
	s.mu.Unlock()
	if t != nil {
		go t.readable()
	}
}

// register gives t its id and its watch, disarmed, before anything can
// close it; begin then starts reading.
func (s *wsServer) register(t *wsConn) error {
	s.start()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h.ctx.Err() != nil {
		return errors.New("hub closed")
	}
	s.next++
	for s.next == 0 || s.conns[s.next] != nil {
		s.next++
	}
	t.id = s.next
	if s.ep != nil {
		if w, err := s.ep.watch(t.conn, t.id); err == nil {
			t.watch = w
		}
	}
	if t.watch == nil {
		t.watch = blockingWatch{t.readable}
	}
	s.conns[t.id] = t
	return nil
}

// begin starts reading from t, first initial: bytes the client sent
// before the handshake's answer.
func (t *wsConn) begin(initial []byte) error {
	if len(initial) > 0 {
		t.reading.Store(true)
		go t.session(initial)
		return nil
	}
	return t.watch.arm()
}

func (s *wsServer) remove(t *wsConn) {
	s.mu.Lock()
	delete(s.conns, t.id)
	s.mu.Unlock()
}

func (s *wsServer) snapshot() []*wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*wsConn, 0, len(s.conns))
	for _, t := range s.conns {
		all = append(all, t)
	}
	return all
}

// pings pings every connection each PingInterval, and disconnects those
// that sent nothing, not even a pong, for two intervals.
func (s *wsServer) pings() {
	interval := s.h.cfg.PingInterval
	tick := time.NewTicker(interval)
	defer tick.Stop()
	ping, sioPing := serverFrame(opPing, nil), textFrame([]byte("2"))
	for {
		select {
		case <-s.h.ctx.Done():
			return
		case now := <-tick.C:
			for _, t := range s.snapshot() {
				if now.Sub(time.Unix(0, t.lastSeen.Load())) > 2*interval {
					go t.shutdown(closeCodes[reasonPingTimeout], reasonPingTimeout)
					continue
				}
				if t.sio != nil {
					t.out.pushMust(sioPing)
				} else {
					t.out.pushMust(ping)
				}
			}
		}
	}
}

// close disconnects every connection, for the hub's shutdown.
func (s *wsServer) close() {
	var wg sync.WaitGroup
	for _, t := range s.snapshot() {
		wg.Add(1)
		go func() { defer wg.Done(); t.shutdown(closeGoingAway, reasonShutdown) }()
	}
	wg.Wait()
	if s.ep != nil {
		s.ep.close()
	}
}

// wsConn is a client on /ws: JSON text frames, requests
// {"type","id","data"} answered by {"type":"ack","id","data"}, events as
// {"type":"event","data":envelope}. While idle it holds no goroutine and no
// buffer: the epoll loop wakes a reader when bytes arrive.
type wsConn struct {
	s     *wsServer
	c     *client
	conn  net.Conn
	out   *outbox
	id    uint32
	watch readWatch
	sio   *sioState // set for Socket.IO over WebSocket
	raw   syscall.RawConn

	lastSeen atomic.Int64 // unix nanoseconds of the last bytes read
	reading  atomic.Bool  // a reader is running
	closed   atomic.Bool

	// The reader's state between frames of a fragmented message; only the
	// one running reader touches it.
	msg   []byte
	msgOp byte
}

func (t *wsConn) sendEvent(e *outEvent) bool {
	if e.inline {
		return t.out.pushInline(t.eventFrame(e))
	}
	return t.out.push(t.eventFrame(e))
}
func (t *wsConn) sendReplay(e *outEvent) bool { return t.out.pushMust(t.eventFrame(e)) }

func (t *wsConn) eventFrame(e *outEvent) []byte {
	if t.sio != nil {
		return e.sioFrame()
	}
	return e.wsFrame()
}

func (t *wsConn) control(name string, data any) {
	if t.sio != nil {
		t.out.pushMust(sioEmitFrame(name, data))
		return
	}
	t.out.pushMust(textFrame(controlFrame(name, data)))
}

func (t *wsConn) ack(id json.RawMessage, ack any) { t.reply(textFrame(ackFrame(id, ack))) }

// reply queues a frame that answers the client's. A client whose answers
// pile up unread is disconnected as a slow consumer.
func (t *wsConn) reply(frame []byte) {
	if !t.out.pushReply(frame) {
		t.c.kick(reasonSlowConsumer)
	}
}

func (t *wsConn) close(reason string) {
	code, ok := closeCodes[reason]
	if !ok {
		code = closePolicy
	}
	t.shutdown(code, reason)
}

// write sends frames in order, in one system call where it can. It sets
// no deadline of its own: a client that stops reading fills its queue and
// is disconnected, and the close sets a deadline that ends a blocked write.
func (t *wsConn) write(frames [][]byte) error {
	bufs := net.Buffers(frames)
	_, err := bufs.WriteTo(t.conn)
	return err
}

// shutdown closes the connection once: a close frame with code and reason,
// the client's close awaited briefly, then the socket.
func (t *wsConn) shutdown(code int, reason string) {
	if !t.closed.CompareAndSwap(false, true) {
		return
	}
	t.out.close()
	t.s.remove(t)
	t.watch.remove()
	t.conn.SetDeadline(time.Now().Add(closeTimeout))
	if t.sio != nil && reason != "" {
		// Socket.IO clients learn why, then see "io server disconnect".
		t.conn.Write(t.sio.goodbye(reason))
	}
	t.conn.Write(closeFrame(code, reason))
	if tc, ok := t.conn.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	// Reading until the client closes too, so that nothing unread makes
	// the kernel reset the connection and lose the close frame.
	io.Copy(io.Discard, io.LimitReader(t.conn, 1<<20))
	t.conn.Close()
	t.c.disconnected()
}

// readable reads what has arrived, unless a reader already runs.
func (t *wsConn) readable() {
	if t.reading.CompareAndSwap(false, true) {
		t.session(nil)
	}
}

// session reads and handles frames until every byte that arrived is
// consumed, then re-arms the watch. A partly received frame is waited for,
// up to partialFrameTimeout.
func (t *wsConn) session(initial []byte) {
	err := t.readFrames(initial)
	t.reading.Store(false)
	if err == nil && !t.closed.Load() {
		err = t.watch.arm()
	}
	if err == nil || t.closed.Load() {
		return
	}
	var pe *wsProtocolError
	if errors.As(err, &pe) {
		t.shutdown(pe.code, pe.msg)
		return
	}
	t.shutdown(closeGoingAway, "") // the connection is gone or timed out
}

func (t *wsConn) readFrames(initial []byte) error {
	bp := readBuffers.Get().(*[]byte)
	buf := (*bp)[:cap(*bp)]
	defer func() {
		if cap(buf) == readBufferSize {
			*bp = buf
			readBuffers.Put(bp)
		}
	}()
	limit := t.s.h.cfg.MaxFrameBytes
	end := 0
	if len(initial) > 0 {
		if len(initial) > len(buf) {
			buf = make([]byte, len(initial))
		}
		end = copy(buf, initial)
	} else {
		n, err := t.conn.Read(buf)
		if err != nil {
			return err
		}
		end = n
	}
	t.lastSeen.Store(time.Now().UnixNano())
	deadline := false
	defer func() {
		if deadline && !t.closed.Load() {
			t.conn.SetReadDeadline(time.Time{})
		}
	}()
	off := 0
	for !t.closed.Load() {
		f, used, err := parseClientFrame(buf[off:end], limit)
		if err == nil {
			off += used
			if err := t.frame(f); err != nil {
				return err
			}
			continue
		}
		if err != errNeedMore {
			return err
		}
		if off == end {
			return nil // all consumed
		}
		// Part of a frame: keep it at the start of buf, grow buf to fit
		// the whole frame, and wait for the rest.
		end = copy(buf, buf[off:end])
		off = 0
		if used > len(buf) {
			nb := make([]byte, used)
			copy(nb, buf[:end])
			buf = nb
		}
		deadline = true
		t.conn.SetReadDeadline(time.Now().Add(partialFrameTimeout))
		n, err := t.conn.Read(buf[end:])
		if err != nil {
			return err
		}
		end += n
		t.lastSeen.Store(time.Now().UnixNano())
	}
	return nil
}

// frame handles one client frame.
func (t *wsConn) frame(f wsFrame) error {
	switch f.op {
	case opPing:
		t.reply(serverFrame(opPong, f.payload))
	case opPong:
	case opClose:
		code, _, err := closePayload(f.payload)
		if err != nil {
			return err
		}
		go t.shutdown(code, "")
	case opText, opBinary:
		if t.msgOp != 0 {
			return protocolError(closeProtocolError, "a new message began before the last one ended")
		}
		if f.fin {
			return t.message(f.op, f.payload)
		}
		t.msgOp, t.msg = f.op, append([]byte(nil), f.payload...)
	case opContinuation:
		if t.msgOp == 0 {
			return protocolError(closeProtocolError, "continuation frame without a message")
		}
		if int64(len(t.msg)+len(f.payload)) > t.s.h.cfg.MaxFrameBytes {
			return protocolError(closeTooBig, "message too big")
		}
		t.msg = append(t.msg, f.payload...)
		if f.fin {
			op, msg := t.msgOp, t.msg
			t.msgOp, t.msg = 0, nil
			return t.message(op, msg)
		}
	}
	return nil
}

// message handles one whole client message: a request, acked.
func (t *wsConn) message(op byte, data []byte) error {
	if t.sio != nil {
		return t.sioMessage(op, data)
	}
	if op != opText {
		t.ack(nil, failure(invalid("frames must be JSON text")))
		return nil
	}
	if !utf8.Valid(data) {
		return protocolError(closeInvalidData, "text frames must be UTF-8")
	}
	f, err := parseFrame(data)
	if err != nil {
		t.ack(f.ID, failure(err))
		return nil
	}
	ctx, cancel := context.WithTimeout(t.s.h.ctx, 30*time.Second)
	defer cancel()
	ack, then := t.c.handle(ctx, f.Type, f.Data)
	t.ack(f.ID, ack)
	if then != nil {
		then()
	}
	return nil
}

func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	a, ok := requestCredentials(w, r)
	if !ok {
		return
	}
	accept, ok := h.checkUpgrade(w, r)
	if !ok {
		return
	}
	c := newClient(h, nil)
	if err := c.authenticate(r.Context(), a); err != nil {
		h.clients.Add(-1)
		writeHTTPError(w, err)
		return
	}
	t, initial, err := h.upgrade(w, accept, c, nil)
	if err != nil {
		c.disconnected()
		return
	}
	c.start()
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	c.autoJoin(ctx, a.Since)
	cancel()
	if err := t.begin(initial); err != nil {
		t.shutdown(closeGoingAway, reasonShutdown)
	}
}

// checkUpgrade validates a WebSocket upgrade request, answering it when it
// is refused.
func (h *Hub) checkUpgrade(w http.ResponseWriter, r *http.Request) (accept string, ok bool) {
	accept, err := checkHandshake(r, h.cfg.CORSOrigins)
	if err != nil {
		he := err.(*handshakeError)
		if he.status == http.StatusUpgradeRequired {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "websocket")
		}
		http.Error(w, he.msg, he.status)
		return "", false
	}
	return accept, true
}

// upgrade takes the connection over from net/http and answers the
// handshake. It returns the bytes the client sent after its request, to be
// read first; the server's buffers are dropped with the request. first, if
// any, is written right after the handshake's answer.
func (h *Hub) upgrade(w http.ResponseWriter, accept string, c *client, sio *sioState) (*wsConn, []byte, error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot upgrade this connection", http.StatusInternalServerError)
		return nil, nil, err
	}
	var initial []byte
	if n := brw.Reader.Buffered(); n > 0 {
		initial, _ = brw.Reader.Peek(n)
		initial = bytes.Clone(initial)
	}
	conn.SetDeadline(time.Time{})
	resp := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n")
	if sio != nil {
		resp = append(resp, sio.open(h)...)
	}
	conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write(resp); err != nil {
		conn.Close()
		return nil, nil, err
	}
	conn.SetWriteDeadline(time.Time{})
	t := &wsConn{s: h.ws, c: c, conn: conn, sio: sio}
	t.lastSeen.Store(time.Now().UnixNano())
	t.out = newOutbox(h.cfg.SendQueue, t.write)
	if raw, ok := rawConn(conn); ok {
		t.raw = raw
		t.out.try = t.tryWrite
	}
	c.t = t
	if err := h.ws.register(t); err != nil {
		conn.Write(closeFrame(closeGoingAway, reasonShutdown))
		conn.Close()
		return nil, nil, err
	}
	return t, initial, nil
}

// credentials reads a connecting client's credentials from the
// Authorization header (Bearer JWT) or the token / connection_string query
// parameters (browsers cannot set headers on WebSocket or EventSource), and
// since from the query or Last-Event-ID.
func credentials(r *http.Request) (authReq, error) {
	q := r.URL.Query()
	a := authReq{Token: q.Get("token"), ConnectionString: q.Get("connection_string")}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
			return a, workspaces.E(workspaces.KindUnauthenticated, "Authorization header must be 'Bearer <token>'")
		}
		a.Token = tok
	}
	since := q.Get("since")
	if since == "" {
		since = r.Header.Get("Last-Event-ID")
	}
	if since != "" {
		n, err := strconv.ParseUint(since, 10, 64)
		if err != nil {
			return a, invalid("since must be a non-negative integer")
		}
		a.Since = &n
	}
	return a, nil
}

// httpStatus maps ack error codes to the status of a refused request.
var httpStatus = map[string]int{
	"unauthenticated": http.StatusUnauthorized,
	"forbidden":       http.StatusForbidden,
	"not_found":       http.StatusNotFound,
	codeInvalid:       http.StatusBadRequest,
	"unavailable":     http.StatusServiceUnavailable,
}

// requestCredentials is credentials for a request that must carry some; it
// answers the request itself when they are missing or malformed.
func requestCredentials(w http.ResponseWriter, r *http.Request) (authReq, bool) {
	a, err := credentials(r)
	if err == nil && a.Token == "" && a.ConnectionString == "" {
		err = workspaces.E(workspaces.KindUnauthenticated, "Missing token or connection_string")
	}
	if err != nil {
		writeHTTPError(w, err)
		return a, false
	}
	return a, true
}

// writeHTTPError answers a request refused before it became a stream, with
// {"error": {code, message}, "msg": message}.
func writeHTTPError(w http.ResponseWriter, err error) {
	ae := failure(err)["error"].(*ackError)
	status, ok := httpStatus[ae.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": ae, "msg": ae.Message})
}

// frame is a client request on /ws.
type frame struct {
	Type string          `json:"type"`
	ID   json.RawMessage `json:"id"`
	Data json.RawMessage `json:"data"`
}

// parseFrame decodes one client frame. The id, if any, must be a number or
// a string of at most 64 bytes; it comes back in the ack untouched.
func parseFrame(data []byte) (frame, error) {
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "type" {
			return frame{}, invalid("type must be a string")
		}
		return frame{}, invalid("a frame must be a JSON object {\"type\", \"id\", \"data\"}")
	}
	if len(f.ID) > 0 {
		id := bytes.TrimSpace(f.ID)
		if len(id) > 66 || !(id[0] == '"' || id[0] == '-' || (id[0] >= '0' && id[0] <= '9') || bytes.Equal(id, []byte("null"))) {
			return frame{}, invalid("id must be a number or a short string")
		}
		f.ID = id
	}
	if f.Type == "" {
		return f, invalid("type is required")
	}
	return f, nil
}
