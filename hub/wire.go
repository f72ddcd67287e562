package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// The events a client sends. Every one is acknowledged with {ok:true, ...}
// or {ok:false, error:{code, message}}.
type (
	joinReq struct {
		ChatID string  `json:"chat_id"`
		Since  *uint64 `json:"since"`
	}
	joinWorkspaceReq struct {
		WorkspaceID string  `json:"workspace_id"`
		Since       *uint64 `json:"since"`
	}
	leaveReq struct {
		ChatID      string `json:"chat_id"`
		WorkspaceID string `json:"workspace_id"`
	}
	messageReq struct {
		ChatID        string `json:"chat_id"`
		MessageString string `json:"message_string"`
		Content       string `json:"content"`
		ClientID      string `json:"client_id"`
	}
	typingReq struct {
		ChatID string `json:"chat_id"`
	}
	stopReq struct {
		ChatID string `json:"chat_id"`
		RunID  string `json:"run_id"`
	}
	refreshReq struct {
		Token            string `json:"token"`
		ConnectionString string `json:"connection_string"`
	}
	authReq struct {
		Token            string  `json:"token"`
		ConnectionString string  `json:"connection_string"`
		Since            *uint64 `json:"since"`
	}
)

// Error codes in acks and disconnect reasons.
const (
	codeInvalid      = "invalid"
	codeUnknownEvent = "unknown_event"
	codeRateLimited  = "rate_limited"

	// Disconnect reasons, documented in the README.
	reasonSlowConsumer = "slow_consumer" // the send queue overflowed
	reasonAuthExpired  = "auth_expired"  // the token expired without a refresh
	reasonAuthRevoked  = "auth_revoked"  // the connection string stopped working
	reasonShutdown     = "server_shutdown"
)

// ackError is an ack's error part.
type ackError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// failure builds a failed ack from err.
func failure(err error) map[string]any {
	var ae *ackError
	if errors.As(err, &ae) {
		return map[string]any{"ok": false, "error": ae}
	}
	kind := workspaces.ErrorKind(err)
	return map[string]any{"ok": false, "error": &ackError{Code: kind.String(), Message: workspaces.ErrorMessage(err)}}
}

func (e *ackError) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &ackError{Code: codeInvalid, Message: fmt.Sprintf(format, args...)}
}

// decode reads a client payload into v, strictly: wrong types, unknown
// shapes and trailing data are refused with a message naming the field.
func decode(data json.RawMessage, v any) error {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return invalid("the event needs an object payload")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field == "" {
				return invalid("the payload must be an object")
			}
			return invalid("%s must be %s", te.Field, jsonKind(te.Type.String()))
		}
		return invalid("the payload is not valid JSON: %v", err)
	}
	if dec.More() {
		return invalid("the payload must be one JSON object")
	}
	return nil
}

func jsonKind(goType string) string {
	switch goType {
	case "string":
		return "a string"
	case "uint64", "*uint64":
		return "a non-negative integer"
	default:
		return "of the documented type"
	}
}

// outEvent is an event on its way to clients. Its frames are encoded once,
// on first use, and shared by every client of a room (the room hands it out
// under its lock, so no further locking is needed).
type outEvent struct {
	bus.Entry
	key          uint64 // seq in a chat room, cursor in a workspace room
	ws, sse, sio []byte
	inline       bool // few watch it: write it on the room's goroutine
}

func newOutEvent(e bus.Entry, key uint64) *outEvent { return &outEvent{Entry: e, key: key} }

// prepare builds every frame of e now, so that several goroutines can
// send it at once (the frames are otherwise built on first use).
func (e *outEvent) prepare() {
	e.wsFrame()
	e.sioFrame()
	e.sseFrame()
}

// wsFrame is the event as a whole WebSocket frame for /ws: server frames
// are not masked, so the same bytes go to every client.
func (e *outEvent) wsFrame() []byte {
	if e.ws == nil {
		e.ws = textFrame(eventFrame(e.Data))
	}
	return e.ws
}

// sioFrame is the event as a WebSocket frame carrying the Engine.IO message
// of the Socket.IO packet 2["event",envelope]: 42["event",{…}].
func (e *outEvent) sioFrame() []byte {
	if e.sio == nil {
		b := make([]byte, 0, len(e.Data)+12)
		b = append(b, `42["event",`...)
		b = append(b, e.Data...)
		e.sio = textFrame(append(b, ']'))
	}
	return e.sio
}

// sseFrame is the event as a server-sent event whose id is its key.
func (e *outEvent) sseFrame() []byte {
	if e.sse == nil {
		b := make([]byte, 0, len(e.Data)+32)
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, e.key, 10)
		b = append(b, "\ndata: "...)
		b = append(b, e.Data...)
		e.sse = append(b, "\n\n"...)
	}
	return e.sse
}

// eventFrame is a server → client event on /ws: {"type":"event","data":…}.
func eventFrame(envelope []byte) []byte {
	b := make([]byte, 0, len(envelope)+26)
	b = append(b, `{"type":"event","data":`...)
	b = append(b, envelope...)
	return append(b, '}')
}

// ackFrame is the reply to a /ws request: {"type":"ack","id":…,"data":…}.
func ackFrame(id json.RawMessage, ack any) []byte {
	data, err := json.Marshal(ack)
	if err != nil {
		data = []byte(`{"ok":false,"error":{"code":"internal","message":"Internal server error"}}`)
	}
	b := make([]byte, 0, len(data)+len(id)+32)
	b = append(b, `{"type":"ack","id":`...)
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b = append(b, id...)
	b = append(b, `,"data":`...)
	b = append(b, data...)
	return append(b, '}')
}

// controlFrame is a server → client control message on /ws.
func controlFrame(typ string, data any) []byte {
	d, _ := json.Marshal(data)
	return []byte(`{"type":` + strconv.Quote(typ) + `,"data":` + string(d) + `}`)
}
