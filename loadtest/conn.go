package main

// One live connection to Atrium, whatever its transport, and what the
// transports share: dialing by name, request/ack bookkeeping and the sink
// that receives events.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Transport names, as -transport takes them.
const (
	transportWS  = "ws"
	transportSIO = "sio"
	transportSSE = "sse"
)

// sink receives what a connection delivers, on the connection's reader
// goroutine, in order.
type sink interface {
	// joined is called with the chat's seq from the join ack (or SSE's
	// ready event), before any event that follows the join.
	joined(seq uint64)
	// event is called with each event envelope and the time its frame
	// was read. env is valid only during the call.
	event(env []byte, recv time.Time)
}

// conn is a connection joined to one chat.
type conn interface {
	// send posts a message to the chat and returns the runs it started.
	send(ctx context.Context, chat, messageString, content, clientID string) ([]string, error)
	// close disconnects; done is closed once the reader has stopped.
	close()
	done() <-chan struct{}
	// failure is why the connection ended on its own, or nil (read it
	// after done is closed).
	failure() error
}

// connect opens a connection over transport to base with token, joins chat
// and returns once the join is acknowledged, with the chat's seq then.
func connect(ctx context.Context, transport, base, token, chat string, s sink) (conn, uint64, error) {
	switch transport {
	case transportWS:
		return connectWS(ctx, base, token, chat, s)
	case transportSIO:
		return connectSIO(ctx, base, token, chat, s)
	case transportSSE:
		return connectSSE(ctx, base, token, chat, s)
	}
	return nil, 0, fmt.Errorf("unknown transport %q (want ws, sio or sse)", transport)
}

// dialClient is the HTTP client WebSocket handshakes go through: no
// connection reuse limit, a dial timeout, nothing else.
var dialClient = &http.Client{Transport: &http.Transport{
	DialContext:       (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	DisableKeepAlives: true,
	ForceAttemptHTTP2: false,
}}

// wsBase turns http://host:port into ws://host:port.
func wsBase(base string) string {
	if rest, ok := strings.CutPrefix(base, "https://"); ok {
		return "wss://" + rest
	}
	return "ws://" + strings.TrimPrefix(base, "http://")
}

// ackError is a refused request: {"ok":false,"error":{code,message}}.
type ackError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *ackError) Error() string { return e.Code + ": " + e.Message }

// checkAck returns the error of a refused ack.
func checkAck(ack json.RawMessage) error {
	var v struct {
		OK    bool      `json:"ok"`
		Error *ackError `json:"error"`
	}
	if err := json.Unmarshal(ack, &v); err != nil {
		return fmt.Errorf("malformed ack %.200s", ack)
	}
	if !v.OK {
		if v.Error != nil {
			return v.Error
		}
		return fmt.Errorf("refused: %.200s", ack)
	}
	return nil
}

// sendAckRuns reads the runs of a message ack.
func sendAckRuns(ack json.RawMessage) ([]string, error) {
	if err := checkAck(ack); err != nil {
		return nil, err
	}
	var v struct {
		Runs []string `json:"runs"`
	}
	if err := json.Unmarshal(ack, &v); err != nil {
		return nil, err
	}
	return v.Runs, nil
}

// pending tracks requests waiting for their acks, by id.
type pending struct {
	mu      sync.Mutex
	next    int64
	waiting map[int64]*call
}

// call is one request waiting for its ack.
type call struct {
	join bool // a join: the sink hears its seq on the reader goroutine
	ack  chan json.RawMessage
}

func (p *pending) add(join bool) (int64, *call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.waiting == nil {
		p.waiting = make(map[int64]*call)
	}
	p.next++
	c := &call{join: join, ack: make(chan json.RawMessage, 1)}
	p.waiting[p.next] = c
	return p.next, c
}

func (p *pending) drop(id int64) {
	p.mu.Lock()
	delete(p.waiting, id)
	p.mu.Unlock()
}

// resolve hands ack to the request id, telling s the seq first when it is
// an accepted join. ack must not be reused by the caller.
func (p *pending) resolve(id int64, ack json.RawMessage, s sink) {
	p.mu.Lock()
	c := p.waiting[id]
	delete(p.waiting, id)
	p.mu.Unlock()
	if c == nil {
		return
	}
	if c.join && checkAck(ack) == nil {
		if seq, ok := ackSeq(ack); ok {
			s.joined(seq)
		}
	}
	c.ack <- ack
}

// wait waits for c's ack, the connection's end or ctx.
func (c *call) wait(ctx context.Context, done <-chan struct{}, fail func() error) (json.RawMessage, error) {
	select {
	case ack := <-c.ack:
		return ack, nil
	case <-done:
		if err := fail(); err != nil {
			return nil, err
		}
		return nil, errors.New("connection closed")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// readMessage reads r to its end into buf[:0], growing it as needed.
func readMessage(buf []byte, r io.Reader) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
