package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/coder/websocket"

	"github.com/atrium-hq/atrium/workspaces"
)

// WebSocket close codes for the disconnect reasons (4000–4999 are the
// application's own).
var closeCodes = map[string]websocket.StatusCode{
	reasonAuthExpired:  4001,
	reasonAuthRevoked:  4003,
	reasonSlowConsumer: 4008,
	reasonShutdown:     websocket.StatusGoingAway,
}

// wsTransport is a client on /ws: JSON text frames, requests
// {"type","id","data"} answered by {"type":"ack","id","data"}, events as
// {"type":"event","data":envelope}.
type wsTransport struct {
	conn *websocket.Conn
	out  *outbox
}

func (t *wsTransport) sendEvent(e *outEvent) bool  { return t.out.push(e.wsFrame()) }
func (t *wsTransport) sendReplay(e *outEvent) bool { return t.out.pushMust(e.wsFrame()) }
func (t *wsTransport) control(name string, data any) {
	t.out.pushMust(controlFrame(name, data))
}

func (t *wsTransport) close(reason string) {
	t.out.close()
	code, ok := closeCodes[reason]
	if !ok {
		code = websocket.StatusPolicyViolation
	}
	t.conn.Close(code, reason)
}

// write sends frames in order. It sets no deadline of its own: a client
// that stops reading fills its queue and is disconnected, and closing the
// connection ends a blocked write.
func (t *wsTransport) write(frames [][]byte) error {
	ctx := context.Background()
	for _, f := range frames {
		if err := t.conn.Write(ctx, websocket.MessageText, f); err != nil {
			return err
		}
	}
	return nil
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

func (h *Hub) serveWS(w http.ResponseWriter, r *http.Request) {
	a, ok := requestCredentials(w, r)
	if !ok {
		return
	}
	c := newClient(h, nil)
	var err error
	onFreshStack(func() { err = c.authenticate(r.Context(), a) })
	if err != nil {
		h.clients.Add(-1)
		writeHTTPError(w, err)
		return
	}
	opts := &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled, InsecureSkipVerify: len(h.cfg.CORSOrigins) == 0, OriginPatterns: h.cfg.CORSOrigins}
	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		c.disconnected()
		return // Accept has answered
	}
	conn.SetReadLimit(h.cfg.MaxFrameBytes)
	t := &wsTransport{conn: conn}
	t.out = newOutbox(h.cfg.SendQueue, t.write)
	c.t = t
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	stop := context.AfterFunc(h.ctx, func() { t.close(reasonShutdown) })
	defer stop()
	defer c.disconnected()

	c.start()
	onFreshStack(func() { c.autoJoin(ctx, a.Since) })
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig || errors.Is(err, websocket.ErrMessageTooBig) {
				t.out.close()
			}
			return
		}
		if typ != websocket.MessageText {
			t.out.pushMust(ackFrame(nil, failure(invalid("frames must be JSON text"))))
			continue
		}
		f, err := parseFrame(data)
		if err != nil {
			t.out.pushMust(ackFrame(f.ID, failure(err)))
			continue
		}
		onFreshStack(func() {
			ack, then := c.handle(ctx, f.Type, f.Data)
			t.out.pushMust(ackFrame(f.ID, ack))
			if then != nil {
				then()
			}
		})
	}
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
