package main

// Reading the event envelope every transport delivers,
// {"seq","chat_id","workspace_id","type","run_id","data","ts"}, fast: a
// watcher reads tens of thousands a second.

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
)

// kind is an envelope's type, as far as the load generator cares.
type kind uint8

const (
	kindOther kind = iota
	kindMessage
	kindStarted
	kindDelta
	kindCompleted
	kindFailed
	kindCancelled
)

var kinds = map[string]kind{
	"message.created": kindMessage,
	"run.started":     kindStarted,
	"run.delta":       kindDelta,
	"run.completed":   kindCompleted,
	"run.failed":      kindFailed,
	"run.cancelled":   kindCancelled,
}

func kindOf(b []byte) kind {
	return kinds[string(b)] // no allocation: the compiler keys the map lookup on the bytes
}

// terminal reports whether k ends a run.
func (k kind) terminal() bool { return k == kindCompleted || k == kindFailed || k == kindCancelled }

// envelope is the part of an event the load generator reads. runID points
// into the frame it was read from and is valid only while that frame is.
type envelope struct {
	seq   uint64
	kind  kind
	runID []byte
	ts    time.Time
}

var (
	seqKey  = []byte(`{"seq":`)
	typeKey = []byte(`,"type":"`)
	runKey  = []byte(`","run_id":"`)
	tsKey   = []byte(`,"ts":"`)
)

// parseEnvelope reads an envelope. The server writes its keys in a fixed
// order (seq first, ts last, ids that need no escaping), which the fast
// path relies on; anything else goes through encoding/json.
func parseEnvelope(b []byte) (envelope, bool) {
	var e envelope
	if !bytes.HasPrefix(b, seqKey) {
		return parseEnvelopeSlow(b)
	}
	i := len(seqKey)
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		e.seq = e.seq*10 + uint64(b[j]-'0')
		j++
	}
	if j == i {
		return parseEnvelopeSlow(b)
	}
	rest := b[j:]
	t := bytes.Index(rest, typeKey)
	if t < 0 {
		return parseEnvelopeSlow(b)
	}
	rest = rest[t+len(typeKey):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return parseEnvelopeSlow(b)
	}
	e.kind = kindOf(rest[:end])
	rest = rest[end:]
	if bytes.HasPrefix(rest, runKey) {
		rest = rest[len(runKey):]
		if end = bytes.IndexByte(rest, '"'); end < 0 {
			return parseEnvelopeSlow(b)
		}
		e.runID = rest[:end]
	}
	// ts is the last key, so its last occurrence is the envelope's own
	// (inside data a quote would be escaped).
	k := bytes.LastIndex(b, tsKey)
	if k < 0 {
		return parseEnvelopeSlow(b)
	}
	ts := b[k+len(tsKey):]
	if end = bytes.IndexByte(ts, '"'); end < 0 {
		return parseEnvelopeSlow(b)
	}
	var err error
	if e.ts, err = time.Parse(time.RFC3339Nano, string(ts[:end])); err != nil {
		return parseEnvelopeSlow(b)
	}
	return e, true
}

func parseEnvelopeSlow(b []byte) (envelope, bool) {
	var v struct {
		Seq   *uint64   `json:"seq"`
		Type  string    `json:"type"`
		RunID string    `json:"run_id"`
		TS    time.Time `json:"ts"`
	}
	if err := json.Unmarshal(b, &v); err != nil || v.Seq == nil {
		return envelope{}, false
	}
	return envelope{seq: *v.Seq, kind: kinds[v.Type], runID: []byte(v.RunID), ts: v.TS}, true
}

// ackSeq reads the seq of a join ack (or of SSE's ready event).
func ackSeq(ack json.RawMessage) (uint64, bool) {
	var v struct {
		Seq json.Number `json:"seq"`
	}
	if json.Unmarshal(ack, &v) != nil || v.Seq == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(string(v.Seq), 10, 64)
	return n, err == nil
}
