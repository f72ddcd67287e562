package bus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The chat log's names. Events are published to atrium.chat.<ws>.<chat>;
// the stream stores them and republishes each stored event, in stream order,
// to atrium.live.<ws>.<chat>, which is what live watchers subscribe to. A
// publish the stream refuses (a sequence conflict) is therefore never seen
// by a watcher.
const (
	chatStream   = "ATRIUM_CHAT"
	chatPrefix   = "atrium.chat."
	livePrefix   = "atrium.live."
	seqHeader    = "Atrium-Seq"
	maxAppendTry = 50
)

// ChatSubject is the subject events of chat in workspace ws are published to.
func ChatSubject(ws, chat string) string { return chatPrefix + ws + "." + chat }

// WorkspaceSubject matches the events of every chat of workspace ws, and
// the workspace's own (WorkspaceEventsSubject).
func WorkspaceSubject(ws string) string { return chatPrefix + ws + ".*" }

// WorkspaceEventsSubject is where events of workspace ws that belong to no
// chat (who watches the workspace) are published. They are numbered like a
// chat's, and only the workspace's watchers receive them. Chat ids are hex,
// so no chat has this name.
func WorkspaceEventsSubject(ws string) string { return chatPrefix + ws + ".workspace" }

// LiveSubject is the subject on which the stored events matching subject (a
// ChatSubject or WorkspaceSubject) are republished.
func LiveSubject(subject string) string { return livePrefix + subject[len(chatPrefix):] }

// ChatLogConfig sizes the chat log.
type ChatLogConfig struct {
	// PerChat is how many events are kept for each chat; older ones are
	// dropped. Zero means 10,000. Keeping a count per chat (rather than an
	// age) means the last event of a chat is never dropped, so its sequence
	// number survives any idle time.
	PerChat int64
	// Replicas of the stream on a NATS cluster. Zero means 1.
	Replicas int
}

// Entry is one stored chat event.
type Entry struct {
	// Subject is the ChatSubject the event was published to.
	Subject string
	// Seq is the event's number within its chat: 1, 2, 3, …
	Seq uint64
	// Cursor is the event's position in the whole log, increasing across
	// chats; it orders the events of a workspace.
	Cursor uint64
	// Data is the event as its publisher encoded it.
	Data []byte
}

// ChatLog is the durable, resumable log of chat events in JetStream.
type ChatLog struct {
	conn   *nats.Conn
	stream jetstream.Stream
	app    *appender
}

type chatHead struct{ seq, cursor uint64 }

// ChatLog creates or updates the chat log's stream and returns it.
func (b *Bus) ChatLog(ctx context.Context, cfg ChatLogConfig) (*ChatLog, error) {
	if cfg.PerChat <= 0 {
		cfg.PerChat = 10_000
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	s, err := b.JS.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              chatStream,
		Description:       "Atrium chat events, resumable by sequence",
		Subjects:          []string{chatPrefix + ">"},
		Retention:         jetstream.LimitsPolicy,
		MaxMsgsPerSubject: cfg.PerChat,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          cfg.Replicas,
		AllowDirect:       true,
		RePublish:         &jetstream.RePublish{Source: chatPrefix + ">", Destination: livePrefix + ">"},
	})
	if err != nil {
		return nil, fmt.Errorf("nats: chat log stream: %w", err)
	}
	l := &ChatLog{conn: b.Conn, stream: s}
	if l.app, err = newAppender(l, b.Conn, b.closed); err != nil {
		return nil, err
	}
	return l, nil
}

// ErrConflict means an append kept losing the race for its chat's next
// sequence number to other publishers.
var ErrConflict = errors.New("nats: chat log: too many concurrent appends")

// Append stores one event in the chat of subject, numbering it one past the
// chat's last event, and waits for JetStream to acknowledge it. build encodes
// the event for its number; it may be called again with a higher number when
// another node appended first. It runs on the goroutine that sends every
// append of this process, so it must be quick and must not block.
//
// The appends of one chat are stored in the order Append (or AppendAsync) was
// called. When ctx ends first, Append returns ctx's error; the event is then
// stored or not, but the chat's numbering stays whole.
func (l *ChatLog) Append(ctx context.Context, subject string, build func(seq uint64) ([]byte, error)) (Entry, error) {
	type result struct {
		e   Entry
		err error
	}
	ch := make(chan result, 1)
	l.app.submit(&appendReq{ctx: ctx, subject: subject, build: build, done: func(e Entry, err error) {
		ch <- result{e, err}
	}})
	select {
	case r := <-ch:
		return r.e, r.err
	case <-ctx.Done():
		return Entry{}, ctx.Err()
	}
}

// AppendAsync is Append without the wait: done is called once with the
// stored entry or the error, on the goroutine that sends the appends (so it
// must not block), and never before AppendAsync returns.
func (l *ChatLog) AppendAsync(ctx context.Context, subject string, build func(seq uint64) ([]byte, error), done func(Entry, error)) {
	l.app.submit(&appendReq{ctx: ctx, subject: subject, build: build, done: done})
}

// Last returns the last stored event of chat subject; ok is false when the
// chat has none.
func (l *ChatLog) Last(ctx context.Context, subject string) (e Entry, ok bool, err error) {
	m, err := l.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("nats: last event of %s: %w", subject, err)
	}
	e, err = entryOf(m.Subject, m.Sequence, m.Header, m.Data)
	return e, err == nil, err
}

// Next returns the first stored event at or after cursor whose subject
// matches filter; ok is false when there is none.
func (l *ChatLog) Next(ctx context.Context, filter string, cursor uint64) (e Entry, ok bool, err error) {
	if cursor == 0 {
		cursor = 1
	}
	m, err := l.stream.GetMsg(ctx, cursor, jetstream.WithGetMsgSubject(filter))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("nats: read %s from %d: %w", filter, cursor, err)
	}
	e, err = entryOf(m.Subject, m.Sequence, m.Header, m.Data)
	return e, err == nil, err
}

// CursorAfter finds where the events of chat subject numbered above seq
// begin. It returns the cursor of event seq+1, or ok false when that event is
// no longer kept (or does not exist yet), in which case a reader cannot
// replay from seq without a gap.
func (l *ChatLog) CursorAfter(ctx context.Context, subject string, seq uint64) (cursor uint64, ok bool, err error) {
	last, any, err := l.Last(ctx, subject)
	if err != nil || !any || last.Seq <= seq {
		return 0, false, err
	}
	first, _, err := l.Next(ctx, subject, 1)
	if err != nil {
		return 0, false, err
	}
	if first.Seq > seq+1 {
		return 0, false, nil
	}
	// Binary search over cursors: find the event numbered seq+1.
	lo, hi := first.Cursor, last.Cursor
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, found, err := l.Next(ctx, subject, mid)
		if err != nil {
			return 0, false, err
		}
		switch {
		case !found:
			hi = mid
		case e.Seq == seq+1:
			return e.Cursor, true, nil
		case e.Seq <= seq:
			lo = e.Cursor + 1
		default:
			hi = mid
		}
	}
	e, found, err := l.Next(ctx, subject, lo)
	if err != nil || !found || e.Seq != seq+1 {
		return 0, false, err
	}
	return e.Cursor, true, nil
}

// Read calls fn for each stored event matching filter from cursor on, in
// order, up to and including cursor upTo (0 means to the end of the log as
// it is now). It stops at fn's first error.
func (l *ChatLog) Read(ctx context.Context, filter string, cursor, upTo uint64, fn func(Entry) error) error {
	for {
		e, ok, err := l.Next(ctx, filter, cursor)
		if err != nil {
			return err
		}
		if !ok || (upTo != 0 && e.Cursor > upTo) {
			return nil
		}
		if err := fn(e); err != nil {
			return err
		}
		cursor = e.Cursor + 1
	}
}

// Bounds returns the cursors of the first and last events kept in the whole
// log (first is last+1 when it is empty).
func (l *ChatLog) Bounds(ctx context.Context) (first, last uint64, err error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("nats: chat log info: %w", err)
	}
	return info.State.FirstSeq, info.State.LastSeq, nil
}

// Purge drops every stored event of chat subject (when the chat is deleted).
func (l *ChatLog) Purge(ctx context.Context, subject string) error {
	l.app.submit(&appendReq{subject: subject}) // forget its head
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSubject(subject)); err != nil {
		return fmt.Errorf("nats: purge %s: %w", subject, err)
	}
	return nil
}

// Subscribe delivers, in log order, each event stored from now on whose
// subject matches filter (a ChatSubject or WorkspaceSubject). fn runs on one
// goroutine per subscription and must not block for long.
func (l *ChatLog) Subscribe(filter string, fn func(Entry)) (*nats.Subscription, error) {
	var last string // the previous event's subject; a chat's events share it
	sub, err := l.conn.Subscribe(LiveSubject(filter), func(m *nats.Msg) {
		cursor, _ := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
		// The header's strings share one buffer with all the headers, and
		// m.Data one with the whole message. Subscribers keep recent
		// events (a hub room keeps up to 64 KiB), so an entry holds copies
		// of just what it needs: about a third of the memory.
		subject := m.Header.Get(jetstream.SubjectHeader)
		if subject == last {
			subject = last
		} else {
			subject = strings.Clone(subject)
			last = subject
		}
		e, err := entryOf(subject, cursor, m.Header, bytes.Clone(m.Data))
		if err != nil {
			return
		}
		fn(e)
	})
	if err != nil {
		return nil, fmt.Errorf("nats: subscribe %s: %w", filter, err)
	}
	// Watchers of busy chats get bursts; let the client buffer them rather
	// than drop them as a slow consumer.
	_ = sub.SetPendingLimits(1<<20, 256<<20)
	// Once Subscribe returns, every event stored from then on is delivered:
	// wait until the server has the subscription.
	if err := l.conn.FlushTimeout(10 * time.Second); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("nats: subscribe %s: %w", filter, err)
	}
	return sub, nil
}

func entryOf(subject string, cursor uint64, h nats.Header, data []byte) (Entry, error) {
	seq, err := strconv.ParseUint(h.Get(seqHeader), 10, 64)
	if err != nil || seq == 0 {
		return Entry{}, fmt.Errorf("nats: event %d on %s has no sequence number", cursor, subject)
	}
	return Entry{Subject: subject, Seq: seq, Cursor: cursor, Data: data}, nil
}

func isWrongLast(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}
