package agents

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/atrium-hq/atrium/persistence/bus"
	"github.com/atrium-hq/atrium/workspaces"
)

// EventType names what happened in a chat.
type EventType string

// The event vocabulary every transport delivers.
const (
	EventMessageCreated EventType = "message.created" // a person's message, with its author
	EventRunStarted     EventType = "run.started"     // an agent began answering
	EventRunDelta       EventType = "run.delta"       // data.text: the next piece of the answer
	EventToolCall       EventType = "tool.call"       // the agent called a tool
	EventToolResult     EventType = "tool.result"     // a tool answered
	EventRunCompleted   EventType = "run.completed"   // data.message: the whole answer
	EventRunFailed      EventType = "run.failed"      // data.error: why
	EventRunCancelled   EventType = "run.cancelled"   // someone stopped the run
	EventPresenceJoined EventType = "presence.joined" // someone started watching
	EventPresenceLeft   EventType = "presence.left"   // someone stopped watching
	EventTyping         EventType = "typing"          // someone is typing
)

// Events appends events to chats. Every event of a chat gets the next number
// of that chat's sequence (1, 2, 3, … on every node) and is kept in the chat
// log, from which watchers resume.
type Events struct {
	log *bus.ChatLog
	now func() time.Time
}

// eventSubject is where the events of chat in ws (chat empty: of ws
// itself) are appended.
func eventSubject(ws workspaces.WorkspaceID, chat workspaces.ChatID) string {
	if chat == "" {
		return bus.WorkspaceEventsSubject(string(ws))
	}
	return bus.ChatSubject(string(ws), string(chat))
}

// NewEvents returns an Events writing to log.
func NewEvents(log *bus.ChatLog) *Events { return &Events{log: log, now: time.Now} }

// Log is the chat log the events are written to.
func (e *Events) Log() *bus.ChatLog { return e.log }

// Publish appends one event of type typ to chat in ws and returns its
// sequence number. data is encoded as JSON; runID may be empty. An empty
// chat publishes an event of the workspace itself, which its watchers
// receive with chat_id "" (bus.WorkspaceEventsSubject).
//
// The envelope is {seq, chat_id, workspace_id, type, run_id?, data, ts}.
func (e *Events) Publish(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID, typ EventType, runID string, data any) (uint64, error) {
	build, err := e.builder(ws, chat, typ, runID, data)
	if err != nil {
		return 0, err
	}
	entry, err := e.log.Append(ctx, eventSubject(ws, chat), build)
	if err != nil {
		return 0, err
	}
	return entry.Seq, nil
}

// PublishAsync is Publish without the wait: done gets the event's number or
// the error once the chat log has answered. done runs on the chat log's
// sending goroutine, so it must not block, and it is never called before
// PublishAsync returns. An error returned here (the data does not encode)
// means done is not called.
//
// at, when not zero, is the event's ts: when what it says happened (a
// delta's first token), which can be earlier than its publishing.
func (e *Events) PublishAsync(ctx context.Context, ws workspaces.WorkspaceID, chat workspaces.ChatID, typ EventType, runID string, data any, at time.Time, done func(uint64, error)) error {
	build, err := e.builderAt(ws, chat, typ, runID, data, at)
	if err != nil {
		return err
	}
	e.log.AppendAsync(ctx, eventSubject(ws, chat), build, func(entry bus.Entry, err error) {
		done(entry.Seq, err)
	})
	return nil
}

// builder encodes data now, stamps the event with the time, and returns
// what writes its envelope once its number is known.
func (e *Events) builder(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ EventType, runID string, data any) (func(uint64) ([]byte, error), error) {
	return e.builderAt(ws, chat, typ, runID, data, time.Time{})
}

// builderAt is builder with the event's time at (zero: now).
func (e *Events) builderAt(ws workspaces.WorkspaceID, chat workspaces.ChatID, typ EventType, runID string, data any, at time.Time) (func(uint64) ([]byte, error), error) {
	payload, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", typ, err)
	}
	ts := at.UTC()
	if at.IsZero() {
		ts = e.now().UTC()
	}
	return func(seq uint64) ([]byte, error) {
		return encodeEnvelope(seq, ws, chat, typ, runID, payload, ts), nil
	}, nil
}

// encodeEnvelope writes the envelope by hand: it runs for every token of
// every answer, and the ids and types need no escaping.
func encodeEnvelope(seq uint64, ws workspaces.WorkspaceID, chat workspaces.ChatID, typ EventType, runID string, data []byte, ts time.Time) []byte {
	b := make([]byte, 0, 160+len(data))
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, `,"chat_id":"`...)
	b = append(b, chat...)
	b = append(b, `","workspace_id":"`...)
	b = append(b, ws...)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, '"')
	if runID != "" {
		b = append(b, `,"run_id":"`...)
		b = append(b, runID...)
		b = append(b, '"')
	}
	b = append(b, `,"data":`...)
	b = append(b, data...)
	b = append(b, `,"ts":"`...)
	b = ts.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `"}`...)
	return b
}

// Envelope is a decoded event, for readers that need its fields.
type Envelope struct {
	Seq         uint64          `json:"seq"`
	ChatID      string          `json:"chat_id"`
	WorkspaceID string          `json:"workspace_id"`
	Type        EventType       `json:"type"`
	RunID       string          `json:"run_id,omitempty"`
	Data        json.RawMessage `json:"data"`
	TS          time.Time       `json:"ts"`
}
